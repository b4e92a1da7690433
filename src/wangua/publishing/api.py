"""Publication endpoints: the delivery log (staff) and the public Atom feed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select

from wangua.publishing import service
from wangua.publishing.feed import atom
from wangua.publishing.models import Publication
from wangua.runtime import Actor
from wangua.web import RuntimeDep, link_next, page_limit, parse_cursor, role

router = APIRouter(prefix="/api/v1", tags=["publishing"])
FEED_ENTRIES = 100


@router.get("/publications")
def publications(
    request: Request,
    response: Response,
    rt: RuntimeDep,
    actor: Annotated[Actor, Depends(role("staff", "supervisor", "admin"))],
    limit: int | None = None,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """R-04, R-29: every notice with its delivery to each platform: attempts, last answer,
    and whether a result missed its 10-working-day deadline."""
    size = page_limit(limit)
    items = service.deliveries_view(rt, size, parse_cursor(cursor))
    link_next(request, response, items, size, items[-1]["id"] if items else None)
    return items


@router.get("/feed.atom")
def feed(request: Request, rt: RuntimeDep) -> Response:
    """Announcements, supplements, suspensions, resumptions, terminations and results."""
    with rt.public_read() as session:
        newest = list(
            session.scalars(select(Publication).order_by(Publication.id.desc()).limit(FEED_ENTRIES))
        )
    base = str(request.base_url).rstrip("/")
    return Response(atom(newest, base), media_type="application/atom+xml")
