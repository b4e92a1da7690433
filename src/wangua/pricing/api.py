"""Starting-price record endpoints (R-LR28)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from wangua.kit.money import parse_amount
from wangua.kit.paging import id_cursor
from wangua.kit.problems import forbidden
from wangua.lots.repository import get_lot
from wangua.pricing import service
from wangua.runtime import Actor
from wangua.web import ObjectId, RuntimeDep, link_next, page_limit, role

router = APIRouter(prefix="/api/v1", tags=["pricing"])


class ProposalBody(BaseModel):
    appraised_price: Any


@router.post("/lots/{lot_id}/price/propose")
def propose(
    lot_id: ObjectId,
    body: ProposalBody,
    rt: RuntimeDep,
    actor: Annotated[Actor, Depends(role("staff"))],
) -> dict[str, Any]:
    """The reserve center proposes the starting price with the appraised price; the
    starting price is never below it (`422 BELOW_APPRAISED_PRICE`)."""
    appraised = parse_amount(body.appraised_price, field="appraised_price")
    with rt.work(actor) as work:
        service.propose(work, lot_id, appraised)
        return service.price_view(work.session, get_lot(work.session, lot_id))


@router.post("/lots/{lot_id}/price/review")
def review(
    lot_id: ObjectId, rt: RuntimeDep, actor: Annotated[Actor, Depends(role("grantor"))]
) -> dict[str, Any]:
    """The bureau reviews it (a different person, `409 SAME_PERSON`)."""
    with rt.work(actor) as work:
        service.review(work, lot_id)
        return service.price_view(work.session, get_lot(work.session, lot_id))


@router.post("/lots/{lot_id}/price/approve")
def approve(
    lot_id: ObjectId, rt: RuntimeDep, actor: Annotated[Actor, Depends(role("grantor"))]
) -> dict[str, Any]:
    """The planning committee approves it (a third person)."""
    with rt.work(actor) as work:
        service.approve(work, lot_id)
        return service.price_view(work.session, get_lot(work.session, lot_id))


@router.get("/lots/{lot_id}/price")
def price_record(
    lot_id: ObjectId,
    rt: RuntimeDep,
    actor: Annotated[Actor, Depends(role("staff", "grantor", "supervisor"))],
) -> dict[str, Any]:
    with rt.read() as session:
        lot = get_lot(session, lot_id)
        if actor.role != "supervisor" and actor.grantor != lot.grantor:
            raise forbidden("只能查看本出让人的地块")
        return service.price_view(session, lot)


@router.get("/prices")
def draft_prices(
    request: Request,
    response: Response,
    rt: RuntimeDep,
    actor: Annotated[Actor, Depends(role("grantor"))],
    limit: int | None = None,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """R-LR28: the caller's grantor's draft lots with a proposed starting price, oldest
    first, each with its record (who proposed, reviewed and approved it): what awaits the
    grantor's review and approval, as the grantor's page lists it."""
    size = page_limit(limit)
    with rt.read() as session:
        rows = service.draft_prices(session, actor.grantor, id_cursor(cursor), size)
        items = [{"code": lot.code, "name": lot.name, **price} for lot, price in rows]
    link_next(request, response, items, size, items[-1]["lot_id"] if items else None)
    return items
