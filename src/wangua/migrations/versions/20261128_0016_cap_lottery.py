"""the price cap procedure: acceptances of the cap and the lottery (R-CAP)

Revision ID: 20261128_0016
Revises: 20261128_0015
Create Date: 2026-11-28 16:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import wangua.db

revision: str = "20261128_0016"
down_revision: str | None = "20261128_0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cap_lotteries",
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reached_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("commitment", sa.String(length=64), nullable=False),
        sa.Column("sealed_seed", sa.LargeBinary(), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=True),
        sa.Column("entrants", sa.JSON(), nullable=True),
        sa.Column(
            "winner_application_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("drawn_at", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_cap_lotteries_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["winner_application_id"],
            ["applications.id"],
            name=op.f("fk_cap_lotteries_winner_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("lot_id", name=op.f("pk_cap_lotteries")),
    )
    op.create_table(
        "cap_acceptances",
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "application_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("accepted_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_cap_acceptances_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_cap_acceptances_lot_id_lots")
        ),
        sa.PrimaryKeyConstraint("lot_id", "application_id", name=op.f("pk_cap_acceptances")),
    )


def downgrade() -> None:
    op.drop_table("cap_acceptances")
    op.drop_table("cap_lotteries")
