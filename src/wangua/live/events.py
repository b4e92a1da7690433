"""A lot's ordered event log: appended inside the writer's transaction, read by the live
streams (R-19c)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, literal, select, union_all
from sqlalchemy.orm import Session, aliased

from wangua.live.models import LotEvent
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
        rows.append(
            {"lot_id": lot.id, "seq": lot.event_seq, "name": name, "data": data, "at": work.now()}
        )
        work.touched_lots.add(lot.id)
    if rows:
        work.session.connection().execute(_INSERT, rows[0] if len(rows) == 1 else rows)


POSITIONS_PER_STATEMENT = 200  # SQLite allows 500 terms in a compound select


def events_after_each(
    session: Session, positions: Sequence[tuple[int, int]], limit: int = 500
) -> list[list[LotEvent]]:
    """For each (lot, after) position, the lot's events after it, in order, at most
    `limit`: one statement for up to POSITIONS_PER_STATEMENT positions, so the live
    streams of many lots published together read the log once (live/tail.py)."""
    found: list[list[LotEvent]] = [[] for _ in positions]
    for start in range(0, len(positions), POSITIONS_PER_STATEMENT):
        chunk = positions[start : start + POSITIONS_PER_STATEMENT]
        parts = [
            select(
                select(LotEvent, literal(index).label("position"))
                .where(LotEvent.lot_id == lot_id, LotEvent.seq > after)
                .order_by(LotEvent.seq)
                .limit(limit)
                .subquery()
            )
            for index, (lot_id, after) in enumerate(chunk, start)
        ]
        rows = union_all(*parts).subquery()
        event = aliased(LotEvent, rows)
        read = select(event, rows.c.position).order_by(rows.c.position, event.seq)
        for row, index in session.execute(read):
            found[index].append(row)
    return found
