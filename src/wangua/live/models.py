"""The per-lot ordered event log that SSE streams read (R-19c)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from wangua.db import Base, UTCDateTime


class LotEvent(Base):
    __tablename__ = "lot_events"

    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
