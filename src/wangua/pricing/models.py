"""The record of how a lot's starting price was set (R-LR28)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from wangua.db import Base, UTCDateTime


class PriceRecord(Base):
    """Proposed (reserve center), reviewed (bureau), approved (planning committee)."""

    __tablename__ = "price_records"

    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), primary_key=True)
    appraised_fen: Mapped[int] = mapped_column(BigInteger)
    proposed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
