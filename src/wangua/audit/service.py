"""Appending to the audit record (R-32a), in the same transaction as the action.

Each stream ("system", "lot:<id>") is its own hash chain; its head row's lock
orders it, so lots never wait on one another.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select

from wangua.audit.models import AuditEntry, AuditStream
from wangua.kit.times import rfc3339
from wangua.runtime import Work

GENESIS = "0" * 64
SYSTEM_STREAM = "system"


def lot_stream(lot_id: int) -> str:
    return f"lot:{lot_id}"


def digest(data: Any) -> str:
    return hashlib.sha256(canonical(data).encode()).hexdigest()


_CANONICAL = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
)


def canonical(data: Any) -> str:
    """Sorted-key, compact JSON: the form that is hashed."""
    return _CANONICAL.encode(data)


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(fields)).encode()).hexdigest()


HASHED = (
    "stream",
    "seq",
    "at",
    "actor_user_id",
    "actor_role",
    "actor_cert_serial",
    "action",
    "object_type",
    "object_id",
    "input_digest",
    "result",
)


def entry_fields(entry: AuditEntry) -> dict[str, Any]:
    """The hashed fields of an entry, its time in RFC 3339."""
    fields = {name: getattr(entry, name) for name in HASHED}
    fields["at"] = rfc3339(entry.at)
    return fields


def record(
    work: Work,
    action: str,
    *,
    stream: str = SYSTEM_STREAM,
    object_type: str,
    object_id: object = None,
    data: Any = None,
    result: str = "ok",
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry to `stream`, chained to its head."""
    head = work.session.scalars(
        select(AuditStream).where(AuditStream.stream == stream).with_for_update()
    ).one_or_none()
    if head is None:
        head = AuditStream(stream=stream, seq=0, head_hash=GENESIS)
        work.session.add(head)
        work.session.flush()
    actor = work.actor
    entry = AuditEntry(
        stream=stream,
        seq=head.seq + 1,
        at=at or work.now(),
        actor_user_id=actor.user_id,
        actor_role=actor.role,
        actor_cert_serial=actor.cert_serial,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        input_digest=digest(data),
        result=result,
        prev_hash=head.head_hash,
        entry_hash="",
    )
    entry.entry_hash = entry_hash(head.head_hash, entry_fields(entry))
    head.seq = entry.seq
    head.head_hash = entry.entry_hash
    work.session.add(entry)
    return entry
