"""The raw-SQL floor: pgbench running a quote's transaction shape on scratch tables."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

from benchmarks.stats import percentile

HERE = Path(__file__).parent
PGBENCH_CANDIDATES = ("/usr/lib/postgresql/15/bin/pgbench", "pgbench")
HOST, USER = "127.0.0.1", "postgres"

SCHEMA = """
CREATE TABLE bench_lots (
    id bigint PRIMARY KEY, quote_count int NOT NULL, highest_fen bigint NOT NULL,
    leader_application_id bigint, event_seq int NOT NULL DEFAULT 0);
CREATE TABLE bench_quotes (
    id bigserial PRIMARY KEY, lot_id bigint NOT NULL REFERENCES bench_lots(id),
    seq int NOT NULL, application_id bigint NOT NULL, amount_fen bigint NOT NULL,
    received_at timestamptz NOT NULL, UNIQUE (lot_id, seq));
CREATE TABLE bench_applications (
    id bigserial PRIMARY KEY, lot_id bigint NOT NULL, user_id bigint NOT NULL,
    UNIQUE (lot_id, user_id));
CREATE TABLE bench_timers (
    id bigserial PRIMARY KEY, lot_id bigint NOT NULL, due_at timestamptz NOT NULL,
    fired_at timestamptz);
CREATE INDEX ON bench_timers (lot_id);
CREATE TABLE bench_events (
    id bigserial PRIMARY KEY, lot_id bigint NOT NULL, seq int NOT NULL, name text NOT NULL,
    data jsonb NOT NULL, at timestamptz NOT NULL, UNIQUE (lot_id, seq));
CREATE TABLE bench_audit_heads (stream text PRIMARY KEY, seq int NOT NULL, head_hash text);
CREATE TABLE bench_audit (
    id bigserial PRIMARY KEY, stream text NOT NULL, seq int NOT NULL, at timestamptz NOT NULL,
    action text NOT NULL, input_digest text, prev_hash text, entry_hash text,
    UNIQUE (stream, seq));
"""


@dataclass(frozen=True)
class Floor:
    script: str
    lots: int
    clients: int
    seconds: float
    tps: float
    p50_ms: float
    p99_ms: float


def pgbench_path() -> str | None:
    for candidate in PGBENCH_CANDIDATES:
        found = shutil.which(candidate) if "/" not in candidate else candidate
        if found and Path(found).exists():
            return found
    return None


def prepare(url: str, lots: int = 100) -> None:
    """Scratch tables in a scratch database, `lots` lots with no quotes."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA)
        conn.execute(
            "INSERT INTO bench_lots (id, quote_count, highest_fen) "
            "SELECT g, 0, 12000000000 FROM generate_series(1, %s) g",
            (lots,),
        )
        conn.execute(
            "INSERT INTO bench_applications (lot_id, user_id) "
            "SELECT g, 1 FROM generate_series(1, %s) g",
            (lots,),
        )
        conn.execute(
            "INSERT INTO bench_audit_heads (stream, seq, head_hash) "
            "SELECT 'lot:' || g, 0, '' FROM generate_series(1, %s) g",
            (lots,),
        )
        conn.execute("VACUUM ANALYZE")


def reset(url: str) -> None:
    """Back to empty lots, so every level starts from the same table sizes."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE bench_quotes, bench_events, bench_audit")
        conn.execute("UPDATE bench_lots SET quote_count = 0, event_seq = 0")
        conn.execute("UPDATE bench_audit_heads SET seq = 0")
        conn.execute("VACUUM ANALYZE")


def run_pgbench(
    pgbench: str, dbname: str, script: str, *, lots: int, clients: int, seconds: float
) -> Floor:
    """pgbench with prepared statements and a per-transaction log for the percentiles."""
    with tempfile.TemporaryDirectory(prefix="wangua-pgbench-") as logs:
        command = [
            pgbench,
            "-n",
            "-h",
            HOST,
            "-U",
            USER,
            "-M",
            "prepared",
            "-c",
            str(clients),
            "-j",
            str(min(clients, os.cpu_count() or 1)),
            "-T",
            str(max(1, round(seconds))),
            "-D",
            f"lots={lots}",
            "-f",
            str(HERE / script),
            "-l",
            "--log-prefix",
            str(Path(logs) / "tx"),
            dbname,
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed ({done.returncode}): {done.stderr[-2000:]}")
        match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", done.stdout)
        if match is None:
            raise RuntimeError(f"no tps in pgbench output:\n{done.stdout}")
        latencies: list[float] = []
        for log in Path(logs).iterdir():
            for line in log.read_text().splitlines():
                parts = line.split()
                if len(parts) >= 3:
                    latencies.append(int(parts[2]) / 1000.0)
    return Floor(
        script,
        lots,
        clients,
        seconds,
        float(match.group(1)),
        percentile(latencies, 50),
        percentile(latencies, 99),
    )
