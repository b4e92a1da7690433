"""Grantors and lots (R-02, R-03). A lot row is the unit of locking: one writer per lot."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from wangua.db import Base, Id, UTCDateTime

GRANTORS: dict[str, str] = {
    "xianning-city": "咸宁市自然资源和城乡建设局",
    "xianan": "咸安区自然资源和规划局",
    "jiayu": "嘉鱼县自然资源和规划局",
    "chibi": "赤壁市自然资源和规划局",
    "tongcheng": "通城县自然资源和规划局",
    "chongyang": "崇阳县自然资源和规划局",
    "tongshan": "通山县自然资源和规划局",
}


class Grantor(Base):
    """出让人: the city bureau or a county bureau (R-03)."""

    __tablename__ = "grantors"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


ENDED = ("sold", "unsold", "terminated", "voided")  # a lot never leaves these


class Lot(Base):
    __tablename__ = "lots"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    grantor: Mapped[str] = mapped_column(ForeignKey("grantors.code"), index=True)
    asset_type: Mapped[str] = mapped_column(String(40))
    layer: Mapped[str] = mapped_column(String(20))
    location: Mapped[str] = mapped_column(String(300))
    area_m2: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    land_use: Mapped[str] = mapped_column(String(100))
    term_years: Mapped[int] = mapped_column(Integer)
    planning: Mapped[dict[str, Any]] = mapped_column(JSON)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    start_price_fen: Mapped[int] = mapped_column(BigInteger)
    increment_fen: Mapped[int] = mapped_column(BigInteger)
    deposit_fen: Mapped[int] = mapped_column(BigInteger)
    has_reserve: Mapped[bool] = mapped_column(Boolean)
    price_cap_fen: Mapped[int | None] = mapped_column(BigInteger)
    application_deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    deposit_deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    listing_start: Mapped[datetime] = mapped_column(UTCDateTime())
    listing_end: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The standing, kept on the row that is locked for every quote.
    highest_fen: Mapped[int | None] = mapped_column(BigInteger)
    leader_application_id: Mapped[int | None] = mapped_column(Id)  # an application of this lot
    quote_count: Mapped[int] = mapped_column(Integer, default=0)
    inquiry_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    timed_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    event_seq: Mapped[int] = mapped_column(Integer, default=0)
    proxy_seq: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[str | None] = mapped_column(Text)
    relisted_from: Mapped[int | None] = mapped_column(Id)  # the voided or unsold lot listed again

    @property
    def capped(self) -> bool:
        """R-CAP: the price has reached the cap, so price competition is over."""
        return self.price_cap_fen is not None and self.highest_fen == self.price_cap_fen
