"""suspensions, approvals and serving record

Revision ID: 20261127_0003
Revises: 20261127_0002
Create Date: 2026-11-27 13:39:03.223206
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import wangua.db

revision: str = "20261127_0003"
down_revision: str | None = "20261127_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("started_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("detected_by", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outages")),
    )
    with op.batch_alter_table("outages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outages_started_at"), ["started_at"], unique=False)

    op.create_table(
        "serving_sessions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("host", sa.String(length=100), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_beat", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_beat_wall", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_serving_sessions")),
    )
    op.create_table(
        "approvals",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("cause", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "approved_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("approved_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["users.id"], name=op.f("fk_approvals_approved_by_users")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_approvals_lot_id_lots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
    )
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_approvals_lot_id"), ["lot_id"], unique=False)

    op.create_table(
        "suspensions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("cause", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=False),
        sa.Column("frozen_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("suspended_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "suspended_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("remaining_us", sa.BigInteger(), nullable=False),
        sa.Column("resume_announced_at", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resume_at", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resumed_at", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_suspensions_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["suspended_by"], ["users.id"], name=op.f("fk_suspensions_suspended_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suspensions")),
    )
    with op.batch_alter_table("suspensions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_suspensions_lot_id"), ["lot_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("suspensions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suspensions_lot_id"))

    op.drop_table("suspensions")
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approvals_lot_id"))

    op.drop_table("approvals")
    op.drop_table("serving_sessions")
    with op.batch_alter_table("outages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outages_started_at"))

    op.drop_table("outages")
