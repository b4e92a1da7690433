"""Suspensions, terminations and the grantor's approvals (R-37, R-38, R-39)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from wangua.db import Base, Id, UTCDateTime


class Suspension(Base):
    """One interruption of a lot: what it was doing, the time it had left, its resumption."""

    __tablename__ = "suspensions"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    cause: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text)
    from_status: Mapped[str] = mapped_column(String(20))
    frozen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    suspended_at: Mapped[datetime] = mapped_column(UTCDateTime())
    suspended_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    remaining_us: Mapped[int] = mapped_column(BigInteger)
    resume_announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resume_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Approval(Base):
    """The grantor's approval of a suspension or termination for causes (2), (3), (5)."""

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    cause: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
