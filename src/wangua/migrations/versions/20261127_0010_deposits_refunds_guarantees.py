"""deposits, refunds, guarantees

Revision ID: 20261127_0010
Revises: 20261127_0009
Create Date: 2026-11-27 14:04:54.800139
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import wangua.db

revision: str = "20261127_0010"
down_revision: str | None = "20261127_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workday_schedules",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holidays", sa.JSON(), nullable=False),
        sa.Column("workdays", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("loaded_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("loaded_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["loaded_by"], ["users.id"], name=op.f("fk_workday_schedules_loaded_by_users")
        ),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_workday_schedules")),
    )
    op.create_table(
        "deposit_accounts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "application_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("bank_code", sa.String(length=32), nullable=False),
        sa.Column("account_no", sa.String(length=64), nullable=False),
        sa.Column("issued_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_deposit_accounts_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deposit_accounts")),
        sa.UniqueConstraint("account_no", name=op.f("uq_deposit_accounts_account_no")),
        sa.UniqueConstraint("application_id", name=op.f("uq_deposit_accounts_application_id")),
    )
    op.create_table(
        "guarantees",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "application_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("issuer", sa.String(length=200), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "registered_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("registered_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("settled_at", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_guarantees_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_guarantees_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["registered_by"], ["users.id"], name=op.f("fk_guarantees_registered_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guarantees")),
        sa.UniqueConstraint("application_id", name=op.f("uq_guarantees_application_id")),
        sa.UniqueConstraint("issuer", "number", name=op.f("uq_guarantees_issuer_number")),
    )
    with op.batch_alter_table("guarantees", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_guarantees_lot_id"), ["lot_id"], unique=False)

    op.create_table(
        "refunds",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "application_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("bank_code", sa.String(length=32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("due_assumed", sa.Boolean(), nullable=False),
        sa.Column("payee_name", sa.String(length=200), nullable=False),
        sa.Column("payee_account", sa.String(length=64), nullable=False),
        sa.Column("created_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("instructed_at", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paid_at", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("bank_txn_id", sa.String(length=100), nullable=True),
        sa.Column("interest_fen", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_refunds_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_refunds_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_refunds_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refunds_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_refunds_bank_code"), ["bank_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_payment_id"), ["payment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_status"), ["status"], unique=False)

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("bank_code", sa.String(length=32), server_default="default", nullable=False)
        )
        batch_op.drop_constraint(batch_op.f("uq_payments_txn_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_payments_bank_code_txn_id"), ["bank_code", "txn_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_payments_bank_code_txn_id"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_payments_txn_id"), ["txn_id"])
        batch_op.drop_column("bank_code")

    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_status"))
        batch_op.drop_index(batch_op.f("ix_refunds_payment_id"))
        batch_op.drop_index(batch_op.f("ix_refunds_lot_id"))
        batch_op.drop_index(batch_op.f("ix_refunds_bank_code"))
        batch_op.drop_index(batch_op.f("ix_refunds_application_id"))

    op.drop_table("refunds")
    with op.batch_alter_table("guarantees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guarantees_lot_id"))

    op.drop_table("guarantees")
    op.drop_table("deposit_accounts")
    op.drop_table("workday_schedules")
