"""`wangua audit verify`: recompute every chain from its genesis (R-32a)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from wangua.audit.models import AuditEntry, AuditStream
from wangua.audit.service import GENESIS, entry_fields, entry_hash


@dataclass(frozen=True)
class Report:
    count: int
    failure: str | None


def verify(session: Session) -> Report:
    """Each stream's entries must run 1, 2, 3 … with each hash over its predecessor,
    and end at the stream's recorded head."""
    count = 0
    heads = {s.stream: s for s in session.scalars(select(AuditStream).order_by(AuditStream.stream))}
    for stream, head in heads.items():
        prev, seq = GENESIS, 0
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.stream == stream).order_by(AuditEntry.seq)
        )
        for entry in entries:
            seq += 1
            where = f"stream {stream} entry {entry.seq} (id {entry.id})"
            if entry.seq != seq:
                return Report(count, f"{where}: expected entry {seq}")
            if entry.prev_hash != prev or entry.entry_hash != entry_hash(prev, entry_fields(entry)):
                return Report(count, f"{where}: hash does not verify")
            prev = entry.entry_hash
            count += 1
        if seq != head.seq or prev != head.head_hash:
            return Report(count, f"stream {stream}: ends at entry {seq}, head says {head.seq}")
    return Report(count, None)
