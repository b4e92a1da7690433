"""bank links

Revision ID: 20261127_0014
Revises: 20261127_0013
Create Date: 2026-11-27 16:11:16.582256
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import wangua.db

revision: str = "20261127_0014"
down_revision: str | None = "20261127_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bank_links",
        sa.Column("bank_code", sa.String(length=32), nullable=False),
        sa.Column("last_contact_at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bank_code", name=op.f("pk_bank_links")),
    )


def downgrade() -> None:
    op.drop_table("bank_links")
