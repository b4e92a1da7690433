"""The restore drill (R-32c): restore a backup into a scratch database, compare its
rows per table with the manifest, and verify the audit record there."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from wangua.audit.checkpoints import SigningKey
from wangua.audit.verify import Report, verify
from wangua.backups.core import (
    BackupError,
    Manifest,
    backup_dialect,
    check_checksum,
    manifest_path,
    restore,
    row_counts,
)
from wangua.config import Settings
from wangua.db import Database, normalise_url


@dataclass(frozen=True)
class DrillReport:
    tables: dict[str, int]
    mismatches: list[str]
    audit: Report

    @property
    def ok(self) -> bool:
        return not self.mismatches and self.audit.failure is None


def drill(settings: Settings, file: Path) -> DrillReport:
    """Restore `file` into a scratch database (dropped afterwards) and check it."""
    check_checksum(file)
    manifest = Manifest.load(manifest_path(file))
    with _scratch(settings, backup_dialect(file)) as url:
        restore(url, file)
        database = Database(url)
        try:
            with database.read_session() as session:
                tables = row_counts(session.connection())
                report = verify(session, SigningKey(settings.resolved_audit_key_dir))
        finally:
            database.dispose()
    mismatches = [
        f"{name}: 备份时 {manifest.tables.get(name)} 行,恢复后 {tables.get(name)} 行"
        for name in sorted(manifest.tables.keys() | tables.keys())
        if manifest.tables.get(name) != tables.get(name)
    ]
    return DrillReport(tables, mismatches, report)


@contextmanager
def _scratch(settings: Settings, dialect: str) -> Iterator[str]:
    """A temporary SQLite file, or a temporary database on the configured PostgreSQL server."""
    if dialect == "sqlite":
        with tempfile.TemporaryDirectory(prefix="wangua-drill-") as directory:
            yield f"sqlite:///{Path(directory) / 'drill.sqlite3'}"
        return
    server = normalise_url(settings.resolved_database_url)
    if server.get_backend_name() != "postgresql":
        raise BackupError("演练 PostgreSQL 备份需要 WANGUA_DATABASE_URL 指向 PostgreSQL 服务器")
    name = f"wangua_drill_{secrets.token_hex(6)}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
