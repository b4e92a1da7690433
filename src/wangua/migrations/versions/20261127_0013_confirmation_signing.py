"""winner's confirmation signing (R-28b)

Revision ID: 20261127_0013
Revises: 20261127_0012
Create Date: 2026-11-27 16:07:30.626606
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import wangua.db

revision: str = "20261127_0013"
down_revision: str | None = "20261127_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("confirmation_signed_at", wangua.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "confirmation_recorded_by",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("confirmation_note", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_results_confirmation_recorded_by_users"),
            "users",
            ["confirmation_recorded_by"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_results_confirmation_recorded_by_users"), type_="foreignkey"
        )
        batch_op.drop_column("confirmation_note")
        batch_op.drop_column("confirmation_recorded_by")
        batch_op.drop_column("confirmation_signed_at")
