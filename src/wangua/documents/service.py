"""Uploading and reading listing documents (R-08, R-10a)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wangua.audit.service import lot_stream, record
from wangua.documents.models import Document
from wangua.kit.problems import Problem, forbidden
from wangua.kit.times import rfc3339
from wangua.lots.assets import document_names
from wangua.lots.repository import lock_lot
from wangua.runtime import Work

KINDS = {
    "announcement": "出让公告",
    "bidder_instructions": "出让须知",
    "planning_indicators": "宗地规划指标要求",
    "boundary_map": "宗地界址图",
    "application_form": "竞买申请书",
    "confirmation_template": "成交确认书",
    "contract_template": "国有建设用地使用权出让合同",
}
"""R-08: the seven kinds of listing document."""

MAX_BYTES = 50 * 1024 * 1024


def add_document(
    work: Work, lot_id: int, kind: str, filename: str, content_type: str, size: int, sha256: str
) -> Document:
    """Record a stored file as one of the lot's documents. Before publication a kind may be
    replaced (the old file stays on record); after it, a document never changes (R-10a)."""
    if kind not in KINDS:
        raise Problem(
            422,
            "UNKNOWN_DOCUMENT_KIND",
            "文件类型不正确",
            f"文件类型须为:{'、'.join(f'{k}({v})' for k, v in KINDS.items())}",
        )
    lot = lock_lot(work, lot_id)
    if work.actor.grantor != lot.grantor:
        raise forbidden("只能办理本出让人的地块")
    current = current_of_kind(work.session, lot.id, kind)
    if current is not None and lot.status != "draft":
        raise Problem(
            409,
            "DOCUMENT_PUBLISHED",
            "已发布的出让文件不得变更",
            "公告发布后出让文件不得擅自变更,如需变更请发布补充公告",
        )
    assert work.actor.user_id is not None
    document = Document(
        lot_id=lot.id,
        kind=kind,
        filename=filename[:255] or kind,
        content_type=content_type[:100] or "application/octet-stream",
        size=size,
        sha256=sha256,
        uploaded_by=work.actor.user_id,
        uploaded_at=work.now(),
    )
    work.session.add(document)
    work.session.flush()
    if current is not None:
        current.superseded_by = document.id
    record(
        work,
        "document.added",
        stream=lot_stream(lot.id),
        object_type="document",
        object_id=document.id,
        data={
            "kind": kind,
            "sha256": sha256,
            "size": size,
            "replaces": current.id if current else None,
        },
    )
    return document


def current_of_kind(session: Session, lot_id: int, kind: str) -> Document | None:
    return session.scalars(
        select(Document).where(
            Document.lot_id == lot_id, Document.kind == kind, Document.superseded_by.is_(None)
        )
    ).one_or_none()


def lot_documents(session: Session, lot_id: int) -> list[Document]:
    return list(
        session.scalars(
            select(Document)
            .where(Document.lot_id == lot_id, Document.superseded_by.is_(None))
            .order_by(Document.id)
        )
    )


def document_view(document: Document, asset_type: str) -> dict[str, Any]:
    names = document_names(asset_type)
    return {
        "id": document.id,
        "kind": document.kind,
        "kind_name": names.get(document.kind, document.kind),
        "filename": document.filename,
        "content_type": document.content_type,
        "size": document.size,
        "sha256": document.sha256,
        "uploaded_at": rfc3339(document.uploaded_at),
        "url": f"/api/v1/lots/{document.lot_id}/documents/{document.id}",
    }
