"""The append-only audit record (R-32a), hash-chained per stream: lots never wait on each other."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wangua.db import Base, Id, UTCDateTime


class AuditStream(Base):
    """The head of one chain ("system" or "lot:<id>"); its row lock orders the chain."""

    __tablename__ = "audit_streams"

    stream: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (UniqueConstraint("stream", "seq"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    stream: Mapped[str] = mapped_column(String(40), ForeignKey("audit_streams.stream"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_role: Mapped[str] = mapped_column(String(20))
    actor_cert_serial: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[str | None] = mapped_column(String(64))
    input_digest: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A signed Merkle root over every stream head at one moment (R-32a).

    `heads` lists [stream, seq, head_hash] sorted by stream: the tree's leaves.
    """

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    streams: Mapped[int] = mapped_column(Integer)
    entries: Mapped[int] = mapped_column(Integer)
    root: Mapped[str] = mapped_column(String(64))
    heads: Mapped[list[Any]] = mapped_column(JSON)
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)
