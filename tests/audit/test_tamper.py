"""R-32a: tampering with the audit record is detectable.

A 10,000-entry record (a system stream and twenty lot streams, with signed
checkpoints) is built with the audit service in an SQLite file; its protecting
triggers are dropped there so that the test can tamper. Each of 1,000 random
single changes (an edited field, a deleted entry, two entries swapped, a
truncated tail, a moved head, an altered checkpoint) is applied inside a
transaction, must make `verify` fail, and is rolled back.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.orm import Session

from wangua.audit.checkpoints import SigningKey, take
from wangua.audit.service import SYSTEM_STREAM, lot_stream, record
from wangua.audit.verify import verify
from wangua.config import Settings
from wangua.db import normalise_url
from wangua.runtime import Actor, Runtime
from wangua.serving import migrate

ENTRIES = 10_000
CHANGES = 1_000
STREAMS = [SYSTEM_STREAM, *(lot_stream(n) for n in range(1, 21))]
ACTORS = [
    Actor(user_id=None, role="system", username="system"),
    Actor(user_id=7, role="staff", username="staff", cert_serial="5a1f"),
    Actor(user_id=11, role="bidder", username="bidder", cert_serial="77b0"),
    Actor(user_id=12, role="supervisor", username="supervisor", cert_serial="9c03"),
]
TRIGGERS = [
    "audit_entries_no_update",
    "audit_entries_no_delete",
    "audit_checkpoints_no_update",
    "audit_checkpoints_no_delete",
    "audit_streams_no_delete",
    "audit_streams_forward",
]
FIELDS = {
    "at": "datetime(at, '+1 second')",
    "actor_user_id": "COALESCE(actor_user_id, 0) + 1",
    "actor_role": "actor_role || 'x'",
    "actor_cert_serial": "COALESCE(actor_cert_serial, '') || '0'",
    "action": "action || '.x'",
    "object_type": "object_type || 'x'",
    "object_id": "COALESCE(object_id, '') || '1'",
    "input_digest": "substr(input_digest, 2) || substr(input_digest, 1, 1)",
    "result": "result || ' '",
    "prev_hash": "substr(prev_hash, 2) || 'f'",
    "entry_hash": "substr(entry_hash, 2) || 'f'",
    "seq": "seq + 1000000",
    "stream": "'system', seq = seq + 1000000",
}
SWAPPED = [
    "at",
    "actor_user_id",
    "actor_role",
    "actor_cert_serial",
    "action",
    "object_type",
    "object_id",
    "input_digest",
    "result",
    "prev_hash",
    "entry_hash",
]


@dataclass
class Record:
    url: str
    key: SigningKey


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Record:
    base = tmp_path_factory.mktemp("tamper")
    settings = Settings(data_dir=base, clock="simulated")
    migrate(settings)
    runtime = Runtime(settings)
    key = SigningKey(settings.resolved_audit_key_dir)
    rng = random.Random(32)
    written = 0
    while written < ENTRIES:
        with runtime.work() as work:
            for _ in range(1000):
                work.actor = rng.choice(ACTORS)
                record(
                    work,
                    rng.choice(["quote.accepted", "lot.published", "login", "deposit.matched"]),
                    stream=rng.choice(STREAMS),
                    object_type="thing",
                    object_id=rng.choice([None, written]),
                    data={"n": written},
                )
                written += 1
            if written % 3000 == 0 or written == ENTRIES:
                work.session.flush()
                take(work, key)
    runtime.close()
    engine = create_engine(normalise_url(settings.resolved_database_url))
    with engine.begin() as conn:
        for trigger in TRIGGERS:
            conn.execute(text(f"DROP TRIGGER {trigger}"))
    engine.dispose()
    return Record(settings.resolved_database_url, key)


def _one(conn: Connection, sql: str, **params: object) -> int:
    return int(conn.execute(text(sql), params).scalar_one())


def edit_field(conn: Connection, rng: random.Random) -> str:
    entry = rng.randint(1, ENTRIES)
    field = rng.choice(list(FIELDS))
    update = f"UPDATE audit_entries SET {field} = {FIELDS[field]} WHERE id = :id"  # noqa: S608
    conn.execute(text(update), {"id": entry})
    return f"edit {field} of id {entry}"


def delete_entry(conn: Connection, rng: random.Random) -> str:
    entry = rng.randint(1, ENTRIES)
    conn.execute(text("DELETE FROM audit_entries WHERE id = :id"), {"id": entry})
    return f"delete id {entry}"


def swap_entries(conn: Connection, rng: random.Random) -> str:
    stream = rng.choice(STREAMS)
    size = _one(conn, "SELECT seq FROM audit_streams WHERE stream = :s", s=stream)
    first, second = rng.sample(range(1, size + 1), 2)
    columns = ", ".join(SWAPPED)
    rows = {
        seq: conn.execute(
            text(f"SELECT {columns} FROM audit_entries WHERE stream = :s AND seq = :q"),  # noqa: S608
            {"s": stream, "q": seq},
        ).one()
        for seq in (first, second)
    }
    assignments = ", ".join(f"{c} = :{c}" for c in SWAPPED)
    for seq, other in ((first, second), (second, first)):
        conn.execute(
            text(f"UPDATE audit_entries SET {assignments} WHERE stream = :s AND seq = :q"),  # noqa: S608
            {**rows[other]._asdict(), "s": stream, "q": seq},
        )
    return f"swap {stream} {first} <-> {second}"


def truncate_tail(conn: Connection, rng: random.Random) -> str:
    stream = rng.choice(STREAMS)
    size = _one(conn, "SELECT seq FROM audit_streams WHERE stream = :s", s=stream)
    keep = rng.randint(0, size - 1)
    conn.execute(
        text("DELETE FROM audit_entries WHERE stream = :s AND seq > :k"), {"s": stream, "k": keep}
    )
    return f"truncate {stream} after {keep}"


def truncate_with_head(conn: Connection, rng: random.Random) -> str:
    """Cut a chain back and move its head back to match: only the checkpoints can tell."""
    stream = rng.choice(STREAMS)
    signed = _one(
        conn,
        "SELECT MIN(seq) FROM audit_entries WHERE stream = :s AND entry_hash IN "
        "(SELECT value ->> '$[2]' FROM audit_checkpoints, json_each(heads))",
        s=stream,
    )
    keep = rng.randint(0, signed - 1)
    head = conn.execute(
        text("SELECT entry_hash FROM audit_entries WHERE stream = :s AND seq = :k"),
        {"s": stream, "k": keep},
    ).scalar_one_or_none()
    conn.execute(
        text("DELETE FROM audit_entries WHERE stream = :s AND seq > :k"), {"s": stream, "k": keep}
    )
    conn.execute(
        text("UPDATE audit_streams SET seq = :k, head_hash = :h WHERE stream = :s"),
        {"s": stream, "k": keep, "h": head or "0" * 64},
    )
    return f"truncate {stream} after {keep} and move its head"


def move_head(conn: Connection, rng: random.Random) -> str:
    stream = rng.choice(STREAMS)
    conn.execute(
        text("UPDATE audit_streams SET head_hash = substr(head_hash, 2) || 'e' WHERE stream = :s"),
        {"s": stream},
    )
    return f"move head of {stream}"


def alter_checkpoint(conn: Connection, rng: random.Random) -> str:
    checkpoint = rng.randint(1, _one(conn, "SELECT MAX(id) FROM audit_checkpoints"))
    field, expression = rng.choice(
        [
            ("root", "substr(root, 2) || 'a'"),
            # another first character: 'A' alone would change nothing when it starts so
            (
                "signature",
                "CASE substr(signature, 1, 1) WHEN 'A' THEN 'B' ELSE 'A' END "
                "|| substr(signature, 2)",
            ),
            ("entries", "entries + 1"),
            ("at", "datetime(at, '-1 second')"),
            ("heads", "json_remove(heads, '$[0]')"),
        ]
    )
    conn.execute(
        text(f"UPDATE audit_checkpoints SET {field} = {expression} WHERE id = :id"),  # noqa: S608
        {"id": checkpoint},
    )
    return f"alter {field} of checkpoint {checkpoint}"


CHANGERS: list[Callable[[Connection, random.Random], str]] = [
    edit_field,
    edit_field,
    edit_field,
    delete_entry,
    swap_entries,
    truncate_tail,
    truncate_with_head,
    move_head,
    alter_checkpoint,
]


@pytest.fixture
def connection(built: Record) -> Iterator[Connection]:
    engine = create_engine(normalise_url(built.url))
    with engine.connect() as conn:
        yield conn
    engine.dispose()


def test_r32a_the_untouched_record_verifies(built: Record, connection: Connection) -> None:
    with Session(bind=connection) as session:
        report = verify(session, built.key)
    assert report == report.__class__(ENTRIES, None)


def detect(url: str, key_dir: str, seed: int, count: int) -> list[str]:
    """Apply `count` random changes one at a time; return those that verify missed."""
    rng = random.Random(seed)
    key = SigningKey(Path(key_dir))
    missed = []
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        for _ in range(count):
            transaction = conn.begin()
            change = rng.choice(CHANGERS)(conn, rng)
            with Session(bind=conn) as session:
                report = verify(session, key)
            transaction.rollback()
            if report.failure is None:
                missed.append(change)
        with Session(bind=conn) as session:
            assert verify(session, key).failure is None
    engine.dispose()
    return missed


def test_r32a_a_thousand_single_changes_are_each_detected(built: Record, tmp_path: Path) -> None:
    """Each worker process tampers with its own copy of the record."""
    workers = max(2, min(4, os.cpu_count() or 1))
    source = Path(normalise_url(built.url).database or "")
    jobs = []
    for n in range(workers):
        copy = tmp_path / f"copy{n}.sqlite3"
        shutil.copyfile(source, copy)
        share = CHANGES // workers + (1 if n < CHANGES % workers else 0)
        jobs.append((f"sqlite:///{copy}", str(built.key.directory), 3202 + n, share))
    started = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        missed = [
            change for found in pool.map(detect, *zip(*jobs, strict=True)) for change in found
        ]
    print(f"{CHANGES} changes, {workers} processes: {time.perf_counter() - started:.1f} s")
    assert missed == []
