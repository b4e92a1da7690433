"""an audit entry moves its stream's head; a lot event notifies the other processes

Two statements every accepted quote sent on its own, each a round trip to PostgreSQL made
while the lot's row lock is held, are done by the database as part of the INSERT before
them: appending an audit entry moves its stream's head to it (R-32a; the head may still
only move forward), and appending a lot event sends `NOTIFY wangua_lot, '<lot id>'`
(R-19c; PostgreSQL only, delivered at commit, one per lot and transaction).

Revision ID: 20261129_0017
Revises: 20261128_0016
Create Date: 2026-11-29 02:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "20261129_0017"
down_revision: str | None = "20261128_0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOVE_HEAD = (
    "UPDATE audit_streams SET seq = NEW.seq, head_hash = NEW.entry_hash WHERE stream = NEW.stream;"
)

SQLITE_UP = [
    f"CREATE TRIGGER audit_entries_move_head AFTER INSERT ON audit_entries BEGIN {MOVE_HEAD} END",
]
SQLITE_DOWN = ["DROP TRIGGER audit_entries_move_head"]

POSTGRES_UP = [
    "CREATE FUNCTION audit_move_head() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"{MOVE_HEAD} RETURN NULL; END $$",
    "CREATE TRIGGER audit_entries_move_head AFTER INSERT ON audit_entries "
    "FOR EACH ROW EXECUTE FUNCTION audit_move_head()",
    "CREATE FUNCTION lot_event_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "PERFORM pg_notify('wangua_lot', NEW.lot_id::text); RETURN NULL; END $$",
    "CREATE TRIGGER lot_events_notify AFTER INSERT ON lot_events "
    "FOR EACH ROW EXECUTE FUNCTION lot_event_notify()",
]
POSTGRES_DOWN = [
    "DROP TRIGGER lot_events_notify ON lot_events",
    "DROP FUNCTION lot_event_notify()",
    "DROP TRIGGER audit_entries_move_head ON audit_entries",
    "DROP FUNCTION audit_move_head()",
]


def _statements() -> tuple[list[str], list[str]]:
    if op.get_bind().dialect.name == "postgresql":
        return POSTGRES_UP, POSTGRES_DOWN
    return SQLITE_UP, SQLITE_DOWN


def upgrade() -> None:
    for statement in _statements()[0]:
        op.execute(statement)


def downgrade() -> None:
    for statement in _statements()[1]:
        op.execute(statement)
