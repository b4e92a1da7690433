"""Bidder identities for staff (R-07): after the decision, or by approved break-glass."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from wangua.confidentiality import service
from wangua.kit.paging import before_id, id_cursor
from wangua.kit.times import rfc3339
from wangua.oversight.console import watched_lot
from wangua.runtime import Actor
from wangua.web import ObjectId, RuntimeDep, link_next, page_limit, role

router = APIRouter(prefix="/api/v1", tags=["confidentiality"])
Staff = Annotated[Actor, Depends(role("staff"))]
Supervisor = Annotated[Actor, Depends(role("supervisor"))]


class AccessBody(BaseModel):
    reason: str = Field(min_length=4, max_length=2000)


@router.get("/lots/{lot_id}/bidders")
def lot_bidders(lot_id: ObjectId, rt: RuntimeDep, actor: Staff) -> list[dict[str, Any]]:
    """The lot's applicants with their identities (`403 IDENTITIES_SEALED` before the
    decision without an approved break-glass request)."""
    with rt.work(actor) as work:
        return service.bidders(work, lot_id)


@router.post("/lots/{lot_id}/identity-access", status_code=201)
def request_access(
    lot_id: ObjectId, body: AccessBody, rt: RuntimeDep, actor: Staff
) -> dict[str, Any]:
    """A break-glass request, with its reason, for a supervisor to approve."""
    with rt.work(actor) as work:
        request = service.request_access(work, lot_id, body.reason)
        return {"id": request.id, "lot_id": lot_id, "status": "pending"}


@router.get("/lots/{lot_id}/identity-access")
def own_requests(
    lot_id: ObjectId,
    request: Request,
    response: Response,
    rt: RuntimeDep,
    actor: Staff,
    limit: int | None = None,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """The caller's own break-glass requests for a lot of its grantor, newest first: pending,
    or approved with the time the access ends (`open` while it lasts)."""
    size = page_limit(limit)
    with rt.read() as session:
        lot = watched_lot(session, lot_id, actor)
        requests = service.own_requests(session, lot.id, actor.user_id, before_id(cursor), size)
        items = service.access_views(session, [(r, lot) for r in requests])
    link_next(request, response, items, size, items[-1]["id"] if items else None)
    return items


@router.get("/identity-access")
def access_requests(
    request: Request,
    response: Response,
    rt: RuntimeDep,
    actor: Supervisor,
    status: service.AccessStatus = "pending",
    limit: int | None = None,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """R-07: break-glass requests for supervisors, with the lot, the requester and the
    reason (never a bidder): `status=pending` (default) oldest first, or `status=approved`
    most recently approved first, with the approver and the time the access ends."""
    size = page_limit(limit)
    with rt.read() as session:
        after = id_cursor(cursor) or None
        rows = service.access_requests(session, status, after, size)
        items = service.access_views(session, rows)
    link_next(request, response, items, size, items[-1]["id"] if items else None)
    return items


@router.post("/identity-access/{request_id}/approve")
def approve_access(request_id: ObjectId, rt: RuntimeDep, actor: Supervisor) -> dict[str, Any]:
    with rt.work(actor) as work:
        request = service.approve_access(work, request_id)
        return {
            "id": request.id,
            "lot_id": request.lot_id,
            "status": "approved",
            "expires_at": rfc3339(request.expires_at),
        }
