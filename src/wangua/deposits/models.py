"""Deposits: bank credits, virtual sub-accounts, guarantees, refunds, working-day
schedules (R-16a, R-16b, R-17, R-30a, R-30b, R-41, R-44)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from wangua.db import Base, Id, UTCDateTime

DEFAULT_BANK = "default"


class Payment(Base):
    """One bank credit, idempotent by the bank's transaction id.

    `status`: `matched` (credited by the deposit deadline), `late` (credited after it:
    never qualifies, R-16b) or `unmatched` (no application found; waits for finance).
    """

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("bank_code", "txn_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    bank_code: Mapped[str] = mapped_column(String(32), server_default=DEFAULT_BANK)
    txn_id: Mapped[str] = mapped_column(String(100))
    account_no: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())
    memo: Mapped[str] = mapped_column(Text)
    payer_name: Mapped[str] = mapped_column(String(200))
    payer_account: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)


class DepositAccount(Base):
    """A random virtual sub-account bound to one application, never reused (R-16a)."""

    __tablename__ = "deposit_accounts"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    bank_code: Mapped[str] = mapped_column(String(32))
    account_no: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Guarantee(Base):
    """A bank guarantee (银行保函) registered by staff in place of the deposit (R-17).

    `status`: `active` → `released` (returned to the bidder) | `retained` (the winner's,
    in place of earnest money) → `claimed` (forfeited under R-44).
    """

    __tablename__ = "guarantees"
    __table_args__ = (UniqueConstraint("issuer", "number"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    issuer: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(100))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    registered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Refund(Base):
    """What becomes of (part of) one payment once its lot ends (R-30a, R-30b, R-41, R-44).

    `status`: `due` → `paid`; `held` (payer not verified) → `due`; `earnest` →
    `forfeited`. The amounts of a payment's rows always add up to the payment.
    """

    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), index=True)
    bank_code: Mapped[str] = mapped_column(String(32), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), index=True)
    due_date: Mapped[date] = mapped_column(Date)
    due_assumed: Mapped[bool] = mapped_column(Boolean, default=False)
    payee_name: Mapped[str] = mapped_column(String(200))
    payee_account: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    instructed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    bank_txn_id: Mapped[str | None] = mapped_column(String(100))
    interest_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    note: Mapped[str | None] = mapped_column(Text)


class BankLink(Base):
    """When a bank last made a signed call (notification, health poll, refund
    instructions or confirmation), on the system's clock: the link state for monitoring."""

    __tablename__ = "bank_links"

    bank_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_contact_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WorkdaySchedule(Base):
    """An official working-day schedule loaded by an administrator for a year the
    calendar package does not know yet (R-30b)."""

    __tablename__ = "workday_schedules"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holidays: Mapped[list[str]] = mapped_column(JSON)
    workdays: Mapped[list[str]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(Text)
    loaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
