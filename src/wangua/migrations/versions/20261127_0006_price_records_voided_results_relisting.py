"""price records, voided results, relisting

Revision ID: 20261127_0006
Revises: 20261127_0005
Create Date: 2026-11-27 13:52:22.982365
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import wangua.db

revision: str = "20261127_0006"
down_revision: str | None = "20261127_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "price_records",
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("appraised_fen", sa.BigInteger(), nullable=False),
        sa.Column(
            "proposed_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("proposed_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "reviewed_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("reviewed_at", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "approved_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("approved_at", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["users.id"], name=op.f("fk_price_records_approved_by_users")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_price_records_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["proposed_by"], ["users.id"], name=op.f("fk_price_records_proposed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"], ["users.id"], name=op.f("fk_price_records_reviewed_by_users")
        ),
        sa.PrimaryKeyConstraint("lot_id", name=op.f("pk_price_records")),
    )
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "relisted_from", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )

    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("voided_at", wangua.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "voided_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.add_column(sa.Column("void_cause", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("void_note", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_results_voided_by_users"), "users", ["voided_by"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_results_voided_by_users"), type_="foreignkey")
        batch_op.drop_column("void_note")
        batch_op.drop_column("void_cause")
        batch_op.drop_column("voided_by")
        batch_op.drop_column("voided_at")

    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.drop_column("relisted_from")

    op.drop_table("price_records")
