"""sealed reserves

Revision ID: 20261127_0002
Revises: 20261127_0001
Create Date: 2026-11-27 13:36:10.749177
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import wangua.db

revision: str = "20261127_0002"
down_revision: str | None = "20261127_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sealed_reserves",
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column(
            "signer_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("signer_cert_serial", sa.String(length=64), nullable=False),
        sa.Column(
            "imported_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("imported_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_at", wangua.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("price_fen", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["imported_by"], ["users.id"], name=op.f("fk_sealed_reserves_imported_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_sealed_reserves_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["signer_user_id"], ["users.id"], name=op.f("fk_sealed_reserves_signer_user_id_users")
        ),
        sa.PrimaryKeyConstraint("lot_id", name=op.f("pk_sealed_reserves")),
    )


def downgrade() -> None:
    op.drop_table("sealed_reserves")
