"""Matching bank credits to applications and granting qualification (R-16a … R-16c)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from wangua.applications.models import Application
from wangua.audit.service import lot_stream, record
from wangua.deposits.models import Payment
from wangua.kit import ids
from wangua.lots.models import Lot
from wangua.lots.repository import lock_lot
from wangua.runtime import Work

ORDER_NO = re.compile(r"WG\d{18}")


@dataclass(frozen=True)
class Credit:
    txn_id: str
    account_no: str
    amount_fen: int
    paid_at: datetime
    memo: str
    payer_name: str
    payer_account: str


def receive(work: Work, credit: Credit) -> str:
    """R-16a: the order number in the memo is the only key; idempotent by txn_id."""
    if work.session.scalar(select(Payment.id).where(Payment.txn_id == credit.txn_id)) is not None:
        return "duplicate"
    application = _application_for(work, credit.memo)
    lot = lock_lot(work, application.lot_id) if application else None
    payment = Payment(
        txn_id=credit.txn_id,
        account_no=credit.account_no,
        amount_fen=credit.amount_fen,
        paid_at=credit.paid_at,
        memo=credit.memo,
        payer_name=credit.payer_name,
        payer_account=credit.payer_account,
        received_at=work.now(),
        application_id=application.id if application else None,
        status="matched" if application else "unmatched",
    )
    work.session.add(payment)
    work.session.flush()
    if application is None or lot is None:
        record(
            work,
            "payment.unmatched",
            object_type="payment",
            object_id=credit.txn_id,
            data={"amount_fen": credit.amount_fen, "memo": credit.memo},
        )
        return "unmatched"
    application.paid_fen += credit.amount_fen
    record(
        work,
        "payment.matched",
        stream=lot_stream(lot.id),
        object_type="payment",
        object_id=credit.txn_id,
        data={"amount_fen": credit.amount_fen, "application_id": application.id},
    )
    qualify_if_paid(work, lot, application)
    return "matched"


def _application_for(work: Work, memo: str) -> Application | None:
    for order_no in ORDER_NO.findall(memo):
        application = work.session.scalars(
            select(Application).where(Application.order_no == order_no)
        ).one_or_none()
        if application is not None:
            return application
    return None


def paid_on_time(work: Work, lot: Lot, application: Application) -> int:
    return (
        work.session.scalar(
            select(func.coalesce(func.sum(Payment.amount_fen), 0)).where(
                Payment.application_id == application.id, Payment.paid_at <= lot.deposit_deadline
            )
        )
        or 0
    )


def qualify_if_paid(work: Work, lot: Lot, application: Application) -> None:
    """R-16b, R-16c: the full deposit credited by the deadline qualifies, with a random
    bidder number unique within the lot. A late or short payment never does."""
    if application.status == "qualified" or lot.status not in ("announced", "listing"):
        return
    if paid_on_time(work, lot, application) < lot.deposit_fen:
        return
    taken = set(
        work.session.scalars(
            select(Application.bidder_number).where(
                Application.lot_id == lot.id, Application.bidder_number.is_not(None)
            )
        )
    )
    number = ids.bidder_number()
    while number in taken:
        number = ids.bidder_number()
    application.status = "qualified"
    application.bidder_number = number
    application.qualified_at = work.now()
    record(
        work,
        "application.qualified",
        stream=lot_stream(lot.id),
        object_type="application",
        object_id=application.id,
        data={"bidder_number": number},
    )
