"""Application endpoints (API.md, Applications and deposits)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import select

from wangua.applications import service
from wangua.applications.models import Application
from wangua.kit.problems import not_found
from wangua.lots.models import Lot
from wangua.runtime import Actor
from wangua.web import CurrentActor, ObjectId, RuntimeDep, role

router = APIRouter(prefix="/api/v1", tags=["applications"])
DECIDED = ("sold", "unsold", "terminated", "voided")


class ApplicationBody(BaseModel):
    members: list[dict[str, Any]] | None = None
    new_company: dict[str, Any] | None = None
    consent: bool = False


@router.post("/lots/{lot_id}/applications", status_code=201)
def apply(
    lot_id: ObjectId,
    body: ApplicationBody,
    rt: RuntimeDep,
    actor: Annotated[Actor, Depends(role("bidder"))],
) -> dict[str, Any]:
    """R-13 … R-15: apply alone or jointly; the answer carries the order number and
    the deposit instructions."""
    with rt.work(actor) as work:
        application = service.apply(work, lot_id, body.members, body.new_company, body.consent)
        lot = work.session.get(Lot, lot_id)
        assert lot is not None
        return service.application_view(work.session, application, lot, rt.settings)


@router.get("/applications/{application_id}")
def get_application(
    application_id: ObjectId, rt: RuntimeDep, actor: CurrentActor
) -> dict[str, Any]:
    """Its bidder sees it at any time; staff of the lot's grantor after the decision (R-07)."""
    with rt.read() as session:
        application = session.get(Application, application_id)
        lot = session.get(Lot, application.lot_id) if application else None
        if application is None or lot is None:
            raise not_found("竞买申请")
        own = application.user_id == actor.user_id
        staff = "staff" in actor.roles and actor.grantor == lot.grantor and lot.status in DECIDED
        if not (own or staff):
            raise not_found("竞买申请")
        return service.application_view(session, application, lot, rt.settings)


@router.get("/me/applications")
def my_applications(rt: RuntimeDep, actor: CurrentActor) -> list[dict[str, Any]]:
    with rt.read() as session:
        rows = session.execute(
            select(Application, Lot)
            .join(Lot, Lot.id == Application.lot_id)
            .where(Application.user_id == actor.user_id)
            .order_by(Application.id)
        )
        return [service.application_view(session, a, lot, rt.settings) for a, lot in rows]
