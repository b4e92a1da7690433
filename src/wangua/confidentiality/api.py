"""Bidder identities for staff (R-07): after the decision, or by approved break-glass."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from wangua.confidentiality import service
from wangua.kit.times import rfc3339
from wangua.runtime import Actor
from wangua.web import ObjectId, RuntimeDep, role

router = APIRouter(prefix="/api/v1", tags=["confidentiality"])
Staff = Annotated[Actor, Depends(role("staff"))]


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


@router.post("/identity-access/{request_id}/approve")
def approve_access(
    request_id: ObjectId, rt: RuntimeDep, actor: Annotated[Actor, Depends(role("supervisor"))]
) -> dict[str, Any]:
    with rt.work(actor) as work:
        request = service.approve_access(work, request_id)
        return {
            "id": request.id,
            "lot_id": request.lot_id,
            "status": "approved",
            "expires_at": rfc3339(request.expires_at),
        }
