"""The winner completes confirmation at the trading center (R-28b).

The winner signs the confirmation (成交确认书) within 3 working days after the result;
staff record the signing. Once it is recorded the winner cannot be said to have missed
or refused the confirmation (R-44), and the deposit stays earnest money (R-30a).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from wangua.audit.service import lot_stream, record
from wangua.bidding.models import Result
from wangua.deposits.calendar import shanghai_date, working_days_after
from wangua.deposits.models import Guarantee, Refund
from wangua.kit.problems import Problem, forbidden
from wangua.kit.times import rfc3339
from wangua.lots.repository import lock_lot
from wangua.runtime import Work
from wangua.scheduler.service import catch_up

CONFIRMATION_WORKING_DAYS = 3
"""R-28b: the winner completes confirmation within 3 working days."""


def deadline(session: Session, decided_at: datetime) -> date:
    """R-28b: the last day (Asia/Shanghai) of the winner's 3 working days."""
    return working_days_after(session, shanghai_date(decided_at), CONFIRMATION_WORKING_DAYS).day


def forfeited(session: Session, lot_id: int, application_id: int) -> bool:
    """R-44: whether the winner's earnest money or retained guarantee was forfeited."""
    refund = select(Refund.id).where(
        Refund.lot_id == lot_id,
        Refund.application_id == application_id,
        Refund.status == "forfeited",
    )
    guarantee = select(Guarantee.id).where(
        Guarantee.application_id == application_id, Guarantee.status == "claimed"
    )
    found = session.scalar(select(or_(refund.exists(), guarantee.exists())))
    return bool(found)


def record_signing(work: Work, lot_id: int, note: str) -> Result:
    """R-28b: staff record that the winner signed the confirmation, within the deadline
    and while the deposit is still earnest money."""
    lot = lock_lot(work, lot_id)
    if work.actor.grantor != lot.grantor:
        raise forbidden("只能办理本出让人的地块")
    catch_up(work, lot)
    result = work.session.get(Result, lot.id)
    if result is None or lot.status != "sold" or result.winner_application_id is None:
        raise Problem(409, "NOT_CONFIRMABLE", "该地块没有待签订成交确认书的竞得人")
    if result.confirmation_signed_at is not None:
        raise Problem(
            409,
            "CONFIRMATION_ALREADY_SIGNED",
            "成交确认书已登记签订",
            f"已于 {rfc3339(result.confirmation_signed_at)} 登记",
        )
    if forfeited(work.session, lot.id, result.winner_application_id):
        raise Problem(409, "DEPOSIT_FORFEITED", "竞得人保证金已没收,不能登记成交确认")
    last_day = deadline(work.session, result.decided_at)
    if shanghai_date(work.now()) > last_day:
        raise Problem(
            409,
            "CONFIRMATION_OVERDUE",
            "成交确认期限已届满",
            f"竞得人应在 {last_day.isoformat()} 前办理成交确认",
        )
    result.confirmation_signed_at = work.now()
    result.confirmation_recorded_by = work.actor.user_id
    result.confirmation_note = note.strip() or None
    record(
        work,
        "confirmation.signed",
        stream=lot_stream(lot.id),
        object_type="lot",
        object_id=lot.id,
        data={
            "application_id": result.winner_application_id,
            "deadline": last_day.isoformat(),
            "note": result.confirmation_note,
        },
    )
    return result


def confirmation_view(session: Session, result: Result | None) -> dict[str, Any] | None:
    """The winner's deadline and, once recorded, when the confirmation was signed."""
    if result is None or result.winner_application_id is None:
        return None
    return {
        "deadline": deadline(session, result.decided_at).isoformat(),
        "signed_at": rfc3339(result.confirmation_signed_at),
    }


def signing_view(session: Session, result: Result, recorded_by: str) -> dict[str, Any]:
    """The recorded signing and who recorded it."""
    return {
        "lot_id": result.lot_id,
        "application_id": result.winner_application_id,
        **(confirmation_view(session, result) or {}),
        "recorded_by": recorded_by,
        "note": result.confirmation_note,
    }
