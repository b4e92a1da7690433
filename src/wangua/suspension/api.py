"""Suspension, resumption, termination and approvals (API.md, Lots; R-37, R-39)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from wangua.kit.paging import before_id, id_cursor
from wangua.kit.times import parse_rfc3339, rfc3339
from wangua.lots.repository import get_lot
from wangua.lots.service import check_grantor_scope
from wangua.lots.views import view
from wangua.runtime import Actor
from wangua.suspension import service
from wangua.web import ObjectId, RuntimeDep, link_next, page_limit, role

router = APIRouter(prefix="/api/v1", tags=["suspension"])
Staff = Annotated[Actor, Depends(role("staff"))]


class CauseBody(BaseModel):
    cause: int
    note: str = Field(default="", max_length=2000)


class ResumeBody(BaseModel):
    effective_at: str


class ApprovalBody(CauseBody):
    action: str


@router.post("/lots/{lot_id}/suspend")
def suspend(lot_id: ObjectId, body: CauseBody, rt: RuntimeDep, actor: Staff) -> dict[str, Any]:
    """R-37: causes (1) and (4) at once; (2), (3), (5) after the grantor's approval
    (`403 APPROVAL_REQUIRED`). Quoting closes and the lot's timers stop."""
    with rt.work(actor) as work:
        service.suspend(work, lot_id, body.cause, body.note)
        return view(work.session, get_lot(work.session, lot_id))


@router.post("/lots/{lot_id}/resume")
def resume(lot_id: ObjectId, body: ResumeBody, rt: RuntimeDep, actor: Staff) -> dict[str, Any]:
    """R-39: announce the resumption at least 5 days ahead (`422 RESUME_NOTICE_TOO_SHORT`)."""
    effective_at = parse_rfc3339(body.effective_at, field="effective_at")
    with rt.work(actor) as work:
        suspension = service.resume(work, lot_id, effective_at)
        return {
            **view(work.session, get_lot(work.session, lot_id)),
            "resume_at": rfc3339(suspension.resume_at),
        }


@router.post("/lots/{lot_id}/terminate")
def terminate(lot_id: ObjectId, body: CauseBody, rt: RuntimeDep, actor: Staff) -> dict[str, Any]:
    """R-37: end the listing for good; the same approval rule as suspension."""
    with rt.work(actor) as work:
        lot = service.terminate(work, lot_id, body.cause, body.note)
        return view(work.session, lot)


@router.post("/lots/{lot_id}/approvals", status_code=201)
def approve(
    lot_id: ObjectId,
    body: ApprovalBody,
    rt: RuntimeDep,
    actor: Annotated[Actor, Depends(role("grantor"))],
) -> dict[str, Any]:
    """Art. 38: the grantor's officer approves a suspension or termination (causes 2, 3, 5)."""
    with rt.work(actor) as work:
        approval = service.approve(work, lot_id, body.action, body.cause, body.note)
        return {
            "id": approval.id,
            "lot_id": lot_id,
            "action": approval.action,
            "cause": approval.cause,
            "approved_at": rfc3339(approval.approved_at),
        }


@router.get("/lots/{lot_id}/approvals")
def lot_approvals(
    lot_id: ObjectId,
    request: Request,
    response: Response,
    rt: RuntimeDep,
    actor: Annotated[Actor, Depends(role("staff", "grantor"))],
    limit: int | None = None,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """Art. 38: the grantor's approvals for one of its lots, oldest first, each `used` once
    a suspension or termination relied on it; for the lot's staff and grantor (R-03)."""
    size = page_limit(limit)
    with rt.read() as session:
        lot = get_lot(session, lot_id)
        check_grantor_scope(actor, lot.grantor)
        approvals = service.lot_approvals(session, lot.id, id_cursor(cursor), size)
        items = service.approval_views(session, [(a, lot) for a in approvals])
    link_next(request, response, items, size, items[-1]["id"] if items else None)
    return items


@router.get("/approvals")
def grantor_approvals(
    request: Request,
    response: Response,
    rt: RuntimeDep,
    actor: Annotated[Actor, Depends(role("grantor"))],
    limit: int | None = None,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """Art. 38: the approvals given for the caller's grantor's lots, newest first."""
    size = page_limit(limit)
    with rt.read() as session:
        rows = service.grantor_approvals(session, actor.grantor, before_id(cursor), size)
        items = service.approval_views(session, rows)
    link_next(request, response, items, size, items[-1]["id"] if items else None)
    return items


@router.get("/lots/{lot_id}/suspension")
def lot_suspension(lot_id: ObjectId, rt: RuntimeDep, actor: Staff) -> dict[str, Any]:
    """R-37, R-39: the suspension the lot is under (`null` when it is not suspended): its
    cause, the time the running phase had left, the announced resumption, and the earliest
    time a resumption announced now may take effect."""
    with rt.read() as session:
        lot = get_lot(session, lot_id)
        check_grantor_scope(actor, lot.grantor)
        now = rt.clock.now(session)
        return service.suspension_view(lot, service.current_suspension(session, lot), now)
