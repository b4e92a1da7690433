"""R-32a: entries appended together chain exactly as entries appended one by one."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from tests.harness import Stack, statements_matching
from wangua.audit.checkpoints import SigningKey
from wangua.audit.models import AuditEntry
from wangua.audit.service import Entry, record, record_all
from wangua.audit.verify import verify


def test_r32a_entries_of_several_streams_appended_together_each_follow_their_streams_head(
    stack: Stack,
) -> None:
    """Three streams, one with a head already and three new entries, two new: one statement
    appends them all, each chained to the entry before it in its own stream, in order."""
    tag = uuid.uuid4().hex[:12]
    old, fresh, other = (f"test-{tag}-{n}" for n in range(3))
    with stack.runtime.work() as work:
        record(work, "test.first", stream=old, object_type="test")
    given = [
        Entry("test.a", "test", stream=old),
        Entry("test.b", "test", stream=fresh, data={"n": 1}),
        Entry("test.c", "test", stream=old, object_id=7),
        Entry("test.d", "test", stream=other),
        Entry("test.e", "test", stream=old, result="refused"),
    ]
    with (
        statements_matching("INSERT INTO audit_entries", this_thread=True) as appended,
        stack.runtime.work() as work,
    ):
        record_all(work, given)
    assert len(appended) == 1, appended

    with stack.runtime.read() as session:
        entries = list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.stream.in_([old, fresh, other]))
                .order_by(AuditEntry.stream, AuditEntry.seq)
            )
        )
        chains = {
            stream: [(e.seq, e.action) for e in entries if e.stream == stream]
            for stream in (old, fresh, other)
        }
        assert chains == {
            old: [(1, "test.first"), (2, "test.a"), (3, "test.c"), (4, "test.e")],
            fresh: [(1, "test.b")],
            other: [(1, "test.d")],
        }
        previous: dict[str, str] = {}
        for entry in entries:
            assert entry.prev_hash == previous.get(entry.stream, "0" * 64)
            previous[entry.stream] = entry.entry_hash
        key = SigningKey(stack.runtime.settings.resolved_audit_key_dir)
        assert verify(session, key).failure is None
