"""The host's and supervisors' live view (R-33): a wall of every running lot, and a
console per lot with the board, the full quote history, the last-minute warnings, the
timers due and the inquiry's turnout, all fed by the lot's page stream (R-19c).

Bidder identities stay sealed (R-07): the console shows bidder numbers and counts only;
staff of the lot's grantor see who the bidders are after the decision, or earlier under
a break-glass request a supervisor approved, and each look is recorded. Supervisors
watch read-only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from wangua.bidding.board import quote_history
from wangua.confidentiality import service as confidentiality
from wangua.kit.messages import N_
from wangua.kit.problems import Problem
from wangua.kit.times import wall_now
from wangua.lots.models import Lot
from wangua.lots.views import view as lot_view
from wangua.oversight import console
from wangua.oversight.console import turnout, watched_lot
from wangua.pages.public import board_context
from wangua.pages.rendering import render
from wangua.pages.session import page_role
from wangua.pages.staff_results import follow_up
from wangua.runtime import Actor
from wangua.web import ObjectId, RuntimeDep

router = APIRouter(include_in_schema=False)
Watcher = Annotated[Actor, Depends(page_role("staff", "supervisor"))]
Staff = Annotated[Actor, Depends(page_role("staff"))]

RUNNING = ("listing", "inquiry", "timed_bidding", "suspended")
RECENTLY = timedelta(days=1)
"""How long an ended lot stays on the wall, so its result can be read there."""
WALL_LIMIT = 100

TIMERS = {
    "listing_start": N_("挂牌开始"),
    "deposit_deadline": N_("保证金到账截止"),
    "listing_end": N_("挂牌截止"),
    "inquiry_end": N_("询问截止"),
    "countdown_end": N_("限时竞价结束"),
    "warning_60": N_("最后 60 秒提醒"),
    "warning_30": N_("最后 30 秒提醒"),
    "warning_10": N_("最后 10 秒提醒"),
    "resume": N_("恢复生效"),
    "settle": N_("结果推送与保证金结算"),
}


@router.get("/staff/live", response_class=HTMLResponse)
def live_wall(request: Request, rt: RuntimeDep, actor: Watcher) -> HTMLResponse:
    """Every lot that is listing, in the inquiry, in timed bidding or suspended, and those
    that ended in the last day, each a compact live board."""
    with rt.read() as session:
        now = rt.clock.now(session)
        stmt = select(Lot).where(or_(Lot.status.in_(RUNNING), Lot.ended_at >= now - RECENTLY))
        if actor.role == "staff":
            stmt = stmt.where(Lot.grantor == actor.grantor)
        lots = sorted(
            session.scalars(stmt.limit(WALL_LIMIT)),
            key=lambda lot: (lot.ended_at is not None, lot.listing_end),
        )
        tiles = [{**board_context(session, lot), "last_event": lot.event_seq} for lot in lots]
    return render(request, "staff/live.html", {"tiles": tiles, "server_now": now})


CHECKS = {
    console.DOCUMENTS_MISSING: N_("尚未上传的出让文件:{names}"),
    console.DETAILS_MISSING: N_("资产类型所需信息缺失:{names}"),
    console.RESERVE_NOT_IMPORTED: N_(
        "设有底价但尚未导入密封底价:须在挂牌截止前 30 分钟内导入,否则到期中止"
    ),
}


def checks(session: Session, lot: Lot) -> list[tuple[str, dict[str, str]]]:
    """What a host should know before it matters (`console.checks`), in the page's words."""
    return [(CHECKS[c.code], c.values) for c in console.checks(session, lot)]


@router.get("/staff/lots/{lot_id}", response_class=HTMLResponse)
def lot_console(lot_id: ObjectId, request: Request, rt: RuntimeDep, actor: Watcher) -> HTMLResponse:
    """One lot live: the board and history as the public sees them, with the timers,
    the turnout and the checks; the actions for the grantor's staff."""
    with rt.read() as session:
        lot = watched_lot(session, lot_id, actor)
        timers = console.pending_timers(session, lot.id)
        now = rt.clock.now(session)
        context: dict[str, Any] = {
            **board_context(session, lot),
            **follow_up(session, lot, now),
            "quotes": quote_history(session, lot.id),
            "last_event": lot.event_seq,
            "server_now": now,
            "timers": [(TIMERS.get(t.kind, t.kind), t.due_at) for t in timers],
            "turnout": turnout(session, lot),
            "checks": checks(session, lot),
            "can_act": actor.role == "staff",
        }
    return render(request, "staff/console.html", context)


@router.get("/staff/lots/{lot_id}/bidders", response_class=HTMLResponse)
def lot_bidders(lot_id: ObjectId, request: Request, rt: RuntimeDep, actor: Staff) -> HTMLResponse:
    """Who the bidders are, as `GET …/bidders`: after the decision, or under an approved
    break-glass request (R-07); each look is recorded. Sealed, the page offers the
    request instead."""
    sealed = None
    try:
        with rt.work(actor) as work:
            rows = confidentiality.bidders(work, lot_id)
    except Problem as refusal:
        if refusal.code != "IDENTITIES_SEALED":
            raise
        rows, sealed = [], refusal
    with rt.read() as session:
        lot = watched_lot(session, lot_id, actor)
        requests = confidentiality.own_requests(session, lot.id, actor.user_id)
        context = {
            "lot": lot_view(session, lot),
            "rows": rows,
            "sealed": sealed,
            "requests": requests,
            "wall_now": wall_now(),
        }
    return render(request, "staff/bidders.html", context)


@router.post("/staff/lots/{lot_id}/identity-access")
def request_identity_access(
    lot_id: ObjectId,
    request: Request,
    rt: RuntimeDep,
    actor: Staff,
    reason: Annotated[str, Form(min_length=4, max_length=2000)],
) -> Response:
    """A break-glass request with its reason, for a supervisor to approve (R-07)."""
    with rt.work(actor) as work:
        confidentiality.request_access(work, lot_id, reason)
    return RedirectResponse(f"/staff/lots/{lot_id}/bidders", status_code=303)
