"""Bank guarantees (银行保函) registered by staff in place of the deposit (R-17).

A guarantee covering the full deposit, valid from the deposit deadline to past the
listing deadline, qualifies the application like a deposit. When the lot ends it is
released (not refunded), or retained for the winner and claimed under R-44.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from wangua.applications.models import Application
from wangua.audit.service import lot_stream, record
from wangua.deposits.calendar import shanghai_date
from wangua.deposits.models import Guarantee
from wangua.deposits.service import qualify_if_paid
from wangua.kit.money import format_fen
from wangua.kit.problems import Problem, forbidden, not_found
from wangua.kit.times import rfc3339
from wangua.lots.repository import lock_lot
from wangua.runtime import Work
from wangua.scheduler.service import catch_up


def register(
    work: Work,
    application_id: int,
    issuer: str,
    number: str,
    amount_fen: int,
    valid_from: date,
    valid_until: date,
) -> Guarantee:
    application = work.session.get(Application, application_id)
    if application is None:
        raise not_found("竞买申请")
    lot = lock_lot(work, application.lot_id)
    if work.actor.grantor != lot.grantor:
        raise forbidden("只能办理本出让人的地块")
    catch_up(work, lot)
    now = work.now()
    if lot.status not in ("announced", "listing") or now > lot.deposit_deadline:
        raise Problem(409, "DEPOSIT_CLOSED", "保证金交纳已截止,不能再登记保函")
    if not issuer.strip() or not number.strip():
        raise Problem(422, "VALIDATION_ERROR", "须填写出具银行和保函编号")
    if amount_fen < lot.deposit_fen:
        raise Problem(
            422,
            "GUARANTEE_TOO_SMALL",
            "保函金额不足",
            f"保函金额须不低于竞买保证金 {format_fen(lot.deposit_fen)} 元",
        )
    if valid_from > shanghai_date(lot.deposit_deadline) or valid_until < shanghai_date(
        lot.listing_end
    ):
        raise Problem(
            422,
            "GUARANTEE_VALIDITY",
            "保函有效期不足",
            "保函须在保证金截止日前生效,并至少有效至挂牌截止日",
        )
    if (
        work.session.scalar(select(Guarantee.id).where(Guarantee.application_id == application.id))
        is not None
    ):
        raise Problem(409, "GUARANTEE_EXISTS", "该申请已登记保函")
    if (
        work.session.scalar(
            select(Guarantee.id).where(
                Guarantee.issuer == issuer.strip(), Guarantee.number == number.strip()
            )
        )
        is not None
    ):
        raise Problem(409, "GUARANTEE_NUMBER_USED", "该保函编号已登记")
    guarantee = Guarantee(
        lot_id=lot.id,
        application_id=application.id,
        issuer=issuer.strip(),
        number=number.strip(),
        amount_fen=amount_fen,
        valid_from=valid_from,
        valid_until=valid_until,
        status="active",
        registered_by=work.actor.user_id,
        registered_at=now,
    )
    work.session.add(guarantee)
    work.session.flush()
    record(
        work,
        "guarantee.registered",
        stream=lot_stream(lot.id),
        object_type="guarantee",
        object_id=guarantee.id,
        data={
            "application_id": application.id,
            "issuer": guarantee.issuer,
            "number": guarantee.number,
            "amount_fen": amount_fen,
            "valid_from": valid_from.isoformat(),
            "valid_until": valid_until.isoformat(),
        },
    )
    qualify_if_paid(work, lot, application)
    return guarantee


def guarantee_view(guarantee: Guarantee, application: Application) -> dict[str, Any]:
    return {
        "id": guarantee.id,
        "lot_id": guarantee.lot_id,
        "application_id": guarantee.application_id,
        "order_no": application.order_no,
        "application_status": application.status,
        "issuer": guarantee.issuer,
        "number": guarantee.number,
        "amount": format_fen(guarantee.amount_fen),
        "valid_from": guarantee.valid_from.isoformat(),
        "valid_until": guarantee.valid_until.isoformat(),
        "status": guarantee.status,
        "registered_at": rfc3339(guarantee.registered_at),
        "settled_at": rfc3339(guarantee.settled_at),
    }
