"""Oversight endpoints: the co-signatures supervisors gave administrators (R-32b), whether
an administrator needs one now, and the host's and supervisors' console of a lot (R-33)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from wangua.kit.paging import before_id
from wangua.oversight import console
from wangua.oversight.cosignature import cosignature_view, cosignatures, listing_running
from wangua.runtime import Actor
from wangua.web import ObjectId, RuntimeDep, link_next, page_limit, role

router = APIRouter(prefix="/api/v1", tags=["oversight"])


@router.get("/admin/cosignatures")
def list_cosignatures(
    request: Request,
    response: Response,
    rt: RuntimeDep,
    actor: Annotated[Actor, Depends(role("supervisor"))],
    limit: int | None = None,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """R-32b: every co-signature a supervisor gave an administrator, newest first: when,
    the administrator, the supervisor, and the action it covered (`user.created`,
    `backup.drill_started`, …), as the supervisor's page lists them. `id` is the audit
    entry of the co-signature."""
    size = page_limit(limit)
    with rt.read() as session:
        items = [cosignature_view(c) for c in cosignatures(session, before_id(cursor), size)]
    link_next(request, response, items, size, items[-1]["id"] if items else None)
    return items


@router.get("/admin/cosignature-required")
def cosignature_required(
    rt: RuntimeDep, actor: Annotated[Actor, Depends(role("admin"))]
) -> dict[str, Any]:
    """R-32b: whether an administrator's action needs a supervisor's co-signature now
    (`X-Cosigner-Token`): true while any lot is listing, in the inquiry or in timed
    bidding."""
    with rt.read() as session:
        return {"required": listing_running(session)}


@router.get("/lots/{lot_id}/console")
def lot_console(
    lot_id: ObjectId, rt: RuntimeDep, actor: Annotated[Actor, Depends(role("staff", "supervisor"))]
) -> dict[str, Any]:
    """R-33: what the host's console shows beside the public board and quotes: the timers
    still to fire, the turnout in numbers only (applied, qualified, quoted in the listing,
    joined, declined and unanswered in the inquiry; never who, R-07), and the checks
    (`DOCUMENTS_MISSING`, `DETAILS_MISSING`, `RESERVE_NOT_IMPORTED`). Staff of the lot's
    grantor (drafts included) and supervisors (published lots)."""
    with rt.read() as session:
        lot = console.watched_lot(session, lot_id, actor)
        return console.console_view(session, lot, rt.clock.now(session))
