"""Reserve endpoints (API.md, Lots): the sealing certificate and the import."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from wangua.kit.paging import id_cursor
from wangua.reserve import service
from wangua.runtime import Actor
from wangua.web import ObjectId, RuntimeDep, link_next, page_limit, role

router = APIRouter(prefix="/api/v1", tags=["reserve"])


class ReserveBody(BaseModel):
    sealed: str = Field(min_length=1, max_length=200_000)


@router.get("/reserve-key")
def reserve_key(rt: RuntimeDep) -> Response:
    """The system's sealing certificate (PEM) that supervisors seal reserve prices to."""
    return Response(rt.sealing_key.certificate_pem(), media_type="application/x-pem-file")


@router.post("/lots/{lot_id}/reserve", status_code=204)
def import_reserve(
    lot_id: ObjectId,
    body: ReserveBody,
    rt: RuntimeDep,
    actor: Annotated[Actor, Depends(role("admin"))],
) -> Response:
    """R-11: an administrator imports the supervisor-sealed reserve in the last 30 minutes
    before the listing deadline, once. The price stays sealed until the decision."""
    with rt.work(actor) as work:
        service.import_reserve(work, lot_id, body.sealed, rt.trust_anchors)
    return Response(status_code=204)


@router.get("/admin/reserves")
def awaited_reserves(
    request: Request,
    response: Response,
    rt: RuntimeDep,
    actor: Annotated[Actor, Depends(role("admin"))],
    limit: int | None = None,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """R-11: the lots with a reserve not yet decided, by listing deadline, each with the
    opening of its import window and whether its sealed reserve was imported (never the
    price); as the administrator's page lists them."""
    size = page_limit(limit)
    with rt.read() as session:
        rows = service.awaited_reserves(session, id_cursor(cursor) or None, size)
        items = [service.awaited_view(lot, imported_at) for lot, imported_at in rows]
    link_next(request, response, items, size, items[-1]["lot_id"] if items else None)
    return items
