"""Supplementary notices (API.md, Lots)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from wangua.announcements import service
from wangua.runtime import Actor
from wangua.web import ObjectId, RuntimeDep, role

router = APIRouter(prefix="/api/v1", tags=["announcements"])


class SupplementBody(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=100_000)
    major: bool = False


@router.post("/lots/{lot_id}/supplements", status_code=201)
def publish_supplement(
    lot_id: ObjectId,
    body: SupplementBody,
    rt: RuntimeDep,
    actor: Annotated[Actor, Depends(role("staff"))],
) -> dict[str, Any]:
    """R-10a, R-10b: `listing_end` in the answer is the possibly extended deadline."""
    with rt.work(actor) as work:
        supplement = service.publish_supplement(work, lot_id, body.title, body.body, body.major)
        return service.supplement_view(supplement)
