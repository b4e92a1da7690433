"""The price cap procedure's endpoints (R-CAP; docs/api-extensions.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from wangua.bidding.submission import Received, in_turn
from wangua.cap import service
from wangua.kit.problems import Problem
from wangua.kit.times import rfc3339
from wangua.lots.repository import get_lot
from wangua.runtime import Actor
from wangua.web import ObjectId, RuntimeDep, role

router = APIRouter(prefix="/api/v1", tags=["bidding"])
Bidder = Annotated[Actor, Depends(role("bidder"))]


@router.post("/lots/{lot_id}/cap-acceptance")
async def accept_cap(
    receipt: Received, lot_id: ObjectId, rt: RuntimeDep, actor: Bidder
) -> dict[str, Any]:
    """R-CAP: accept the cap and enter the lottery, before the phase's deadline; received,
    like a quote, when it arrived."""

    def accepting() -> dict[str, Any]:
        with rt.work(actor) as work:
            accepted = service.accept_cap(work, lot_id, receipt.received_at)
        return {
            "accepted_at": rfc3339(accepted.accepted_at),
            "bidder_number": accepted.bidder_number,
            "acceptance_end": rfc3339(accepted.acceptance_end),
        }

    return await in_turn(rt, receipt, accepting)


@router.get("/lots/{lot_id}/lottery")
def get_lottery(lot_id: ObjectId, rt: RuntimeDep) -> dict[str, Any]:
    """R-CAP: the lottery's commitment once the cap is reached; its seed, entrants and
    winner once drawn, for anyone to check (cap.draw)."""
    with rt.public_read() as session:
        get_lot(session, lot_id)
        view = service.lottery_view(session, lot_id)
    if view is None:
        raise Problem(404, "NO_LOTTERY", "本宗地报价未达到最高限价,没有摇号")
    return view
