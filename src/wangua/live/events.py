"""Appending to a lot's ordered event log, inside the writer's transaction (R-19c)."""

from __future__ import annotations

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
    """Append an event; the caller holds the lot's row lock, which orders the log.
    One INSERT on the transaction's connection, not a flush of the session."""
    assert name in EVENT_NAMES, name
    lot.event_seq += 1
    work.session.connection().execute(
        _INSERT,
        {"lot_id": lot.id, "seq": lot.event_seq, "name": name, "data": data, "at": work.now()},
    )
    work.touched_lots.add(lot.id)


def events_after(session: Session, lot_id: int, after: int, limit: int = 500) -> list[LotEvent]:
    return list(
        session.scalars(
            select(LotEvent)
            .where(LotEvent.lot_id == lot_id, LotEvent.seq > after)
            .order_by(LotEvent.seq)
            .limit(limit)
        )
    )
