"""One consistent backup of the database, its checksum and manifest, and its restore (R-32c).

SQLite is copied with the online backup API; PostgreSQL with `pg_dump` in custom
format, under a snapshot exported from the transaction that counts the rows, so
the manifest's row counts are exactly those of the dump. Beside FILE are
FILE.sha256 (in `sha256sum` format) and FILE.manifest.json (dialect, time, rows
per table). A restore checks the checksum first and refuses a non-empty database.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import create_engine, func, inspect, select, table
from sqlalchemy.engine import URL, Connection

from wangua.db import normalise_url
from wangua.kit.times import rfc3339, wall_now

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
FORMAT = "wangua-backup/1"


class BackupError(Exception):
    """A backup that cannot be taken, checked or restored; the message is for operators."""


@dataclass(frozen=True)
class Manifest:
    dialect: str
    created_at: str
    sha256: str
    size: int
    tables: dict[str, int]

    def to_json(self) -> str:
        return json.dumps(
            {"format": FORMAT, **self.__dict__}, ensure_ascii=False, indent=2, sort_keys=True
        )

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            doc = json.loads(path.read_text())
            if doc.pop("format") != FORMAT:
                raise BackupError(f"{path.name}: 不是 wangua 备份清单")
            return cls(**doc)
        except FileNotFoundError:
            raise BackupError(f"缺少备份清单 {path.name}") from None
        except (ValueError, KeyError, TypeError) as error:
            raise BackupError(f"{path.name}: 备份清单格式错误") from error


def checksum_path(file: Path) -> Path:
    return file.with_name(file.name + ".sha256")


def manifest_path(file: Path) -> Path:
    return file.with_name(file.name + ".manifest.json")


def sha256_file(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_checksum(file: Path) -> str:
    """The file's SHA-256, after checking it against FILE.sha256."""
    try:
        expected = checksum_path(file).read_text().split()[0]
    except (FileNotFoundError, IndexError):
        raise BackupError(f"缺少校验和文件 {checksum_path(file).name}") from None
    actual = sha256_file(file)
    if actual != expected:
        raise BackupError(f"{file.name} 的 SHA-256 校验和不符,备份已损坏或被改动")
    return actual


def row_counts(conn: Connection) -> dict[str, int]:
    return {
        name: int(conn.scalar(select(func.count()).select_from(table(name))) or 0)
        for name in sorted(inspect(conn).get_table_names())
    }


def backup(database_url: str, out: Path) -> Manifest:
    """Write a consistent backup of the database to `out`, with checksum and manifest."""
    url = normalise_url(database_url)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if url.get_backend_name() == "sqlite":
            _sqlite_backup(_sqlite_path(url), partial)
            tables = _counts_of(f"sqlite:///{partial}")
        else:
            tables = _postgres_dump(url, partial)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    manifest = Manifest(
        dialect=url.get_backend_name(),
        created_at=rfc3339(wall_now()) or "",
        sha256=sha256_file(out),
        size=out.stat().st_size,
        tables=tables,
    )
    checksum_path(out).write_text(f"{manifest.sha256}  {out.name}\n")
    manifest_path(out).write_text(manifest.to_json())
    return manifest


def restore(database_url: str, file: Path) -> str:
    """Restore `file` into the EMPTY database at `database_url`; returns the checksum."""
    digest = check_checksum(file)
    url = normalise_url(database_url)
    dialect = backup_dialect(file)
    if dialect != url.get_backend_name():
        raise BackupError(f"{file.name} 是 {dialect} 备份,不能恢复到 {url.get_backend_name()}")
    if not is_empty(database_url):
        raise BackupError("目标数据库不是空库,拒绝恢复")
    if dialect == "sqlite":
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_backup(file, target)
    else:
        _pg_tool(
            url,
            "pg_restore",
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-privileges",
            str(file),
        )
    return digest


def backup_dialect(file: Path) -> str:
    with file.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{file.name} 不是可识别的备份文件")


def is_empty(database_url: str) -> bool:
    url = normalise_url(database_url)
    if url.get_backend_name() == "sqlite" and not _sqlite_path(url).exists():
        return True
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return not inspect(conn).get_table_names()
    finally:
        engine.dispose()


def _counts_of(database_url: str) -> dict[str, int]:
    engine = create_engine(normalise_url(database_url))
    try:
        with engine.connect() as conn:
            return row_counts(conn)
    finally:
        engine.dispose()


def _sqlite_path(url: URL) -> Path:
    if url.database in (None, "", ":memory:"):
        raise BackupError("内存数据库无法备份或恢复")
    return Path(url.database)


def _sqlite_backup(source: Path, target: Path) -> None:
    with (
        closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
        closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment carrying it."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _pg_tool(url: URL, tool: str, *args: str) -> None:
    dsn, env = _libpq(url)
    done = subprocess.run(  # noqa: S603  (our own tool names and arguments, no shell)
        [tool, "--dbname", dsn, *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{tool} 失败: {done.stderr.strip()}")


def _postgres_dump(url: URL, out: Path) -> dict[str, int]:
    """pg_dump under the snapshot of the transaction that counts the rows."""
    dsn, _ = _libpq(url)
    password: dict[str, Any] = {} if url.password is None else {"password": str(url.password)}
    with psycopg.connect(dsn, autocommit=True, **password) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()
        assert snapshot is not None
        names = [
            str(row[0])
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                " ORDER BY tablename"
            )
        ]
        tables = {}
        for name in names:
            query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name))
            row = conn.execute(query).fetchone()
            tables[name] = int(row[0]) if row else 0
        _pg_tool(url, "pg_dump", "--format=custom", f"--snapshot={snapshot[0]}", "--file", str(out))
        conn.execute("ROLLBACK")
    return tables
