"""The record's pages: backups with their restore drill (R-32c) and the verification of
the audit record with its signed checkpoints (R-32a), as `wangua backup drill FILE` and
`wangua audit verify` do on the command line."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from wangua.audit.checkpoints import SigningKey, state
from wangua.audit.verify import verify
from wangua.backups.core import BackupError
from wangua.backups.folder import find, listed, recorded_drill
from wangua.kit.problems import Problem
from wangua.oversight.cosignature import listing_running
from wangua.pages.admin import Admin, CosigningForm
from wangua.pages.rendering import render
from wangua.pages.session import page_role
from wangua.runtime import Actor, Runtime
from wangua.web import RuntimeDep

router = APIRouter(include_in_schema=False)
Overseer = Annotated[Actor, Depends(page_role("admin", "supervisor"))]


def _backups_context(rt: Runtime) -> dict[str, Any]:
    directory = rt.settings.resolved_backup_dir
    backups = listed(directory)
    with rt.read() as session:
        running = listing_running(session)
    return {
        "directory": directory,
        "backups": backups,
        "last_daily": next((b for b in backups if b.daily), None),
        "daily_enabled": rt.clock.mode == "system",
        "backup_time": rt.settings.backup_time,
        "keep_days": rt.settings.backup_keep_days,
        "listing_running": running,
    }


@router.get("/admin/backups", response_class=HTMLResponse)
def backups_page(request: Request, rt: RuntimeDep, actor: Admin) -> HTMLResponse:
    """R-32c: the backup folder, the last daily backup, and the drill."""
    return render(request, "admin/backups.html", _backups_context(rt))


@router.post("/admin/backups/drill", response_class=HTMLResponse)
def run_drill(
    request: Request,
    rt: RuntimeDep,
    actor: Admin,
    cosigning: CosigningForm,
    name: Annotated[str, Form(min_length=1, max_length=200)],
) -> HTMLResponse:
    """R-32c: restore a listed backup into a scratch database, compare its rows with the
    manifest and verify its audit record, from the serving process."""
    chosen = find(rt.settings.resolved_backup_dir, name)
    context = _backups_context(rt) | {"drilled": chosen}
    try:
        with cosigning.signed_in(rt) as token:
            context["report"] = recorded_drill(rt, actor, chosen.path, token)
    except BackupError as error:
        context["failure"] = str(error)
    except Problem as problem:
        context["problem"] = problem
        return render(request, "admin/backups.html", context, status_code=problem.status)
    return render(request, "admin/backups.html", context)


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request, rt: RuntimeDep, actor: Overseer, run: bool = False
) -> HTMLResponse:
    """R-32a: the checkpoint state and, on request, `wangua audit verify`: every chain
    recomputed from its genesis and every checkpoint checked against the chains."""
    key = SigningKey(rt.settings.resolved_audit_key_dir)
    with rt.read() as session:
        context = {
            "checkpoints": state(session, key),
            "report": verify(session, key) if run else None,
        }
    return render(request, "admin/audit.html", context)
