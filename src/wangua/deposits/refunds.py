"""What becomes of the deposits when a lot ends (R-30a, R-30b, R-41).

`settle_lot` runs in the transaction that ends the lot (decision, termination): the
winner's deposit becomes earnest money, everything else is due back by its original
route (the paying account) within 5 working days after the lot ends, or held while
the payer is not verified. A payment matched after the lot ended is settled at once.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from wangua.applications.models import Application
from wangua.audit.service import lot_stream, record
from wangua.bidding.models import Result
from wangua.deposits import ledger
from wangua.deposits.calendar import ASSUMED_WARNING, shanghai_date, working_days_after
from wangua.deposits.models import Guarantee, Payment, Refund
from wangua.kit.money import format_fen
from wangua.kit.times import rfc3339
from wangua.lots.models import ENDED, Lot
from wangua.runtime import Work

REFUND_WORKING_DAYS = 5
"""R-30b: refunds are due within 5 working days after the lot ends."""


def payer_verified(payment: Payment) -> bool:
    """R-41 (house rule): a refund can go back by its original route when the bank named
    both the paying account and its holder; otherwise it is held until staff verify
    the payer."""
    return bool(payment.payer_account.strip()) and bool(payment.payer_name.strip())


def settle_lot(work: Work, lot: Lot, at: datetime) -> None:
    """R-30a, R-30b, R-41, R-17: open earnest money and refunds for an ended lot.
    Idempotent: payments already settled are left alone."""
    if lot.status not in ("sold", "unsold", "terminated"):
        return
    work.session.flush()
    winner: int | None = None
    if lot.status == "sold":
        result = work.session.get(Result, lot.id)
        winner = result.winner_application_id if result else None
    applications = {
        a.id: a
        for a in work.session.scalars(select(Application).where(Application.lot_id == lot.id))
    }
    winner_guaranteed = _settle_guarantees(work, lot, winner, at)
    payments = list(
        work.session.scalars(
            select(Payment)
            .where(Payment.application_id.in_(applications), ~_has_refund())
            .order_by(Payment.id)
        )
    )
    facts = [
        ledger.PaymentFact(
            p.id,
            p.amount_fen,
            p.paid_at,
            p.application_id,
            payer_verified(p),
        )
        for p in payments
    ]
    shares = ledger.settle(lot.deposit_fen, lot.deposit_deadline, facts, winner, winner_guaranteed)
    due = working_days_after(work.session, shanghai_date(lot.ended_at or at), REFUND_WORKING_DAYS)
    by_id = {p.id: p for p in payments}
    rows = [
        _row(work, lot, by_id[s.payment], s.amount_fen, s.status, due.day, due.assumed, at)
        for s in shares
    ]
    record(
        work,
        "deposits.settled",
        stream=lot_stream(lot.id),
        object_type="lot",
        object_id=lot.id,
        data={
            "winner_application_id": winner,
            "due_date": due.day.isoformat(),
            "due_date_assumed": due.assumed,
            "rows": [(r.payment_id, r.amount_fen, r.status) for r in rows],
        },
        at=at,
    )


def _has_refund() -> Any:
    return exists().where(Refund.payment_id == Payment.id)


def _settle_guarantees(work: Work, lot: Lot, winner: int | None, at: datetime) -> bool:
    """R-17: guarantees are released, not refunded; the winner's stands as earnest."""
    retained = False
    for guarantee in work.session.scalars(
        select(Guarantee).where(Guarantee.lot_id == lot.id, Guarantee.status == "active")
    ):
        keep = guarantee.application_id == winner
        guarantee.status = "retained" if keep else "released"
        guarantee.settled_at = at
        retained = retained or keep
        record(
            work,
            f"guarantee.{guarantee.status}",
            stream=lot_stream(lot.id),
            object_type="guarantee",
            object_id=guarantee.id,
            data={"application_id": guarantee.application_id},
            at=at,
        )
    return retained


def _row(
    work: Work,
    lot: Lot | None,
    payment: Payment,
    amount_fen: int,
    status: str,
    due: date,
    assumed: bool,
    at: datetime,
) -> Refund:
    row = Refund(
        payment_id=payment.id,
        lot_id=lot.id if lot else None,
        application_id=payment.application_id,
        bank_code=payment.bank_code,
        amount_fen=amount_fen,
        status=status,
        due_date=due,
        due_assumed=assumed,
        payee_name=payment.payer_name,
        payee_account=payment.payer_account,
        created_at=at,
        interest_fen=0,
    )
    work.session.add(row)
    work.session.flush()
    return row


def settle_payment(work: Work, lot: Lot, payment: Payment) -> Refund | None:
    """A payment matched to a lot that has already ended: due back (or held) at once,
    within 5 working days of today."""
    if lot.status not in ENDED or payment.application_id is None:
        return None
    now = work.now()
    start = max(shanghai_date(lot.ended_at or now), shanghai_date(now))
    due = working_days_after(work.session, start, REFUND_WORKING_DAYS)
    status = "due" if payer_verified(payment) else "held"
    row = _row(work, lot, payment, payment.amount_fen, status, due.day, due.assumed, now)
    record(
        work,
        "refund.opened",
        stream=lot_stream(lot.id),
        object_type="refund",
        object_id=row.id,
        data={"payment_id": payment.id, "amount_fen": row.amount_fen, "status": status},
    )
    return row


def return_unmatched(work: Work, payment: Payment, reason: str) -> Refund:
    """R-16b: an unmatched credit sent back to its payer, by a finance officer's decision."""
    now = work.now()
    due = working_days_after(work.session, shanghai_date(now), REFUND_WORKING_DAYS)
    row = _row(work, None, payment, payment.amount_fen, "due", due.day, due.assumed, now)
    row.note = reason
    payment.status = "returned"
    record(
        work,
        "payment.returned",
        object_type="payment",
        object_id=payment.id,
        data={"refund_id": row.id, "amount_fen": payment.amount_fen, "reason": reason},
    )
    return row


def accrued_interest(row: Refund, rate_bp: int, today: date) -> int:
    """R-30b: interest for the days late: final once paid, accruing while overdue."""
    if row.status == "paid":
        return row.interest_fen
    if row.status != "due":
        return 0
    return ledger.interest_fen(row.amount_fen, rate_bp, ledger.days_late(row.due_date, today))


def refund_view(
    row: Refund, order_no: str | None, txn_id: str, rate_bp: int, today: date
) -> dict[str, Any]:
    return {
        "id": row.id,
        "application_id": row.application_id,
        "order_no": order_no,
        "amount": format_fen(row.amount_fen),
        "status": row.status,
        "due_date": row.due_date.isoformat(),
        "interest": format_fen(accrued_interest(row, rate_bp, today)),
        "due_date_assumed": row.due_assumed,
        "warning": ASSUMED_WARNING if row.due_assumed else None,
        "payment_txn_id": txn_id,
        "bank_code": row.bank_code,
        "payee_name": row.payee_name,
        "payee_account": row.payee_account,
        "instructed_at": rfc3339(row.instructed_at),
        "paid_at": rfc3339(row.paid_at),
        "note": row.note,
    }


def one_refund(session: Session, row: Refund, rate_bp: int, today: date) -> dict[str, Any]:
    application = session.get(Application, row.application_id) if row.application_id else None
    payment = session.get(Payment, row.payment_id)
    txn_id = payment.txn_id if payment else ""
    order_no = application.order_no if application else None
    return refund_view(row, order_no, txn_id, rate_bp, today)


def lot_refunds(
    session: Session, lot_id: int, rate_bp: int, today: date, after: int, limit: int
) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Refund, Application.order_no, Payment.txn_id)
        .join(Payment, Payment.id == Refund.payment_id)
        .outerjoin(Application, Application.id == Refund.application_id)
        .where(Refund.lot_id == lot_id, Refund.id > after)
        .order_by(Refund.id)
        .limit(limit)
    )
    return [refund_view(row, order_no, txn, rate_bp, today) for row, order_no, txn in rows]
