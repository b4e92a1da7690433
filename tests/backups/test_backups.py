"""R-32c: a backup restores, on both databases, and the serving process takes one daily."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests.harness import Stack, drop_postgres_database, fresh_postgres_database
from wangua.audit.checkpoints import SigningKey, checkpoint
from wangua.audit.models import AuditEntry
from wangua.audit.verify import verify
from wangua.backups.core import (
    BackupError,
    Manifest,
    checksum_path,
    manifest_path,
    restore,
    row_counts,
)
from wangua.backups.daily import prune, take_backup, take_daily
from wangua.backups.drill import drill
from wangua.cli import main
from wangua.config import Settings
from wangua.db import Database
from wangua.runtime import Runtime
from wangua.serving import migrate


def counts_and_audit(url: str, key: SigningKey) -> tuple[dict[str, int], int, str | None]:
    database = Database(url)
    try:
        with database.read_session() as session:
            report = verify(session, key)
            return row_counts(session.connection()), report.count, report.failure
    finally:
        database.dispose()


def test_r32c_backup_restore_verify_round_trip(stack: Stack, tmp_path: Path) -> None:
    checkpoint(stack.runtime)
    key = SigningKey(stack.runtime.settings.resolved_audit_key_dir)
    out = tmp_path / ("db.pgdump" if stack.backend == "postgresql" else "db.sqlite3")
    manifest = take_backup(stack.runtime, out, "test")
    assert checksum_path(out).read_text().split() == [manifest.sha256, out.name]
    assert Manifest.load(manifest_path(out)) == manifest
    assert manifest.tables["audit_entries"] > 0 and manifest.tables["audit_checkpoints"] > 0

    name = f"wangua_restore_{os.getpid()}"
    if stack.backend == "postgresql":
        target = fresh_postgres_database(name)
    else:
        target = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    try:
        restore(target, out)
        tables, records, failure = counts_and_audit(target, key)
        assert tables == manifest.tables
        assert failure is None and records == manifest.tables["audit_entries"]
        with pytest.raises(BackupError, match="不是空库"):
            restore(target, out)
    finally:
        if stack.backend == "postgresql":
            drop_postgres_database(name)

    report = drill(stack.runtime.settings, out)
    assert report.ok and report.tables == manifest.tables

    # the backup itself is in the record, with its checksum
    with stack.runtime.read() as session:
        taken = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "backup.taken").order_by(AuditEntry.id)
        ).all()[-1]
    assert (taken.object_id, taken.result) == (out.name, f"sha256={manifest.sha256}")


def test_r32c_a_damaged_backup_is_refused_before_restoring(stack: Stack, tmp_path: Path) -> None:
    out = tmp_path / "db.bak"
    take_backup(stack.runtime, out, "test")
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0xFF
    out.write_bytes(bytes(data))
    target = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    with pytest.raises(BackupError, match="校验和不符"):
        restore(target, out)
    with pytest.raises(BackupError, match="校验和不符"):
        drill(stack.runtime.settings, out)
    assert not (tmp_path / "restored.sqlite3").exists()


@pytest.fixture
def runtime(tmp_path: Path) -> Runtime:
    settings = Settings(
        data_dir=tmp_path / "data",
        clock="simulated",
        clock_start=datetime.fromisoformat("2026-03-02T01:00:00+00:00"),  # 09:00 in Xianning
        backup_keep_days=3,
    )
    migrate(settings)
    return Runtime(settings)


def test_r32c_the_daily_backup_is_taken_once_a_day_and_recorded(runtime: Runtime) -> None:
    directory = runtime.settings.resolved_backup_dir
    directory.mkdir(parents=True)
    old = ["wangua-20260226-020000.sqlite3", "wangua-20260227-020000.sqlite3", ".claim-20260227"]
    for name in old:
        (directory / name).write_text("old")
    first = take_daily(runtime)
    assert first is not None and first.name == "wangua-20260302-090000.sqlite3"
    assert take_daily(runtime) is None  # today's is taken
    assert sorted(p.name for p in directory.iterdir()) == [
        ".claim-20260302",
        first.name,
        first.name + ".manifest.json",
        first.name + ".sha256",
    ]
    with runtime.read() as session:
        actions = session.scalars(select(AuditEntry.action)).all()
    assert actions == ["backup.taken"]
    runtime.close()


def test_r32c_retention_keeps_the_last_days(tmp_path: Path) -> None:
    for day in ("20260301", "20260302", "20260303"):
        (tmp_path / f"wangua-{day}-020000.pgdump").write_text("x")
        (tmp_path / f"wangua-{day}-020000.pgdump.sha256").write_text("x")
    (tmp_path / "notes.txt").write_text("kept")
    removed = prune(tmp_path, date(2026, 3, 4), keep_days=2)
    assert sorted(p.name for p in removed) == [
        "wangua-20260301-020000.pgdump",
        "wangua-20260301-020000.pgdump.sha256",
        "wangua-20260302-020000.pgdump",
        "wangua-20260302-020000.pgdump.sha256",
    ]
    assert sorted(p.name for p in tmp_path.iterdir())[0] == "notes.txt"


def test_r32c_the_command_line_backs_up_drills_and_restores(tmp_path: Path) -> None:
    env = {"WANGUA_DATA_DIR": str(tmp_path / "data")}
    runner = CliRunner()

    def run(*args: str, **extra: str) -> tuple[int, str]:
        result = runner.invoke(main, list(args), env={**env, **extra})
        return result.exit_code, result.output

    assert run("db", "upgrade")[0] == 0
    code, out = run("audit", "checkpoint")
    assert code == 0 and out.startswith("检查点 1: 1 条链, 0 条记录"), out
    backup_file = str(tmp_path / "b" / "wangua.sqlite3")
    code, out = run("backup", "--out", backup_file)
    assert code == 0 and "sha256" in out, out
    code, out = run("backup", "drill", backup_file)
    assert code == 0 and "演练通过" in out, out
    other = {"WANGUA_DATA_DIR": str(tmp_path / "other")}
    code, out = run("restore", backup_file, **other)
    assert code == 0, out
    code, out = run("restore", backup_file, **other)
    assert code == 1 and "不是空库" in out
    code, out = run(
        "audit", "verify", WANGUA_AUDIT_KEY_DIR=str(tmp_path / "data" / "keys"), **other
    )
    assert (code, out.strip()) == (0, "ok 0 records")
