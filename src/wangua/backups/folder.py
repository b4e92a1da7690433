"""What the backup folder holds (R-32c): each backup beside its checksum and manifest,
newest first, and the restore drill as an administrator's recorded maintenance (R-32b)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from wangua.audit.service import record
from wangua.backups.core import BackupError, Manifest, checksum_path, manifest_path
from wangua.backups.daily import DATED
from wangua.backups.drill import DrillReport, drill
from wangua.kit.problems import not_found
from wangua.oversight.cosignature import cosigner, record_cosignature
from wangua.runtime import Actor, Runtime


@dataclass(frozen=True)
class Listed:
    path: Path
    manifest: Manifest | None
    """None when the manifest is missing or unreadable: the drill will say why."""
    daily: bool
    """Named like the serving process's daily backups (`wangua-YYYYMMDD-HHMMSS.*`)."""

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def rows(self) -> int:
        return sum(self.manifest.tables.values()) if self.manifest else 0


def listed(directory: Path) -> list[Listed]:
    """Every backup file in `directory` (a file with a checksum or manifest beside it, or
    a daily backup's name), newest first."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        if not path.is_file() or path.name.endswith((".sha256", ".manifest.json", ".partial")):
            continue
        match = DATED.match(path.name)
        daily = match is not None and match.group(1) is not None
        sidecar = manifest_path(path)
        if not daily and not sidecar.exists() and not checksum_path(path).exists():
            continue
        try:
            manifest = Manifest.load(sidecar)
        except BackupError:
            manifest = None
        found.append(Listed(path, manifest, daily))
    return sorted(
        found, key=lambda b: (b.manifest.created_at if b.manifest else "", b.name), reverse=True
    )


def find(directory: Path, name: str) -> Listed:
    """The listed backup of that name (404 NOT_FOUND for any other name: nothing outside
    the folder, and no checksum or manifest file, is ever drilled)."""
    chosen = next((b for b in listed(directory) if b.name == name), None)
    if chosen is None:
        raise not_found("备份")
    return chosen


def listed_view(backup: Listed) -> dict[str, Any]:
    manifest = backup.manifest
    return {
        "name": backup.name,
        "daily": backup.daily,
        "manifest": manifest is not None,
        "created_at": manifest.created_at if manifest else None,
        "dialect": manifest.dialect if manifest else None,
        "size": manifest.size if manifest else backup.path.stat().st_size,
        "sha256": manifest.sha256 if manifest else None,
        "tables": len(manifest.tables) if manifest else None,
        "rows": backup.rows if manifest else None,
    }


def drill_view(name: str, report: DrillReport) -> dict[str, Any]:
    return {
        "name": name,
        "ok": report.ok,
        "failure": None,
        "tables": report.tables,
        "mismatches": report.mismatches,
        "audit": {
            "ok": report.audit.failure is None,
            "count": report.audit.count,
            "failure": report.audit.failure,
        },
    }


def recorded_drill(runtime: Runtime, actor: Actor, file: Path, token: str | None) -> DrillReport:
    """The drill run by an administrator from the pages: while a listing runs, under a
    supervisor's co-signature (`token`, R-32b); its start and its outcome are recorded."""
    with runtime.work(actor) as work:
        record_cosignature(work, cosigner(work.session, actor, token), "backup.drill")
        record(work, "backup.drill_started", object_type="backup", object_id=file.name)
    outcome = "failed: interrupted"
    try:
        report = drill(runtime.settings, file)
        outcome = "ok" if report.ok else "failed: " + "; ".join(_failures(report))
    except (BackupError, OSError, psycopg.Error) as error:
        outcome = f"failed: {error}"
        raise BackupError(str(error)) from error
    finally:
        with runtime.work(actor) as work:
            record(
                work, "backup.drilled", object_type="backup", object_id=file.name, result=outcome
            )
    return report


def _failures(report: DrillReport) -> list[str]:
    audit = [f"audit: {report.audit.failure}"] if report.audit.failure else []
    return report.mismatches + audit
