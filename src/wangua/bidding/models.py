"""Quotes, inquiry answers, proxies and results (R-18 … R-27). Nothing here is ever edited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wangua.db import Base, Id, UTCDateTime


class Quote(Base):
    """An accepted quote (listing) or bid (timed): irrevocable (R-20)."""

    __tablename__ = "quotes"
    __table_args__ = (
        UniqueConstraint("lot_id", "seq"),
        UniqueConstraint("lot_id", "application_id", "request_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    seq: Mapped[int] = mapped_column(Integer)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    phase: Mapped[str] = mapped_column(String(10))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    by_proxy: Mapped[bool] = mapped_column(Boolean, default=False)
    request_id: Mapped[str | None] = mapped_column(String(64))


class InquiryAnswer(Base):
    """A bidder's answer to the deadline inquiry (R-22, R-24)."""

    __tablename__ = "inquiry_answers"
    __table_args__ = (UniqueConstraint("lot_id", "application_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    joined: Mapped[bool] = mapped_column(Boolean)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Proxy(Base):
    """A proxy (自动委托报价) with its maximum (R-26). Cancelled proxies stay as records."""

    __tablename__ = "proxies"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    max_fen: Mapped[int] = mapped_column(BigInteger)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())
    set_seq: Mapped[int] = mapped_column(Integer)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Result(Base):
    """The decision of a lot and the rule that made it."""

    __tablename__ = "results"

    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(10))
    price_fen: Mapped[int | None] = mapped_column(BigInteger)
    winner_application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"))
    reserve_fen: Mapped[int | None] = mapped_column(BigInteger)
    rule: Mapped[str] = mapped_column(String(20))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    voided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    void_cause: Mapped[int | None] = mapped_column(Integer)
    void_note: Mapped[str | None] = mapped_column(Text)
    confirmation_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """R-28b: when staff recorded that the winner signed the confirmation."""
    confirmation_recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmation_note: Mapped[str | None] = mapped_column(Text)
