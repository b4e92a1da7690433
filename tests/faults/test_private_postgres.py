"""The fault tests' private PostgreSQL servers do not outlive a killed test run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.faults.postgres import postgres_binaries, sweep_leftovers

ROOT = Path(__file__).resolve().parents[2]
HOLD = """
import time
from tests.faults.postgres import private_postgres
with private_postgres() as pg:
    print("ready", pg.folder, pg.port, flush=True)
    time.sleep(600)
"""


def _accepts(port: str) -> bool:
    try:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def test_the_next_run_removes_the_private_server_of_a_killed_run() -> None:
    bin_dir = postgres_binaries()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        line = next(line for line in holder.stdout if line.startswith("ready "))
        _, folder, port = line.split()
    finally:
        holder.kill()  # SIGKILL: the holder cannot clean up
        holder.wait(timeout=30)
    assert Path(folder).is_dir() and _accepts(port)
    swept = sweep_leftovers(bin_dir, "postgres" if os.geteuid() == 0 else None)
    assert Path(folder) in swept
    assert not Path(folder).exists() and not _accepts(port)
