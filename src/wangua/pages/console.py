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
from sqlalchemy import distinct, func, or_, select
from sqlalchemy.orm import Session

from wangua.applications.models import Application
from wangua.bidding.board import quote_history
from wangua.bidding.models import InquiryAnswer, Quote
from wangua.bidding.rules import Phase
from wangua.confidentiality import service as confidentiality
from wangua.confidentiality.models import BreakGlass
from wangua.documents.service import lot_documents
from wangua.kit.problems import Problem, not_found
from wangua.kit.times import wall_now
from wangua.lots.api import view as lot_view
from wangua.lots.assets import document_names, missing_details
from wangua.lots.models import Lot
from wangua.lots.service import check_grantor_scope
from wangua.pages.public import board_context
from wangua.pages.rendering import N_, render
from wangua.pages.session import page_role
from wangua.pages.staff_results import follow_up
from wangua.reserve.models import SealedReserveRow
from wangua.runtime import Actor
from wangua.scheduler.models import Timer
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
}


def watched_lot(session: Session, lot_id: int, actor: Actor) -> Lot:
    """R-03: staff watch their own grantor's lots, drafts included; supervisors watch
    every published lot."""
    lot = session.get(Lot, lot_id)
    if lot is None or (lot.status == "draft" and actor.role != "staff"):
        raise not_found("地块")
    if actor.role == "staff":
        check_grantor_scope(actor, lot.grantor)
    return lot


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


def turnout(session: Session, lot: Lot) -> dict[str, int]:
    """How many applied, qualified, quoted in the listing and answered the inquiry:
    numbers only, never who (R-07, R-21)."""
    by_status: dict[str, int] = dict(
        session.execute(
            select(Application.status, func.count())
            .where(Application.lot_id == lot.id)
            .group_by(Application.status)
        ).all()
    )
    quoted = session.scalar(
        select(func.count(distinct(Quote.application_id))).where(
            Quote.lot_id == lot.id, Quote.phase == Phase.LISTING.value
        )
    )
    answers: dict[bool, int] = dict(
        session.execute(
            select(InquiryAnswer.joined, func.count())
            .where(InquiryAnswer.lot_id == lot.id)
            .group_by(InquiryAnswer.joined)
        ).all()
    )
    joined, declined = answers.get(True, 0), answers.get(False, 0)
    return {
        "applied": sum(by_status.values()),
        "qualified": by_status.get("qualified", 0),
        "quoted": quoted or 0,
        "joined": joined,
        "declined": declined,
        "unanswered": max((quoted or 0) - joined - declined, 0),
    }


def checks(session: Session, lot: Lot) -> list[tuple[str, dict[str, str]]]:
    """What a host should know before it matters: missing documents (R-08), details the
    asset type needs (Art. 46), a reserve not yet imported (R-11)."""
    found: list[tuple[str, dict[str, str]]] = []
    names = document_names(lot.asset_type)
    present = {d.kind for d in lot_documents(session, lot.id)}
    missing = [name for kind, name in names.items() if kind not in present]
    if missing:
        found.append((N_("尚未上传的出让文件:{names}"), {"names": "、".join(missing)}))
    details = missing_details(lot.asset_type, lot.details)
    if details:
        found.append((N_("资产类型所需信息缺失:{names}"), {"names": "、".join(details)}))
    if (
        lot.has_reserve
        and lot.status in ("draft", "announced", "listing")
        and session.get(SealedReserveRow, lot.id) is None
    ):
        found.append(
            (N_("设有底价但尚未导入密封底价:须在挂牌截止前 30 分钟内导入,否则到期中止"), {})
        )
    return found


@router.get("/staff/lots/{lot_id}", response_class=HTMLResponse)
def lot_console(lot_id: ObjectId, request: Request, rt: RuntimeDep, actor: Watcher) -> HTMLResponse:
    """One lot live: the board and history as the public sees them, with the timers,
    the turnout and the checks; the actions for the grantor's staff."""
    with rt.read() as session:
        lot = watched_lot(session, lot_id, actor)
        timers = session.scalars(
            select(Timer)
            .where(Timer.lot_id == lot.id, Timer.fired_at.is_(None))
            .order_by(Timer.due_at, Timer.id)
        )
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
        requests = list(
            session.scalars(
                select(BreakGlass)
                .where(BreakGlass.lot_id == lot.id, BreakGlass.requested_by == actor.user_id)
                .order_by(BreakGlass.id.desc())
            )
        )
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
