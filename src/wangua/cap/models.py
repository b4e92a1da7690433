"""A capped lot's lottery and the bidders who accepted its cap (R-CAP)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from wangua.db import Base, UTCDateTime


class CapLottery(Base):
    """The lottery of a lot whose price reached its cap: its seed is drawn and sealed to
    the system when the cap is reached, and only its digest is shown until the draw."""

    __tablename__ = "cap_lotteries"

    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), primary_key=True)
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime())
    commitment: Mapped[str] = mapped_column(String(64))  # SHA-256 of the seed, hex
    sealed_seed: Mapped[bytes] = mapped_column(LargeBinary)
    seed: Mapped[str | None] = mapped_column(String(64))  # hex, revealed by the draw
    entrants: Mapped[list[Any] | None] = mapped_column(JSON)  # bidder numbers, as drawn
    winner_application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"))
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CapAcceptance(Base):
    """A bidder accepted the cap and enters the lottery (the one who quoted it needs not)."""

    __tablename__ = "cap_acceptances"

    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())
