"""Application endpoints (API.md, Applications and deposits)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import select

from wangua.applications import service
from wangua.applications.models import Application
from wangua.bidding.board import BidderStanding, bidder_standing, next_minimum
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


def _standing_view(lot: Lot, standing: BidderStanding) -> dict[str, Any]:
    application = standing.application
    return {
        "lot_id": lot.id,
        "lot_status": lot.status,
        "application_id": application.id if application else None,
        "application_status": application.status if application else None,
        "bidder_number": application.bidder_number if application else None,
        "qualified": standing.qualified,
        "quoted_in_listing": standing.has_listing_quote,
        "may_join_inquiry": standing.qualified and standing.has_listing_quote,
        "inquiry_answer": standing.inquiry_answer,
        "proxy_max": standing.proxy_max,
        "won": standing.won,
        "next_minimum": next_minimum(lot),
        "cap_reached": lot.capped,
        "may_accept_cap": standing.may_accept_cap,
        "cap_accepted": standing.in_lottery,
    }


@router.get("/lots/{lot_id}/standing")
def my_standing(
    lot_id: ObjectId, rt: RuntimeDep, actor: Annotated[Actor, Depends(role("bidder"))]
) -> dict[str, Any]:
    """The caller's own position on a published lot, as the bidder's panel shows it: its
    application and bidder number, whether it quoted in the listing and so may join the
    timed bidding (R-21), its inquiry answer (`true` joined, `false` declined, `null` not
    answered), its proxy's maximum (R-26), whether it won, the next minimum quote
    (R-19a, R-19b), and once the price reached the cap whether it may accept the cap or
    is in the lottery (R-CAP). Never anyone else's."""
    with rt.read() as session:
        lot = session.get(Lot, lot_id)
        if lot is None or lot.status == "draft":
            raise not_found("地块")
        assert actor.user_id is not None
        return _standing_view(lot, bidder_standing(session, lot, actor.user_id))
