"""Applications (竞买申请): one per bidder per lot (R-13 … R-16c)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wangua.db import Base, Id, UTCDateTime


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("lot_id", "user_id"),
        UniqueConstraint("lot_id", "bidder_number"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    order_no: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    members: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    new_company: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    qualified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    bidder_number: Mapped[str | None] = mapped_column(String(16))
