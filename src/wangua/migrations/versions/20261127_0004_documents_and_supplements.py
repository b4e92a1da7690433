"""documents and supplements

Revision ID: 20261127_0004
Revises: 20261127_0003
Create Date: 2026-11-27 13:42:25.644601
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import wangua.db

revision: str = "20261127_0004"
down_revision: str | None = "20261127_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "uploaded_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("uploaded_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("superseded_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_documents_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_documents_uploaded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_documents_lot_id"), ["lot_id"], unique=False)

    op.create_table(
        "supplements",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("major", sa.Boolean(), nullable=False),
        sa.Column("published_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "published_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("listing_end_before", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("listing_end_after", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_supplements_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["published_by"], ["users.id"], name=op.f("fk_supplements_published_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplements")),
    )
    with op.batch_alter_table("supplements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supplements_lot_id"), ["lot_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("supplements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supplements_lot_id"))

    op.drop_table("supplements")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_lot_id"))

    op.drop_table("documents")
