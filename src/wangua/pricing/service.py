"""Setting the starting price (R-LR28, land-reserve measures Art. 28).

The reserve center proposes it with the appraised price, the bureau reviews it,
the planning committee approves it: three different people. It is never below
the appraised price. Where the deployment requires it, a lot is published only
with an approved price.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wangua.audit.service import lot_stream, record
from wangua.identity.models import User
from wangua.kit.money import format_fen
from wangua.kit.problems import Problem, forbidden
from wangua.kit.times import rfc3339
from wangua.lots.models import Lot
from wangua.lots.repository import lock_lot
from wangua.pricing.models import PriceRecord
from wangua.runtime import Work


def _lot_in_scope(work: Work, lot_id: int) -> Lot:
    lot = lock_lot(work, lot_id)
    if work.actor.grantor != lot.grantor:
        raise forbidden("只能办理本出让人的地块")
    if lot.status != "draft":
        raise Problem(409, "PRICE_LOCKED", "公告发布后起始价不得变更")
    return lot


def propose(work: Work, lot_id: int, appraised_fen: int) -> PriceRecord:
    lot = _lot_in_scope(work, lot_id)
    if lot.start_price_fen < appraised_fen:
        raise Problem(
            422,
            "BELOW_APPRAISED_PRICE",
            "起始价不得低于评估价",
            f"起始价 {format_fen(lot.start_price_fen)} 元低于评估价 {format_fen(appraised_fen)} 元",
        )
    assert work.actor.user_id is not None
    row = work.session.get(PriceRecord, lot.id)
    if row is None:
        row = PriceRecord(
            lot_id=lot.id,
            appraised_fen=appraised_fen,
            proposed_by=work.actor.user_id,
            proposed_at=work.now(),
        )
        work.session.add(row)
    else:  # a new proposal starts the review over
        row.appraised_fen, row.proposed_by, row.proposed_at = (
            appraised_fen,
            work.actor.user_id,
            work.now(),
        )
        row.reviewed_by = row.reviewed_at = row.approved_by = row.approved_at = None
    record(
        work,
        "price.proposed",
        stream=lot_stream(lot.id),
        object_type="lot",
        object_id=lot.id,
        data={"appraised_fen": appraised_fen, "start_price_fen": lot.start_price_fen},
    )
    return row


def review(work: Work, lot_id: int) -> PriceRecord:
    lot = _lot_in_scope(work, lot_id)
    row = work.session.get(PriceRecord, lot.id)
    if row is None:
        raise Problem(409, "PRICE_NOT_PROPOSED", "起始价尚未拟定")
    _different_person(work, row.proposed_by)
    row.reviewed_by, row.reviewed_at = work.actor.user_id, work.now()
    record(work, "price.reviewed", stream=lot_stream(lot.id), object_type="lot", object_id=lot.id)
    return row


def approve(work: Work, lot_id: int) -> PriceRecord:
    lot = _lot_in_scope(work, lot_id)
    row = work.session.get(PriceRecord, lot.id)
    if row is None or row.reviewed_by is None:
        raise Problem(409, "PRICE_NOT_REVIEWED", "起始价尚未审核")
    _different_person(work, row.proposed_by, row.reviewed_by)
    row.approved_by, row.approved_at = work.actor.user_id, work.now()
    record(work, "price.approved", stream=lot_stream(lot.id), object_type="lot", object_id=lot.id)
    return row


def _different_person(work: Work, *others: int | None) -> None:
    if work.actor.user_id in others:
        raise Problem(409, "SAME_PERSON", "拟定、审核、批准须由不同人员办理")


def approved(session: Session, lot_id: int) -> bool:
    row = session.get(PriceRecord, lot_id)
    return row is not None and row.approved_at is not None


def price_view(session: Session, lot: Lot) -> dict[str, Any]:
    row = session.get(PriceRecord, lot.id)

    def who(user_id: int | None) -> str | None:
        user = session.get(User, user_id) if user_id else None
        return user.username if user else None

    return {
        "lot_id": lot.id,
        "start_price": format_fen(lot.start_price_fen),
        "appraised_price": format_fen(row.appraised_fen) if row else None,
        "proposed_by": who(row.proposed_by) if row else None,
        "proposed_at": rfc3339(row.proposed_at) if row else None,
        "reviewed_by": who(row.reviewed_by) if row else None,
        "reviewed_at": rfc3339(row.reviewed_at) if row else None,
        "approved_by": who(row.approved_by) if row else None,
        "approved_at": rfc3339(row.approved_at) if row else None,
        "approved": bool(row and row.approved_at),
    }


def draft_prices(
    session: Session, grantor: str | None, after: int = 0, limit: int | None = None
) -> list[tuple[Lot, dict[str, Any]]]:
    """The grantor's draft lots with a proposed starting price, oldest first (`after`: the
    id of the last lot already seen), each with its price record: what awaits review and
    approval before the announcement."""
    lots = session.scalars(
        select(Lot)
        .join(PriceRecord, PriceRecord.lot_id == Lot.id)
        .where(Lot.grantor == grantor, Lot.status == "draft", Lot.id > after)
        .order_by(Lot.id)
        .limit(limit)
    )
    return [(lot, price_view(session, lot)) for lot in lots]
