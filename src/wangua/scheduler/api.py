"""The clock endpoints (API.md, Clock)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from wangua.kit.problems import Problem
from wangua.kit.times import rfc3339
from wangua.scheduler import service
from wangua.web import RuntimeDep

router = APIRouter(prefix="/api/v1", tags=["clock"])


class AdvanceBody(BaseModel):
    seconds: float = Field(ge=0, le=10 * 366 * 86400)


@router.get("/clock")
def get_clock(rt: RuntimeDep) -> dict[str, Any]:
    """R-18: the server's one authoritative time."""
    return {"now": rfc3339(rt.now()), "mode": rt.clock.mode}


@router.post("/clock/advance")
async def advance(body: AdvanceBody, rt: RuntimeDep) -> dict[str, Any]:
    """Simulated mode only: move time; every timer due on the way fires, in due order,
    each at its own due time, before this answers."""
    if rt.clock.mode != "simulated":
        raise Problem(404, "NOT_FOUND", "仅模拟时钟模式可用")
    now = await run_in_threadpool(service.advance, rt, body.seconds)
    return {"now": rfc3339(now)}
