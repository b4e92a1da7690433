"""Matching bank credits to applications and granting qualification (R-16a … R-16c).

A credit finds its application by the virtual sub-account it was paid to or by the
order number in its memo. It counts toward qualification only when credited (the
bank's time, not the message's arrival) by the deposit deadline; late, short,
unmatched and surplus money never qualifies anyone and is refunded (R-16b).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from wangua.applications.models import Application
from wangua.audit.service import lot_stream, record
from wangua.deposits import accounts, refunds
from wangua.deposits.models import DEFAULT_BANK, Guarantee, Payment
from wangua.kit import ids
from wangua.lots.models import Lot
from wangua.lots.repository import lock_lot
from wangua.runtime import Work
from wangua.scheduler.service import catch_up

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


def is_duplicate(work: Work, bank_code: str, txn_id: str) -> bool:
    found = work.session.scalar(
        select(Payment.id).where(Payment.bank_code == bank_code, Payment.txn_id == txn_id)
    )
    return found is not None


def receive(work: Work, credit: Credit, bank_code: str = DEFAULT_BANK) -> str:
    """R-16a: the sub-account or the order number in the memo is the only key;
    idempotent by the bank's txn_id."""
    if is_duplicate(work, bank_code, credit.txn_id):
        return "duplicate"
    application = _application_for(work, bank_code, credit)
    lot = lock_lot(work, application.lot_id) if application else None
    if lot is not None:
        catch_up(work, lot)
    payment = Payment(
        bank_code=bank_code,
        txn_id=credit.txn_id,
        account_no=credit.account_no,
        amount_fen=credit.amount_fen,
        paid_at=credit.paid_at,
        memo=credit.memo,
        payer_name=credit.payer_name,
        payer_account=credit.payer_account,
        received_at=work.now(),
        application_id=None,
        status="unmatched",
    )
    work.session.add(payment)
    work.session.flush()
    if application is None or lot is None:
        record(
            work,
            "payment.unmatched",
            object_type="payment",
            object_id=payment.id,
            data={"bank": bank_code, "txn_id": credit.txn_id, "amount_fen": credit.amount_fen},
        )
        return "unmatched"
    attach(work, lot, application, payment)
    record(
        work,
        "payment.matched",
        stream=lot_stream(lot.id),
        object_type="payment",
        object_id=payment.id,
        data={
            "bank": bank_code,
            "txn_id": credit.txn_id,
            "amount_fen": credit.amount_fen,
            "application_id": application.id,
            "status": payment.status,
        },
    )
    return "matched"


def attach(work: Work, lot: Lot, application: Application, payment: Payment) -> None:
    """Bind a payment to its application (the lot is locked and caught up): on time it
    may qualify; once the lot has ended it is refunded at once."""
    payment.application_id = application.id
    payment.status = "matched" if payment.paid_at <= lot.deposit_deadline else "late"
    application.paid_fen += payment.amount_fen
    work.session.flush()
    qualify_if_paid(work, lot, application)
    refunds.settle_payment(work, lot, payment)


def _application_for(work: Work, bank_code: str, credit: Credit) -> Application | None:
    by_account = accounts.application_by_account(work.session, bank_code, credit.account_no)
    if by_account is not None:
        return work.session.get(Application, by_account)
    for order_no in ORDER_NO.findall(credit.memo):
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


def guaranteed(work: Work, application: Application) -> int:
    """R-17: the amount of the application's active (or retained) bank guarantee."""
    return (
        work.session.scalar(
            select(func.coalesce(func.sum(Guarantee.amount_fen), 0)).where(
                Guarantee.application_id == application.id,
                Guarantee.status.in_(("active", "retained")),
            )
        )
        or 0
    )


def qualify_if_paid(work: Work, lot: Lot, application: Application) -> None:
    """R-16b, R-16c, R-17: the full deposit credited by the deadline, or a registered
    guarantee, qualifies, with a random bidder number unique within the lot. A late
    or short payment never does."""
    if application.status == "qualified" or lot.status not in ("announced", "listing"):
        return
    covered = max(paid_on_time(work, lot, application), guaranteed(work, application))
    if covered < lot.deposit_fen:
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
