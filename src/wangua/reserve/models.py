"""A lot's sealed reserve price (R-11): stored sealed, opened only by the decision."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from wangua.db import Base, UTCDateTime


class SealedReserveRow(Base):
    __tablename__ = "sealed_reserves"

    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    signer_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signer_cert_serial: Mapped[str] = mapped_column(String(64))
    imported_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    price_fen: Mapped[int | None] = mapped_column(BigInteger)
