"""Appending to a lot's ordered event log, inside the writer's transaction (R-19c)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

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


def events_after(session: Session, lot_id: int, after: int, limit: int = 500) -> list[LotEvent]:
    return list(
        session.scalars(
            select(LotEvent)
            .where(LotEvent.lot_id == lot_id, LotEvent.seq > after)
            .order_by(LotEvent.seq)
            .limit(limit)
        )
    )
