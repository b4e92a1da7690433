"""break-glass requests

Revision ID: 20261127_0011
Revises: 20261127_0010
Create Date: 2026-11-27 14:05:03.251750
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import wangua.db

revision: str = "20261127_0011"
down_revision: str | None = "20261127_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "break_glass_requests",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "requested_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("requested_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "approved_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("approved_at", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["users.id"], name=op.f("fk_break_glass_requests_approved_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_break_glass_requests_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_break_glass_requests_requested_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_break_glass_requests")),
    )
    with op.batch_alter_table("break_glass_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_break_glass_requests_lot_id"), ["lot_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("break_glass_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_break_glass_requests_lot_id"))

    op.drop_table("break_glass_requests")
