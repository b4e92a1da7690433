"""Lot endpoints (API.md, Lots): create, publish, read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select

from wangua.kit.problems import not_found
from wangua.lots import service
from wangua.lots.models import Lot
from wangua.lots.schemas import LotCreate
from wangua.lots.views import view, views, with_parts
from wangua.runtime import Actor
from wangua.web import (
    ObjectId,
    OptionalActor,
    RuntimeDep,
    link_next,
    page_limit,
    parse_cursor,
    role,
)

router = APIRouter(prefix="/api/v1", tags=["lots"])
Staff = Annotated[Actor, Depends(role("staff"))]


def _visible(lot: Lot, actor: Actor | None) -> bool:
    """Drafts are seen only by the staff of their grantor (R-03)."""
    return lot.status != "draft" or (
        actor is not None and "staff" in actor.roles and actor.grantor == lot.grantor
    )


@router.post("/lots", status_code=201)
def create_lot(body: LotCreate, rt: RuntimeDep, actor: Staff) -> dict[str, Any]:
    """A clerk creates a lot in status `draft` (R-02, R-03)."""
    with rt.work(actor) as work:
        lot = service.create_lot(work, body)
        return view(work.session, lot)


@router.post("/lots/{lot_id}/publish")
def publish_lot(lot_id: ObjectId, rt: RuntimeDep, actor: Staff) -> dict[str, Any]:
    """Publish the announcement now (R-09a, R-09b) → status `announced`."""
    with rt.work(actor) as work:
        lot = service.publish_lot(
            work, lot_id, require_price_approval=rt.settings.price_approval == "required"
        )
        return view(work.session, lot)


@router.get("/lots")
def list_lots(
    request: Request,
    response: Response,
    rt: RuntimeDep,
    actor: OptionalActor,
    status: str | None = None,
    grantor: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """Lots, oldest first; paged with `limit` and `cursor` (Link: rel="next")."""
    size = page_limit(limit)
    after = parse_cursor(cursor)
    stmt = select(Lot).where(Lot.id > after).order_by(Lot.id)
    if status:
        stmt = stmt.where(Lot.status == status)
    if grantor:
        stmt = stmt.where(Lot.grantor == grantor)
    if actor is None or "staff" not in actor.roles:
        stmt = stmt.where(Lot.status != "draft")
    else:
        stmt = stmt.where((Lot.status != "draft") | (Lot.grantor == actor.grantor))
    with rt.public_read(actor) as session:
        rows = session.execute(with_parts(stmt.limit(size))).all()
        items = views(session, rows)
    link_next(request, response, items, size, rows[-1][0].id if rows else None)
    return items


@router.get("/lots/{lot_id}")
def get_lot(lot_id: ObjectId, rt: RuntimeDep, actor: OptionalActor) -> dict[str, Any]:
    with rt.public_read(actor) as session:
        read = session.execute(with_parts(select(Lot).where(Lot.id == lot_id)))
        row = read.one_or_none()
        if row is None or not _visible(row[0], actor):
            raise not_found("地块")
        return views(session, [row])[0]
