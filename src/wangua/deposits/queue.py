"""The finance queue: money that qualifies nobody and waits for a person (R-16b).

Unmatched credits, late credits and short deposits of rejected applications. A
finance officer may assign an unmatched credit to an application, only with a
written reason, and it is then judged by the same rules (a late credit still does
not qualify); or send it back to the payer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from wangua.applications.models import Application
from wangua.audit.service import lot_stream, record
from wangua.config import Settings
from wangua.deposits import refunds
from wangua.deposits.banks import banks, serves
from wangua.deposits.models import Payment, Refund
from wangua.deposits.service import attach
from wangua.kit.money import format_fen
from wangua.kit.problems import Problem, not_found
from wangua.kit.times import rfc3339
from wangua.lots.models import Lot
from wangua.lots.repository import lock_lot
from wangua.runtime import Work
from wangua.scheduler.service import catch_up

MIN_REASON = 4


def _reason(reason: str) -> str:
    text = reason.strip()
    if len(text) < MIN_REASON:
        raise Problem(
            422, "REASON_REQUIRED", "须填写书面理由", f"理由至少 {MIN_REASON} 个字,将记入审计记录"
        )
    return text


def queue(
    session: Session, settings: Settings, grantor: str | None, after: int, limit: int
) -> list[dict[str, Any]]:
    codes = [code for code in banks(settings) if serves(settings, code, grantor)]
    rows = session.execute(
        select(Payment, Application, Lot)
        .outerjoin(Application, Application.id == Payment.application_id)
        .outerjoin(Lot, Lot.id == Application.lot_id)
        .where(
            Payment.id > after,
            or_(
                (Payment.status == "unmatched") & Payment.bank_code.in_(codes),
                (Lot.grantor == grantor)
                & or_(Payment.status == "late", Application.status == "rejected"),
            ),
        )
        .order_by(Payment.id)
        .limit(limit)
    )
    return [payment_view(p, a, lot) for p, a, lot in rows]


def reason_of(payment: Payment, application: Application | None) -> str:
    if payment.status in ("unmatched", "late", "returned"):
        return payment.status
    if application is not None and application.status == "rejected":
        return "short"
    return "ok"


def payment_view(
    payment: Payment, application: Application | None, lot: Lot | None
) -> dict[str, Any]:
    return {
        "id": payment.id,
        "bank_code": payment.bank_code,
        "txn_id": payment.txn_id,
        "account_no": payment.account_no,
        "amount": format_fen(payment.amount_fen),
        "paid_at": rfc3339(payment.paid_at),
        "received_at": rfc3339(payment.received_at),
        "memo": payment.memo,
        "payer_name": payment.payer_name,
        "payer_account": payment.payer_account,
        "status": payment.status,
        "queue_reason": reason_of(payment, application),
        "application_id": payment.application_id,
        "order_no": application.order_no if application else None,
        "lot_id": lot.id if lot else None,
        "note": payment.note,
    }


def assign(
    work: Work, settings: Settings, payment_id: int, application_id: int, reason: str
) -> dict[str, Any]:
    text = _reason(reason)
    payment = work.session.get(Payment, payment_id)
    if payment is None or not serves(settings, payment.bank_code, work.actor.grantor):
        raise not_found("到账记录")
    application = work.session.get(Application, application_id)
    if application is None:
        raise not_found("竞买申请")
    lot = lock_lot(work, application.lot_id)
    if lot.grantor != work.actor.grantor:
        raise not_found("竞买申请")
    catch_up(work, lot)
    work.session.refresh(payment, with_for_update=True)
    if payment.status != "unmatched":
        raise Problem(409, "NOT_UNMATCHED", "只有未匹配的到账可以人工指定", payment.status)
    payment.note = text
    attach(work, lot, application, payment)
    record(
        work,
        "payment.assigned",
        stream=lot_stream(lot.id),
        object_type="payment",
        object_id=payment.id,
        data={
            "application_id": application.id,
            "reason": text,
            "status": payment.status,
            "amount_fen": payment.amount_fen,
        },
    )
    return {
        **payment_view(payment, application, lot),
        "application_status": application.status,
    }


def send_back(work: Work, settings: Settings, payment_id: int, reason: str) -> Refund:
    text = _reason(reason)
    payment = work.session.scalars(
        select(Payment).where(Payment.id == payment_id).with_for_update()
    ).one_or_none()
    if payment is None or not serves(settings, payment.bank_code, work.actor.grantor):
        raise not_found("到账记录")
    if payment.status != "unmatched":
        raise Problem(409, "NOT_UNMATCHED", "只有未匹配的到账可以直接退回", payment.status)
    return refunds.return_unmatched(work, payment, text)
