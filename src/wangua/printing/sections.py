"""Sections of the lot archive (R-32d) that copy other domains' rows as they stand:
listing documents, supplements, suspensions, and the money (R-16a … R-44)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wangua.announcements.models import Supplement
from wangua.deposits.models import Guarantee, Payment, Refund
from wangua.documents.models import Document
from wangua.documents.service import KINDS
from wangua.kit.money import format_fen
from wangua.kit.times import rfc3339
from wangua.suspension.core import CAUSES
from wangua.suspension.models import Suspension


def listing_documents(session: Session, lot_id: int) -> list[dict[str, Any]]:
    """R-08: every stored listing document with its SHA-256, replaced ones included."""
    rows = session.scalars(select(Document).where(Document.lot_id == lot_id).order_by(Document.id))
    return [
        {
            "id": d.id,
            "kind": d.kind,
            "title": KINDS.get(d.kind, d.kind),
            "filename": d.filename,
            "size": d.size,
            "sha256": d.sha256,
            "uploaded_at": rfc3339(d.uploaded_at),
            "superseded_by": d.superseded_by,
        }
        for d in rows
    ]


def supplements(session: Session, lot_id: int) -> list[dict[str, Any]]:
    """R-10: supplementary notices, with the deadline before and after each."""
    rows = session.scalars(
        select(Supplement).where(Supplement.lot_id == lot_id).order_by(Supplement.id)
    )
    return [
        {
            "id": s.id,
            "title": s.title,
            "body": s.body,
            "major": s.major,
            "published_at": rfc3339(s.published_at),
            "listing_end_before": rfc3339(s.listing_end_before),
            "listing_end_after": rfc3339(s.listing_end_after),
        }
        for s in rows
    ]


def suspensions(session: Session, lot_id: int) -> list[dict[str, Any]]:
    """R-37, R-39: each interruption with its cause and resumption."""
    rows = session.scalars(
        select(Suspension).where(Suspension.lot_id == lot_id).order_by(Suspension.id)
    )
    return [
        {
            "id": s.id,
            "cause": s.cause,
            "cause_text": CAUSES.get(s.cause, ""),
            "note": s.note,
            "from_status": s.from_status,
            "suspended_at": rfc3339(s.suspended_at),
            "resume_at": rfc3339(s.resume_at),
            "resumed_at": rfc3339(s.resumed_at),
        }
        for s in rows
    ]


def money(session: Session, lot_id: int, application_ids: list[int]) -> dict[str, Any]:
    """R-16a … R-44: the lot's bank credits, guarantees, and what became of each."""
    payments = session.scalars(
        select(Payment).where(Payment.application_id.in_(application_ids)).order_by(Payment.id)
    )
    guarantees = session.scalars(
        select(Guarantee).where(Guarantee.lot_id == lot_id).order_by(Guarantee.id)
    )
    refunds = session.scalars(select(Refund).where(Refund.lot_id == lot_id).order_by(Refund.id))
    return {
        "payments": [
            {
                "id": p.id,
                "application_id": p.application_id,
                "bank_code": p.bank_code,
                "txn_id": p.txn_id,
                "amount": format_fen(p.amount_fen),
                "paid_at": rfc3339(p.paid_at),
                "received_at": rfc3339(p.received_at),
                "status": p.status,
                "payer_name": p.payer_name,
                "payer_account": p.payer_account,
            }
            for p in payments
        ],
        "guarantees": [
            {
                "id": g.id,
                "application_id": g.application_id,
                "issuer": g.issuer,
                "number": g.number,
                "amount": format_fen(g.amount_fen),
                "valid_until": g.valid_until.isoformat(),
                "status": g.status,
                "settled_at": rfc3339(g.settled_at),
            }
            for g in guarantees
        ],
        "refunds": [
            {
                "id": r.id,
                "payment_id": r.payment_id,
                "application_id": r.application_id,
                "amount": format_fen(r.amount_fen),
                "status": r.status,
                "due_date": r.due_date.isoformat(),
                "paid_at": rfc3339(r.paid_at),
                "interest": format_fen(r.interest_fen),
                "payee_name": r.payee_name,
                "payee_account": r.payee_account,
            }
            for r in refunds
        ],
    }
