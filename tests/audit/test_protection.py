"""R-32a: the database itself refuses to edit or delete the audit record (both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from tests.harness import Stack
from wangua.audit.checkpoints import checkpoint
from wangua.audit.service import SYSTEM_STREAM, record

REFUSED = [
    "UPDATE audit_entries SET result = 'edited'",
    "UPDATE audit_entries SET seq = seq",
    "DELETE FROM audit_entries",
    "DELETE FROM audit_entries WHERE id = (SELECT MAX(id) FROM audit_entries)",
    "UPDATE audit_checkpoints SET root = 'edited'",
    "DELETE FROM audit_checkpoints",
    "DELETE FROM audit_streams",
    "UPDATE audit_streams SET seq = seq - 1",
    "UPDATE audit_streams SET seq = seq, head_hash = 'edited'",
]
TRUNCATE = ["audit_entries", "audit_checkpoints", "audit_streams"]


def _refused(stack: Stack, statement: str) -> None:
    with pytest.raises(DatabaseError) as refusal, stack.runtime.db.write_session() as session:
        session.execute(text(statement))
    assert "审计" in str(refusal.value)


@pytest.mark.parametrize("statement", REFUSED)
def test_r32a_audit_rows_cannot_be_updated_or_deleted(stack: Stack, statement: str) -> None:
    checkpoint(stack.runtime)
    _refused(stack, statement)


@pytest.mark.parametrize("table", TRUNCATE)
def test_r32a_audit_tables_cannot_be_truncated(stack: Stack, table: str) -> None:
    if stack.backend == "sqlite":
        pytest.skip("SQLite has no TRUNCATE; DELETE without WHERE is refused above")
    _refused(stack, f"TRUNCATE {table} CASCADE")


def test_r32a_stream_heads_may_move_forward(stack: Stack) -> None:
    """Appending moves a head forward; that stays allowed (and is rolled back here)."""
    with stack.runtime.db.write_engine.connect() as conn:
        transaction = conn.begin()
        moved = conn.execute(text("UPDATE audit_streams SET seq = seq + 1"))
        assert moved.rowcount >= 1
        transaction.rollback()


class _RolledBack(Exception):
    pass


def test_r32a_appending_an_entry_moves_its_stream_head(stack: Stack) -> None:
    """The database moves a stream's head to each entry appended (trigger
    audit_entries_move_head), so the next entry chains to it."""
    rt = stack.runtime
    with pytest.raises(_RolledBack), rt.work() as work:
        for n in range(2):
            record(work, "test.appended", object_type="test", object_id=n)
            head = work.session.execute(
                text("SELECT seq, head_hash FROM audit_streams WHERE stream = :s"),
                {"s": SYSTEM_STREAM},
            ).one()
            last = work.session.execute(
                text(
                    "SELECT seq, entry_hash, object_id FROM audit_entries "
                    "WHERE stream = :s ORDER BY seq DESC LIMIT 1"
                ),
                {"s": SYSTEM_STREAM},
            ).one()
            assert last.object_id == str(n)
            assert (head.seq, head.head_hash) == (last.seq, last.entry_hash)
        raise _RolledBack
