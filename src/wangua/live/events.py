"""A lot's ordered event log: appended inside the writer's transaction, read by the live
streams (R-19c)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, func, insert, or_, select
from sqlalchemy.orm import Session, aliased

from wangua.live.models import LotEvent
from wangua.live.recent import Committed
from wangua.lots.models import Lot
from wangua.runtime import Work

EVENT_NAMES = frozenset(
    {"quote", "phase", "warning", "result", "supplement", "suspended", "resumed"}
)

_INSERT = insert(LotEvent)


def emit(work: Work, lot: Lot, name: str, data: dict[str, Any]) -> None:
    """Append an event to the lot's log (see `emit_all`)."""
    emit_all(work, [(lot, name, data)])


def emit_all(work: Work, events: Sequence[tuple[Lot, str, dict[str, Any]]]) -> None:
    """Append events, each to its lot's log in order; the caller holds the lots' row locks,
    which order the logs. One INSERT on the transaction's connection, not a flush of the
    session."""
    rows = []
    for lot, name, data in events:
        assert name in EVENT_NAMES, name
        lot.event_seq += 1
        event = Committed(lot.id, lot.event_seq, name, data, work.now())
        rows.append(event._asdict())
        work.emitted.append(event)
    if rows:
        work.session.connection().execute(_INSERT, rows[0] if len(rows) == 1 else rows)


LOTS_PER_STATEMENT = 200  # SQLite parses a chain of ORs as deep as it is long (≤ 1000)


def events_after_each(
    session: Session, positions: Sequence[tuple[int, int]], limit: int = 500
) -> list[list[LotEvent]]:
    """For each (lot, after) position, the lot's events after it, in order, at most
    `limit`: one statement for up to LOTS_PER_STATEMENT lots, so the live streams of many
    lots published together read the log once (live/tail.py). A lot read from several
    positions is read from the earliest; a later one finds its events in that page, or,
    when the page was cut at `limit`, is read again on its own."""
    starts: dict[int, int] = {}
    for lot_id, after in positions:
        starts[lot_id] = min(after, starts.get(lot_id, after))
    lots = list(starts.items())
    read: dict[int, list[LotEvent]] = {}
    for first in range(0, len(lots), LOTS_PER_STATEMENT):
        for event in session.scalars(_pages(lots[first : first + LOTS_PER_STATEMENT], limit)):
            read.setdefault(event.lot_id, []).append(event)
    found = []
    for lot_id, after in positions:
        page = read.get(lot_id, [])
        if after > starts[lot_id] and len(page) == limit:
            found.append(events_after_each(session, [(lot_id, after)], limit)[0])
        else:
            found.append(page[bisect.bisect_right(page, after, key=_seq) :])
    return found


def _pages(lots: list[tuple[int, int]], limit: int) -> Select[LotEvent]:
    """Each lot's events after its start, at most `limit` of each: a plain ordered read
    for one lot (a stream catching up on a long log), numbered per lot for several."""
    if len(lots) == 1:
        ((lot_id, after),) = lots
        return (
            select(LotEvent)
            .where(LotEvent.lot_id == lot_id, LotEvent.seq > after)
            .order_by(LotEvent.seq)
            .limit(limit)
        )
    numbered = (
        select(
            LotEvent,
            func.row_number()
            .over(partition_by=LotEvent.lot_id, order_by=LotEvent.seq)
            .label("number"),
        )
        .where(or_(*(and_(LotEvent.lot_id == i, LotEvent.seq > after) for i, after in lots)))
        .subquery()
    )
    event = aliased(LotEvent, numbered)
    return select(event).where(numbered.c.number <= limit).order_by(event.lot_id, event.seq)


def _seq(event: LotEvent) -> int:
    return event.seq
