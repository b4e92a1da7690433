"""`wangua audit verify`: recompute every chain from its genesis and check every
signed checkpoint against the chains (R-32a)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session

from wangua.audit.checkpoints import SigningKey, check
from wangua.audit.models import AuditCheckpoint, AuditEntry, AuditStream
from wangua.audit.service import GENESIS, HASHED, entry_hash
from wangua.kit.times import rfc3339


@dataclass(frozen=True)
class Report:
    count: int
    failure: str | None


class Failed(Exception):
    pass


def verify(session: Session, key: SigningKey | None = None) -> Report:
    """Each stream's entries must run 1, 2, 3 … with each hash over its predecessor,
    and end at the stream's recorded head; each checkpoint must carry a valid
    signature over its heads, and each head it signed must still be in its chain."""
    walk = _Walk(session)
    try:
        signed = _signed_heads(session, key)
        walk.run(signed)
    except Failed as failure:
        return Report(walk.count, str(failure))
    return Report(walk.count, None)


def _signed_heads(session: Session, key: SigningKey | None) -> dict[tuple[str, int], str]:
    """Every (stream, seq) → hash some checkpoint signed, after checking each checkpoint."""
    public = key.public_key() if key is not None else None
    signed: dict[tuple[str, int], tuple[str, int]] = {}
    for checkpoint in session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)):
        problem = check(checkpoint, public)
        if problem is not None:
            raise Failed(f"checkpoint {checkpoint.id}: {problem}")
        for stream, seq, head in checkpoint.heads:
            earlier = signed.setdefault((str(stream), int(seq)), (str(head), checkpoint.id))
            if earlier[0] != head:
                raise Failed(
                    f"checkpoint {checkpoint.id}: stream {stream} entry {seq} differs from"
                    f" checkpoint {earlier[1]}"
                )
    return {where: head for where, (head, _) in signed.items()}


def _where(stream: str, seq: int, entry_id: int) -> str:
    return f"stream {stream} entry {seq} (id {entry_id})"


class _Walk:
    """One pass over all entries in (stream, seq) order, reading plain column values."""

    COLUMNS = (
        AuditEntry.id,
        AuditEntry.prev_hash,
        AuditEntry.entry_hash,
        *(
            # the time is parsed here, by one C call, rather than by a regular expression
            type_coerce(AuditEntry.at, String) if name == "at" else getattr(AuditEntry, name)
            for name in HASHED
        ),
    )

    def __init__(self, session: Session) -> None:
        self.session = session
        self.count = 0

    def run(self, signed: dict[tuple[str, int], str]) -> None:
        heads = {
            row.stream: (row.seq, row.head_hash)
            for row in self.session.execute(
                select(AuditStream.stream, AuditStream.seq, AuditStream.head_hash)
            )
        }
        last_signed: dict[str, int] = {}
        for stream_name, signed_seq in signed:
            last_signed[stream_name] = max(signed_seq, last_signed.get(stream_name, 0))
        ended: set[str] = set()
        stream: str | None = None
        prev, seq = GENESIS, 0
        rows = self.session.connection().execute(
            select(*self.COLUMNS).order_by(AuditEntry.stream, AuditEntry.seq)
        )
        for id_, row_prev, row_hash, *values in rows:
            fields = dict(zip(HASHED, values, strict=True))
            row_stream, row_seq, at = fields["stream"], fields["seq"], fields["at"]
            if row_stream != stream:
                if stream is not None:
                    _end(stream, seq, prev, heads, last_signed, signed)
                    ended.add(stream)
                stream, prev, seq = row_stream, GENESIS, 0
                if stream in ended:
                    raise Failed(f"stream {stream}: entries out of order")
            seq += 1
            if row_seq != seq:
                raise Failed(f"{_where(row_stream, row_seq, id_)}: expected entry {seq}")
            try:
                fields["at"] = rfc3339(
                    at if isinstance(at, datetime) else datetime.fromisoformat(at)
                )
            except ValueError:
                raise Failed(f"{_where(row_stream, row_seq, id_)}: unreadable time") from None
            if row_prev != prev or row_hash != entry_hash(prev, fields):
                raise Failed(f"{_where(row_stream, row_seq, id_)}: hash does not verify")
            if signed.get((row_stream, seq), row_hash) != row_hash:
                raise Failed(
                    f"{_where(row_stream, row_seq, id_)}: differs from the signed checkpoint"
                )
            prev = row_hash
            self.count += 1
        if stream is not None:
            _end(stream, seq, prev, heads, last_signed, signed)
            ended.add(stream)
        for empty in sorted((heads.keys() | last_signed.keys()) - ended):
            _end(empty, 0, GENESIS, heads, last_signed, signed)


def _end(
    stream: str,
    seq: int,
    prev: str,
    heads: dict[str, tuple[int, str]],
    last_signed: dict[str, int],
    signed: dict[tuple[str, int], str],
) -> None:
    """A chain that ends at (seq, prev) must end at its head and hold all it was signed for."""
    head_seq, head_hash = heads.get(stream, (-1, ""))
    if seq != head_seq or prev != head_hash:
        raise Failed(f"stream {stream}: ends at entry {seq}, head says {head_seq}")
    if last_signed.get(stream, 0) > seq:
        raise Failed(
            f"stream {stream} entry {last_signed[stream]}: signed by a checkpoint but missing"
        )
    if signed.get((stream, 0), GENESIS) != GENESIS:
        raise Failed(f"stream {stream}: a checkpoint signed a different empty chain")
