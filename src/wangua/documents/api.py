"""Document endpoints: upload (staff), list and download (public once published)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from wangua.documents import service
from wangua.documents.models import Document
from wangua.documents.storage import DocumentStore
from wangua.kit.problems import Problem, not_found
from wangua.lots.models import Lot
from wangua.runtime import Actor, Runtime
from wangua.web import ObjectId, OptionalActor, RuntimeDep, role

router = APIRouter(prefix="/api/v1", tags=["documents"])


def store(rt: Runtime) -> DocumentStore:
    return DocumentStore(rt.settings.data_dir / "documents")


async def receive(
    rt: Runtime, actor: Actor, lot_id: int, kind: str, file: UploadFile
) -> dict[str, Any]:
    """R-08: read an uploaded file, store it by its SHA-256 and record it as one of the
    lot's documents; the API and the staff pages both upload through here."""
    data = await file.read(service.MAX_BYTES + 1)
    if len(data) > service.MAX_BYTES:
        raise Problem(413, "DOCUMENT_TOO_LARGE", "文件过大", "单个文件不得超过 50 MiB")
    if not data:
        raise Problem(422, "DOCUMENT_EMPTY", "文件为空")

    def save() -> dict[str, Any]:
        sha256 = store(rt).put(data)
        with rt.work(actor) as work:
            document = service.add_document(
                work,
                lot_id,
                kind,
                file.filename or kind,
                file.content_type or "application/octet-stream",
                len(data),
                sha256,
            )
            lot = work.session.get(Lot, lot_id)
            assert lot is not None
            return service.document_view(document, lot.asset_type)

    return await run_in_threadpool(save)


@router.post("/lots/{lot_id}/documents", status_code=201)
async def upload(
    lot_id: ObjectId,
    rt: RuntimeDep,
    actor: Annotated[Actor, Depends(role("staff"))],
    kind: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
) -> dict[str, Any]:
    """R-08: store a listing document; the answer carries its SHA-256."""
    return await receive(rt, actor, lot_id, kind, file)


def _readable(lot: Lot | None, actor: Actor | None) -> bool:
    if lot is None:
        return False
    return lot.status != "draft" or (
        actor is not None and actor.has("staff") and actor.grantor == lot.grantor
    )


@router.get("/lots/{lot_id}/documents")
def list_documents(lot_id: ObjectId, rt: RuntimeDep, actor: OptionalActor) -> list[dict[str, Any]]:
    with rt.public_read(actor) as session:
        lot = session.get(Lot, lot_id)
        if lot is None or not _readable(lot, actor):
            raise not_found("地块")
        return [
            service.document_view(d, lot.asset_type) for d in service.lot_documents(session, lot_id)
        ]


@router.get("/lots/{lot_id}/documents/{document_id}")
def download(
    lot_id: ObjectId, document_id: ObjectId, rt: RuntimeDep, actor: OptionalActor
) -> Response:
    """The file exactly as stored; `X-Content-SHA256` lets anyone check it."""
    with rt.read() as session:
        document = session.get(Document, document_id)
        if document is None or document.lot_id != lot_id:
            raise not_found("文件")
        if not _readable(session.get(Lot, lot_id), actor):
            raise not_found("文件")
    data = store(rt).get(document.sha256)
    if data is None:
        raise Problem(500, "DOCUMENT_UNAVAILABLE", "文件暂不可用", "存储的文件缺失或与其哈希不符")
    disposition = f"attachment; filename*=UTF-8''{quote(document.filename)}"
    return Response(
        data,
        media_type=document.content_type,
        headers={"Content-Disposition": disposition, "X-Content-SHA256": document.sha256},
    )
