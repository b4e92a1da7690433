"""Backups by the serving process (R-32c): one a day after the configured time
(Asia/Shanghai), kept for the configured number of days, each in the audit record."""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta
from pathlib import Path

from wangua.audit.service import record
from wangua.backups.core import Manifest, backup
from wangua.db import normalise_url
from wangua.kit.times import SHANGHAI
from wangua.runtime import Runtime

EXTENSIONS = {"sqlite": ".sqlite3", "postgresql": ".pgdump"}
DATED = re.compile(r"^(?:wangua-(\d{8})-\d{6}\.|\.claim-(\d{8})$)")


def take_backup(runtime: Runtime, out: Path, reason: str) -> Manifest:
    """Back up the database to `out` and record it, with its checksum, in the audit record."""
    manifest = backup(runtime.settings.resolved_database_url, out)
    with runtime.work() as work:
        record(
            work,
            "backup.taken",
            object_type="backup",
            object_id=out.name,
            data={"file": str(out), "size": manifest.size, "reason": reason},
            result=f"sha256={manifest.sha256}",
        )
    return manifest


def backup_name(at: datetime, dialect: str) -> str:
    return f"wangua-{at.astimezone(SHANGHAI):%Y%m%d-%H%M%S}{EXTENSIONS[dialect]}"


def take_daily(runtime: Runtime) -> Path | None:
    """Today's backup, if its time has come and no process has taken it yet."""
    settings = runtime.settings
    now = runtime.now().astimezone(SHANGHAI)
    if now.time() < settings.backup_time:
        return None
    directory = settings.resolved_backup_dir
    directory.mkdir(parents=True, exist_ok=True)
    claim = directory / f".claim-{now:%Y%m%d}"
    try:
        os.close(os.open(claim, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return None
    dialect = normalise_url(settings.resolved_database_url).get_backend_name()
    out = directory / backup_name(now, dialect)
    try:
        take_backup(runtime, out, "daily")
    except BaseException:
        claim.unlink(missing_ok=True)
        raise
    prune(directory, now.date(), settings.backup_keep_days)
    return out


def prune(directory: Path, today: date, keep_days: int) -> list[Path]:
    """Delete backups (with their checksum and manifest) older than `keep_days` days."""
    oldest = today - timedelta(days=keep_days - 1)
    removed = []
    for path in sorted(directory.iterdir()):
        match = DATED.match(path.name)
        if match is None:
            continue
        digits = match.group(1) or match.group(2)
        day = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        if day < oldest:
            path.unlink()
            removed.append(path)
    return removed
