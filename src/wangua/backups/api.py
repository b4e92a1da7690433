"""The backup folder and the restore drill for administrators (R-32c), as the backups
page shows and runs them; a drill while a listing runs needs a supervisor's co-signature
(`X-Cosigner-Token`, R-32b)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response

from wangua.backups import folder
from wangua.backups.core import BackupError
from wangua.kit.paging import invalid_cursor, link_after
from wangua.runtime import Actor
from wangua.web import RuntimeDep, page_limit, role

router = APIRouter(prefix="/api/v1", tags=["backups"])
Admin = Annotated[Actor, Depends(role("admin"))]
BackupName = Annotated[str, Path(min_length=1, max_length=200)]


@router.get("/admin/backups")
def list_backups(
    request: Request,
    response: Response,
    rt: RuntimeDep,
    actor: Admin,
    limit: int | None = None,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """Every backup in the backup folder (WANGUA_BACKUP_DIR), newest first, with its
    manifest: time, database, size, SHA-256, tables and rows (`manifest: false` when it is
    missing or unreadable; a drill then says why). `daily` marks the serving process's
    daily backups. The cursor is the name of the last backup already seen."""
    size = page_limit(limit)
    backups = folder.listed(rt.settings.resolved_backup_dir)
    if cursor:
        names = [b.name for b in backups]
        if cursor not in names:
            raise invalid_cursor()
        backups = backups[names.index(cursor) + 1 :]
    items = [folder.listed_view(b) for b in backups[:size]]
    link_after(request, response, items, size, items[-1]["name"] if items else None)
    return items


@router.get("/admin/backup-schedule")
def backup_schedule(rt: RuntimeDep, actor: Admin) -> dict[str, Any]:
    """The daily backup: whether the serving process takes one (only with the system
    clock), after what time (Asia/Shanghai), how many days are kept, and the last one."""
    settings = rt.settings
    last = next((b for b in folder.listed(settings.resolved_backup_dir) if b.daily), None)
    return {
        "directory": str(settings.resolved_backup_dir),
        "daily": rt.clock.mode == "system",
        "time": settings.backup_time.strftime("%H:%M"),
        "keep_days": settings.backup_keep_days,
        "last_daily": None if last is None else folder.listed_view(last),
    }


@router.post("/admin/backups/{name}/drill")
def drill_backup(
    name: BackupName,
    rt: RuntimeDep,
    actor: Admin,
    x_cosigner_token: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """`wangua backup drill FILE` from the serving process: restore the backup into a
    scratch database, compare its rows per table with the manifest and verify its audit
    record. While a listing runs, only with a supervisor's co-signature
    (`403 COSIGNATURE_REQUIRED`). Its start and outcome are recorded. A drill that fails
    (a damaged file, rows that differ, an audit record that does not verify) is an answer,
    `ok: false` with the reason, not a refusal."""
    chosen = folder.find(rt.settings.resolved_backup_dir, name)
    try:
        report = folder.recorded_drill(rt, actor, chosen.path, x_cosigner_token)
    except BackupError as error:
        return {
            "name": chosen.name,
            "ok": False,
            "failure": str(error),
            "tables": {},
            "mismatches": [],
            "audit": None,
        }
    return folder.drill_view(chosen.name, report)
