"""Voiding and relisting (R-43)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from wangua.lots.views import view
from wangua.results import confirmation, service
from wangua.runtime import Actor
from wangua.web import ObjectId, RuntimeDep, role

router = APIRouter(prefix="/api/v1", tags=["results"])
Staff = Annotated[Actor, Depends(role("staff"))]


class VoidBody(BaseModel):
    cause: int
    note: str = Field(min_length=1, max_length=2000)


class SigningBody(BaseModel):
    note: str = Field(default="", max_length=2000)


class RelistBody(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    application_deadline: Any
    deposit_deadline: Any
    listing_start: Any
    listing_end: Any


@router.post("/lots/{lot_id}/void")
def void_result(lot_id: ObjectId, body: VoidBody, rt: RuntimeDep, actor: Staff) -> dict[str, Any]:
    """R-43: the winner's result is void (false documents, collusion, other cause); the
    record keeps both the result and its voiding."""
    with rt.work(actor) as work:
        result = service.void_result(work, lot_id, body.cause, body.note)
        return {"lot_id": lot_id, "status": "voided", **service.void_view(result)}


@router.post("/lots/{lot_id}/confirmation/signature", status_code=201)
def record_signing(
    lot_id: ObjectId, body: SigningBody, rt: RuntimeDep, actor: Staff
) -> dict[str, Any]:
    """R-28b: the winner signed the confirmation at the trading center, within its 3
    working days; recorded by staff of the lot's grantor. Afterwards the deposit cannot be
    forfeited for a missed or refused confirmation (R-44)."""
    with rt.work(actor) as work:
        result = confirmation.record_signing(work, lot_id, body.note)
        return confirmation.signing_view(work.session, result, actor.username)


@router.post("/lots/{lot_id}/relist", status_code=201)
def relist(lot_id: ObjectId, body: RelistBody, rt: RuntimeDep, actor: Staff) -> dict[str, Any]:
    """A new draft lot for the same parcel, linked to this one (`relisted_from`)."""
    schedule = body.model_dump(exclude={"code"})
    with rt.work(actor) as work:
        lot = service.relist(work, lot_id, schedule, body.code)
        return view(work.session, lot)
