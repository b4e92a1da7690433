"""Appending to the audit record (R-32a), in the same transaction as the action.

Each stream ("system", "lot:<id>") is its own hash chain; its head row's lock
orders it, so lots never wait on one another.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select

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

_LOCK_HEAD = (
    select(AuditStream.seq, AuditStream.head_hash)
    .where(AuditStream.stream == bindparam("stream"))
    .with_for_update()
)
_NEW_HEAD = insert(AuditStream)
_APPEND = insert(AuditEntry)  # the database moves the stream's head to it (a trigger)


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
) -> None:
    """Append one entry to `stream`, chained to its head: the head row locked and the entry
    inserted, as statements on the transaction's connection; inserting the entry moves the
    head to it (trigger audit_entries_move_head)."""
    connection = work.session.connection()
    head = connection.execute(_LOCK_HEAD, {"stream": stream}).one_or_none()
    seq, prev_hash = (0, GENESIS) if head is None else head
    if head is None:
        connection.execute(_NEW_HEAD, {"stream": stream, "seq": 0, "head_hash": GENESIS})
    actor = work.actor
    fields: dict[str, Any] = {
        "stream": stream,
        "seq": seq + 1,
        "at": at or work.now(),
        "actor_user_id": actor.user_id,
        "actor_role": actor.role,
        "actor_cert_serial": actor.cert_serial,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "input_digest": digest(data),
        "result": result,
    }
    hashed = entry_hash(prev_hash, {**fields, "at": rfc3339(fields["at"])})
    connection.execute(_APPEND, {**fields, "prev_hash": prev_hash, "entry_hash": hashed})
