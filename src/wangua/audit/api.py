"""The audit record for administrators and supervisors (R-32a): its signed checkpoints,
and `wangua audit verify` run by the serving process, as the audit page runs it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from wangua.audit import checkpoints
from wangua.audit.checkpoints import SigningKey
from wangua.audit.verify import verify
from wangua.kit.paging import before_id
from wangua.runtime import Actor, Runtime
from wangua.web import RuntimeDep, link_next, page_limit, role

router = APIRouter(prefix="/api/v1", tags=["audit"])
Overseer = Annotated[Actor, Depends(role("admin", "supervisor"))]


def _key(rt: Runtime) -> SigningKey:
    return SigningKey(rt.settings.resolved_audit_key_dir)


@router.get("/admin/audit")
def audit_state(rt: RuntimeDep, actor: Overseer) -> dict[str, Any]:
    """The record's chains and entries, how many signed checkpoints there are, and the
    latest one with whether it verifies by itself (its root, sizes and signature)."""
    key = _key(rt)
    with rt.read() as session:
        found = checkpoints.state(session, key)
    latest = found["latest"]
    return {
        "streams": found["streams"],
        "entries": found["entries"],
        "checkpoints": found["count"],
        "latest": None if latest is None else checkpoints.checkpoint_view(latest, key.public_key()),
    }


@router.get("/admin/audit/checkpoints")
def audit_checkpoints(
    request: Request,
    response: Response,
    rt: RuntimeDep,
    actor: Overseer,
    limit: int | None = None,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """The signed checkpoints, newest first, each with its Merkle root, signature and key id
    and whether it verifies by itself; `verify` also checks them against the chains."""
    size = page_limit(limit)
    public = _key(rt).public_key()
    with rt.read() as session:
        rows = checkpoints.recent(session, before_id(cursor), size)
        items = [checkpoints.checkpoint_view(row, public) for row in rows]
    link_next(request, response, items, size, items[-1]["id"] if items else None)
    return items


@router.post("/admin/audit/verify")
def audit_verify(rt: RuntimeDep, actor: Overseer) -> dict[str, Any]:
    """`wangua audit verify`: every chain recomputed from its genesis and every checkpoint
    checked against the chains. `ok` with the number of records, or the first record that
    does not verify (`failure`, as the command prints it after `FAILED at`). A failing
    record is an answer, not a refusal: 200 either way."""
    with rt.read() as session:
        report = verify(session, _key(rt))
    ok = report.failure is None
    return {
        "ok": ok,
        "count": report.count,
        "failure": report.failure,
        "summary": f"ok {report.count} records" if ok else f"FAILED at {report.failure}",
    }
