"""SQL of the quote path: who is quoting on a lot, read in one statement, which also
locks the lot for the writer that judges the quote.

The statements are built once with bound parameters: SQLAlchemy then reuses their cache
keys and compiled forms instead of rebuilding both on every quote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, exists, select
from sqlalchemy.orm import Session

from wangua.applications.models import Application
from wangua.bidding import rules
from wangua.bidding.models import InquiryAnswer, Quote
from wangua.lots.models import ENDED, Lot
from wangua.scheduler.models import Timer

_EARLIER = (
    select(Quote.id)
    .where(
        Quote.lot_id == Lot.id,
        Quote.application_id == Application.id,
        Quote.request_id == bindparam("request_id"),
    )
    .correlate(Lot, Application)
    .scalar_subquery()
)
_DUE = (
    exists()
    .where(Timer.lot_id == Lot.id, Timer.fired_at.is_(None), Timer.due_at <= bindparam("due_by"))
    .correlate(Lot)
)
_LAST_RECEIPT = (
    select(Quote.received_at)
    .where(Quote.lot_id == Lot.id, Quote.seq == Lot.quote_count)
    .correlate(Lot)
    .scalar_subquery()
)
_QUOTING_COLUMNS = (
    Lot.status,
    Lot.listing_start,
    Lot.listing_end,
    Lot.timed_deadline,
    Lot.inquiry_end,
    Lot.start_price_fen,
    Lot.increment_fen,
    Lot.price_cap_fen,
    Lot.highest_fen,
    Lot.leader_application_id,
    Application.id.label("application_id"),
    Application.status.label("application_status"),
    Application.bidder_number,
    InquiryAnswer.joined,
    _EARLIER.label("earlier"),
    _DUE.label("due"),
    _LAST_RECEIPT.label("last_received_at"),
)
_QUOTING = (
    select(*_QUOTING_COLUMNS)
    .select_from(Lot)
    .outerjoin(
        Application,
        and_(Application.lot_id == Lot.id, Application.user_id == bindparam("user_id")),
    )
    .outerjoin(
        InquiryAnswer,
        and_(InquiryAnswer.lot_id == Lot.id, InquiryAnswer.application_id == Application.id),
    )
    .where(Lot.id == bindparam("lot_id"))
)
# The same read with the lot itself, locked (FOR UPDATE on PostgreSQL; on SQLite the
# writer's transaction began IMMEDIATE), or None at once if another transaction holds it.
_LOCKING = _QUOTING.add_columns(Lot).execution_options(populate_existing=True)
_LOCK = _LOCKING.with_for_update(of=Lot)
_LOCK_UNLESS_HELD = _LOCKING.with_for_update(of=Lot, skip_locked=True)


@dataclass(frozen=True)
class Quoting:
    """The lot's standing and the caller's place on it, as last committed."""

    standing: rules.Standing
    bidder: rules.Bidder
    bidder_number: str | None
    earlier_quote_id: int | None  # the caller's quote with this request_id
    timers_due: bool  # a timer of the lot is due by `due_by` and has not fired
    ended: bool  # the lot is decided, voided or terminated: it takes no quote again
    last_received_at: datetime | None  # the receipt time of the lot's latest quote


def quoting(
    session: Session,
    lot_id: int,
    user_id: int | None,
    request_id: str | None,
    due_by: datetime | None,
) -> Quoting | None:
    """One statement on the session's connection (it flushes nothing); None if there is
    no such lot. Without `request_id` there is no earlier quote; without `due_by`, no
    timer is due."""
    row = (
        session.connection()
        .execute(
            _QUOTING,
            {"lot_id": lot_id, "user_id": user_id, "request_id": request_id, "due_by": due_by},
        )
        .one_or_none()
    )
    return None if row is None else _quoting(row)


def lock_quoting(
    session: Session,
    lot_id: int,
    user_id: int | None,
    request_id: str | None,
    due_by: datetime,
    *,
    unless_held: bool = False,
) -> tuple[Lot, Quoting] | None:
    """`quoting` of the lot and the lot itself, locked for this transaction, in one
    statement; None if there is no such lot or, `unless_held`, another transaction holds
    its lock (PostgreSQL)."""
    statement = _LOCK_UNLESS_HELD if unless_held else _LOCK
    row = session.execute(
        statement,
        {"lot_id": lot_id, "user_id": user_id, "request_id": request_id, "due_by": due_by},
    ).one_or_none()
    return None if row is None else (row.Lot, _quoting(row))


def _quoting(row: Row[Any]) -> Quoting:
    return Quoting(
        standing=rules.Standing(
            start_fen=row.start_price_fen,
            increment_fen=row.increment_fen,
            cap_fen=row.price_cap_fen,
            highest_fen=row.highest_fen,
            leader=row.leader_application_id,
            window=rules.quoting_window(
                row.status, row.listing_start, row.listing_end, row.timed_deadline, row.inquiry_end
            ),
        ),
        bidder=rules.Bidder(
            application_id=-1 if row.application_id is None else row.application_id,
            qualified=row.application_status == "qualified",
            joined_timed=bool(row.joined),
        ),
        bidder_number=row.bidder_number,
        earlier_quote_id=row.earlier,
        timers_due=bool(row.due),
        ended=row.status in ENDED,
        last_received_at=row.last_received_at,
    )


def last_receipt(session: Session, lot_id: int) -> datetime | None:
    """The receipt time of the lot's latest quote."""
    return session.scalar(select(_LAST_RECEIPT).select_from(Lot).where(Lot.id == lot_id))
