"""Signed checkpoints of the audit record (R-32a).

A checkpoint is an RFC 6962 Merkle root over every stream head ([stream, seq,
head_hash], sorted by stream), signed with the system's Ed25519 checkpoint key.
The key lives in files in the data folder (never in the database), apart from
the reserve sealing key. Anyone who later rewrites a chain must also forge the
signature, since each signed head must stay an entry of its chain.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wangua.audit import merkle
from wangua.audit.models import AuditCheckpoint, AuditStream
from wangua.audit.service import canonical
from wangua.kit.times import rfc3339
from wangua.runtime import Runtime, Work

FORMAT = "wangua-audit-checkpoint/1"
KEY_FILE = "audit-signing.key.pem"
PUBLIC_FILE = "audit-signing.pub.pem"


class SigningKey:
    """The checkpoint key pair in `directory`, created on first signature (mode 0600)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @property
    def key_path(self) -> Path:
        return self.directory / KEY_FILE

    @property
    def public_path(self) -> Path:
        return self.directory / PUBLIC_FILE

    def private_key(self) -> Ed25519PrivateKey:
        if not self.key_path.exists():
            self._create()
        key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        if not self.public_path.exists():
            self.public_path.write_bytes(_public_pem(key.public_key()))
        return key

    def public_key(self) -> Ed25519PublicKey | None:
        """The verifying key, or None when this data folder has never signed."""
        if self.public_path.exists():
            key = serialization.load_pem_public_key(self.public_path.read_bytes())
            assert isinstance(key, Ed25519PublicKey)
            return key
        if self.key_path.exists():
            return self.private_key().public_key()
        return None

    def _create(self) -> None:
        """Write a new key; a concurrent creator wins cleanly (link refuses to overwrite)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        scratch = self.directory / f".{KEY_FILE}.{secrets.token_hex(8)}"
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        try:
            os.link(scratch, self.key_path)
        except FileExistsError:
            pass
        finally:
            scratch.unlink()


def _public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def leaf(stream: str, seq: int, head_hash: str) -> bytes:
    return canonical([stream, seq, head_hash]).encode()


def tree_root(heads: list[Any]) -> str:
    return merkle.root([leaf(str(s), int(n), str(h)) for s, n, h in heads]).hex()


def signed_text(checkpoint: AuditCheckpoint) -> bytes:
    """What the key signs: the format, the time, the sizes and the root."""
    return canonical(
        {
            "format": FORMAT,
            "at": rfc3339(checkpoint.at),
            "streams": checkpoint.streams,
            "entries": checkpoint.entries,
            "root": checkpoint.root,
        }
    ).encode()


def take(work: Work, key: SigningKey) -> AuditCheckpoint:
    """Sign the committed heads of every stream, as one consistent read."""
    heads = sorted(
        [row.stream, row.seq, row.head_hash]
        for row in work.session.execute(
            select(AuditStream.stream, AuditStream.seq, AuditStream.head_hash)
        )
    )
    private = key.private_key()
    checkpoint = AuditCheckpoint(
        at=work.now(),
        streams=len(heads),
        entries=sum(seq for _, seq, _ in heads),
        root=tree_root(heads),
        heads=heads,
        key_id=key_id(private.public_key()),
        signature="",
    )
    checkpoint.signature = base64.b64encode(private.sign(signed_text(checkpoint))).decode()
    work.session.add(checkpoint)
    work.session.flush()
    return checkpoint


def check(checkpoint: AuditCheckpoint, public: Ed25519PublicKey | None) -> str | None:
    """Why this checkpoint does not verify by itself (root, sizes, signature), or None."""
    heads = checkpoint.heads
    if [list(h) for h in heads] != sorted([list(h) for h in heads]):
        return "heads are not in stream order"
    if checkpoint.streams != len(heads) or checkpoint.entries != sum(int(h[1]) for h in heads):
        return "sizes do not match its heads"
    if tree_root(heads) != checkpoint.root:
        return "Merkle root does not match its heads"
    if public is None:
        return "no checkpoint key in the data folder to check its signature"
    if checkpoint.key_id != key_id(public):
        return "signed by a key other than this system's checkpoint key"
    try:
        public.verify(base64.b64decode(checkpoint.signature), signed_text(checkpoint))
    except (InvalidSignature, ValueError):
        return "signature does not verify"
    return None


def state(session: Session, key: SigningKey) -> dict[str, Any]:
    """The record's size and its signed checkpoints: how many, the latest, and whether that
    one verifies by itself (its root, sizes and signature)."""
    latest = session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)
    ).first()
    return {
        "count": session.scalar(select(func.count()).select_from(AuditCheckpoint)) or 0,
        "latest": latest,
        "latest_problem": check(latest, key.public_key()) if latest else None,
        "streams": session.scalar(select(func.count()).select_from(AuditStream)) or 0,
        "entries": session.scalar(select(func.sum(AuditStream.seq))) or 0,
    }


def recent(
    session: Session, before: int | None = None, limit: int | None = None
) -> list[AuditCheckpoint]:
    """Checkpoints, newest first (`before`: the id of the last one already seen)."""
    stmt = select(AuditCheckpoint)
    if before is not None:
        stmt = stmt.where(AuditCheckpoint.id < before)
    return list(session.scalars(stmt.order_by(AuditCheckpoint.id.desc()).limit(limit)))


def checkpoint_view(checkpoint: AuditCheckpoint, public: Ed25519PublicKey | None) -> dict[str, Any]:
    problem = check(checkpoint, public)
    return {
        "id": checkpoint.id,
        "at": rfc3339(checkpoint.at),
        "streams": checkpoint.streams,
        "entries": checkpoint.entries,
        "root": checkpoint.root,
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
        "verifies": problem is None,
        "problem": problem,
    }


def latest_at(session: Session) -> datetime | None:
    return session.scalar(select(func.max(AuditCheckpoint.at)))


def checkpoint(runtime: Runtime) -> AuditCheckpoint:
    """Take one checkpoint now (`wangua audit checkpoint`, and the serving process)."""
    with runtime.work() as work:
        return take(work, SigningKey(runtime.settings.resolved_audit_key_dir))
