"""The one authoritative clock (R-18).

`system` reads the machine's UTC time. `simulated` keeps its time in the
database, so every process serving that database sees the same time and a
restart keeps it; it moves only when advanced (scheduler.service.advance).
Services read the clock inside their transaction, after taking their locks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import Integer, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from wangua.db import Base, UTCDateTime
from wangua.kit.times import wall_now


class ClockState(Base):
    __tablename__ = "clock_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    now: Mapped[datetime] = mapped_column(UTCDateTime())


class Clock(Protocol):
    mode: str

    def now(self, session: Session) -> datetime: ...


class SystemClock:
    mode = "system"

    def now(self, session: Session) -> datetime:
        return wall_now()


class SimulatedClock:
    """Time that moves only when told to; stored in the database (row id 1)."""

    mode = "simulated"

    def __init__(self, start: datetime | None) -> None:
        self.start = start

    def now(self, session: Session) -> datetime:
        current = session.scalar(select(ClockState.now).where(ClockState.id == 1))
        if current is None:
            current = self.start or wall_now()
            session.add(ClockState(id=1, now=current))
            session.flush()
        return current

    def lock(self, session: Session) -> datetime:
        """Read the time and hold the clock row until the transaction ends."""
        self.now(session)
        row = session.scalars(select(ClockState).where(ClockState.id == 1).with_for_update()).one()
        return row.now

    def set(self, session: Session, value: datetime) -> None:
        row = session.get(ClockState, 1)
        if row is None:
            session.add(ClockState(id=1, now=value))
        else:
            row.now = value
        session.flush()


def make_clock(mode: str, start: datetime | None) -> SystemClock | SimulatedClock:
    return SimulatedClock(start) if mode == "simulated" else SystemClock()
