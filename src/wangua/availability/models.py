"""When the system served (R-37c): serving sessions and the outages between them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from wangua.db import Base, Id, UTCDateTime


class ServingSession(Base):
    """One serving process, from start to its last heartbeat or clean stop."""

    __tablename__ = "serving_sessions"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    host: Mapped[str] = mapped_column(String(100))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_beat: Mapped[datetime] = mapped_column(UTCDateTime())
    last_beat_wall: Mapped[datetime] = mapped_column(UTCDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Outage(Base):
    """A span (possibly an instant) in which no process was serving."""

    __tablename__ = "outages"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime())
    detected_by: Mapped[str] = mapped_column(String(20))
