"""Supplementary notices (补充公告, R-10a): appended, never edited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from wangua.db import Base, Id, UTCDateTime


class Supplement(Base):
    __tablename__ = "supplements"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    major: Mapped[bool] = mapped_column(Boolean)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    listing_end_before: Mapped[datetime] = mapped_column(UTCDateTime())
    listing_end_after: Mapped[datetime] = mapped_column(UTCDateTime())
