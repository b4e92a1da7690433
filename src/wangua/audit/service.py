"""Appending to the audit record (R-32a), in the same transaction as the action.

Each stream ("system", "lot:<id>") is its own hash chain; its head row's lock
orders it, so lots never wait on one another.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
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
    select(AuditStream.stream, AuditStream.seq, AuditStream.head_hash)
    .where(AuditStream.stream == bindparam("stream"))
    .with_for_update()
)
_LOCK_HEADS = (
    select(AuditStream.stream, AuditStream.seq, AuditStream.head_hash)
    .where(AuditStream.stream.in_(bindparam("streams", expanding=True)))
    .with_for_update()
)
_NEW_HEAD = insert(AuditStream)
_APPEND = insert(AuditEntry)  # the database moves the stream's head to it (a trigger)


@dataclass(frozen=True)
class Entry:
    """One audit entry to append (see `record`)."""

    action: str
    object_type: str
    stream: str = SYSTEM_STREAM
    object_id: object = None
    data: Any = None
    result: str = "ok"
    at: datetime | None = None


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
    """Append one entry to `stream`, chained to its head (see `record_all`)."""
    record_all(work, [Entry(action, object_type, stream, object_id, data, result, at)])


def record_all(work: Work, entries: Sequence[Entry]) -> None:
    """Append the entries in order, each chained to its stream's head: the heads locked in
    one statement and the entries inserted in one, on the transaction's connection;
    inserting an entry moves its stream's head to it (trigger audit_entries_move_head)."""
    if not entries:
        return
    connection = work.session.connection()
    streams = sorted({entry.stream for entry in entries})
    if len(streams) == 1:
        rows = connection.execute(_LOCK_HEAD, {"stream": streams[0]})
    else:
        rows = connection.execute(_LOCK_HEADS, {"streams": streams})
    heads = {stream: (seq, head_hash) for stream, seq, head_hash in rows}
    new = [stream for stream in streams if stream not in heads]
    if new:
        connection.execute(
            _NEW_HEAD, [{"stream": stream, "seq": 0, "head_hash": GENESIS} for stream in new]
        )
        heads.update(dict.fromkeys(new, (0, GENESIS)))
    actor = work.actor
    appended = []
    for entry in entries:
        seq, prev_hash = heads[entry.stream]
        fields: dict[str, Any] = {
            "stream": entry.stream,
            "seq": seq + 1,
            "at": entry.at or work.now(),
            "actor_user_id": actor.user_id,
            "actor_role": actor.role,
            "actor_cert_serial": actor.cert_serial,
            "action": entry.action,
            "object_type": entry.object_type,
            "object_id": None if entry.object_id is None else str(entry.object_id),
            "input_digest": digest(entry.data),
            "result": entry.result,
        }
        hashed = entry_hash(prev_hash, {**fields, "at": rfc3339(fields["at"])})
        appended.append({**fields, "prev_hash": prev_hash, "entry_hash": hashed})
        heads[entry.stream] = (seq + 1, hashed)
    connection.execute(_APPEND, appended[0] if len(appended) == 1 else appended)
