"""audit checkpoints and protection

The audit record is append-only in the database itself (R-32a): entries and
checkpoints refuse UPDATE, DELETE and TRUNCATE; a stream head may only move
forward (its seq strictly increases) and is never deleted.

Revision ID: 20261127_0009
Revises: 20261127_0008
Create Date: 2026-11-27 14:02:01.891994
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import wangua.db

revision: str = "20261127_0009"
down_revision: str | None = "20261127_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("audit_entries", "audit_checkpoints")
REFUSED = "审计记录只能追加,不得修改或删除"
BACKWARDS = "审计链头只能前进"

SQLITE_UP = [
    *(
        f"CREATE TRIGGER {table}_no_{verb} BEFORE {verb.upper()} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSED}: {table}'); END"
        for table in APPEND_ONLY
        for verb in ("update", "delete")
    ),
    "CREATE TRIGGER audit_streams_no_delete BEFORE DELETE ON audit_streams "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSED}: audit_streams'); END",
    "CREATE TRIGGER audit_streams_forward BEFORE UPDATE ON audit_streams "
    "WHEN NEW.seq <= OLD.seq OR NEW.stream IS NOT OLD.stream "
    f"BEGIN SELECT RAISE(ABORT, '{BACKWARDS}: audit_streams'); END",
]
SQLITE_DOWN = [
    *(f"DROP TRIGGER {table}_no_{verb}" for table in APPEND_ONLY for verb in ("update", "delete")),
    "DROP TRIGGER audit_streams_no_delete",
    "DROP TRIGGER audit_streams_forward",
]

POSTGRES_UP = [
    "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"RAISE EXCEPTION USING MESSAGE = '{REFUSED}: ' || TG_TABLE_NAME, "
    "ERRCODE = 'insufficient_privilege'; END $$",
    "CREATE FUNCTION audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF NEW.seq <= OLD.seq OR NEW.stream IS DISTINCT FROM OLD.stream THEN "
    f"RAISE EXCEPTION USING MESSAGE = '{BACKWARDS}: ' || TG_TABLE_NAME, "
    "ERRCODE = 'insufficient_privilege'; END IF; RETURN NEW; END $$",
    *(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
        for table in APPEND_ONLY
    ),
    "CREATE TRIGGER audit_streams_no_delete BEFORE DELETE ON audit_streams "
    "FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
    "CREATE TRIGGER audit_streams_forward BEFORE UPDATE ON audit_streams "
    "FOR EACH ROW EXECUTE FUNCTION audit_head_forward()",
    *(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
        for table in (*APPEND_ONLY, "audit_streams")
    ),
]
POSTGRES_DOWN = [
    *(f"DROP TRIGGER {table}_append_only ON {table}" for table in APPEND_ONLY),
    "DROP TRIGGER audit_streams_no_delete ON audit_streams",
    "DROP TRIGGER audit_streams_forward ON audit_streams",
    *(f"DROP TRIGGER {table}_no_truncate ON {table}" for table in (*APPEND_ONLY, "audit_streams")),
    "DROP FUNCTION audit_head_forward()",
    "DROP FUNCTION audit_append_only()",
]


def _protection() -> tuple[list[str], list[str]]:
    if op.get_bind().dialect.name == "postgresql":
        return POSTGRES_UP, POSTGRES_DOWN
    return SQLITE_UP, SQLITE_DOWN


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", wangua.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("streams", sa.Integer(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("heads", sa.JSON(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    for statement in _protection()[0]:
        op.execute(statement)


def downgrade() -> None:
    for statement in _protection()[1]:
        op.execute(statement)
    op.drop_table("audit_checkpoints")
