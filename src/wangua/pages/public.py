"""Public pages: the lot list, a lot with its live board, supplements and results."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from wangua.announcements.models import Supplement
from wangua.bidding.board import bidder_standing, next_minimum, quote_history, result_view
from wangua.bidding.models import Result
from wangua.cap.service import acceptance_end, lottery_view
from wangua.kit.problems import Problem, not_found
from wangua.live.models import LotEvent
from wangua.lots.models import GRANTORS, Lot
from wangua.lots.repository import find_lots
from wangua.lots.views import view as lot_view
from wangua.lots.views import views_of as lot_views
from wangua.pages.rendering import LOCALES, LOT_STATUS, SHANGHAI, render
from wangua.pages.session import Viewer
from wangua.web import ObjectId, RuntimeDep

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Problem(422, "INVALID_DATE", "日期格式不正确", f"{field} 须为 YYYY-MM-DD") from None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), SHANGHAI)


@router.get("/", response_class=HTMLResponse)
def lot_list(
    request: Request,
    rt: RuntimeDep,
    viewer: Viewer,
    district: str | None = None,
    use: str | None = None,
    phase: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    page: int = 1,
) -> HTMLResponse:
    """Published lots, filtered by district, land use, phase and listing deadline."""
    first, last = _day(date_from, "起始日期"), _day(date_to, "截止日期")
    page = max(page, 1)
    with rt.public_read(viewer) as session:
        lots = find_lots(
            session,
            grantor=district or None,
            status=phase or None,
            land_use=(use or "").strip() or None,
            ends_from=_start_of(first) if first else None,
            ends_until=_start_of(last + timedelta(days=1)) if last else None,
            limit=PAGE_SIZE + 1,
            offset=(page - 1) * PAGE_SIZE,
        )
        rows = lot_views(session, lots[:PAGE_SIZE])
    filters = {
        "district": district or "",
        "use": use or "",
        "phase": phase or "",
        "date_from": date_from or "",
        "date_to": date_to or "",
    }
    return render(
        request,
        "public/lots.html",
        {
            "lots": rows,
            "filters": filters,
            "districts": GRANTORS,
            "phases": {k: v for k, v in LOT_STATUS.items() if k != "draft"},
            "page": page,
            "more": len(lots) > PAGE_SIZE,
        },
    )


def board_context(session: Any, lot: Lot) -> dict[str, Any]:
    """Everything the live board shows, as of now."""
    result = None
    if session.get(Result, lot.id) is not None:
        result = result_view(session, lot.id)
    return {
        "lot": lot_view(session, lot),
        "next_minimum": next_minimum(lot),
        "result": result,
        "lottery": lottery_view(session, lot.id) if lot.capped and acceptance_end(lot) else None,
    }


@router.get("/lots/{lot_id}", response_class=HTMLResponse)
def lot_page(lot_id: ObjectId, request: Request, rt: RuntimeDep, viewer: Viewer) -> HTMLResponse:
    """A lot: its conditions, documents, supplements, and the live board (R-19c)."""
    with rt.public_read(viewer) as session:
        lot = session.get(Lot, lot_id)
        if lot is None or lot.status == "draft":
            raise not_found("地块")
        last_event = session.scalar(
            select(LotEvent.seq)
            .where(LotEvent.lot_id == lot_id)
            .order_by(LotEvent.seq.desc())
            .limit(1)
        )
        standing = None
        if viewer is not None and "bidder" in viewer.roles and viewer.user_id is not None:
            standing = bidder_standing(session, lot, viewer.user_id)
        context = {
            **board_context(session, lot),
            "quotes": quote_history(session, lot_id),
            "last_event": last_event or 0,
            "standing": standing,
            "server_now": rt.clock.now(session),
        }
    return render(request, "public/lot.html", context)


@router.get("/supplements", response_class=HTMLResponse)
def supplements(request: Request, rt: RuntimeDep, viewer: Viewer) -> HTMLResponse:
    """Supplementary notices (补充公告), newest first."""
    with rt.public_read(viewer) as session:
        rows = session.execute(
            select(Supplement, Lot)
            .join(Lot, Lot.id == Supplement.lot_id)
            .order_by(Supplement.published_at.desc())
            .limit(200)
        ).all()
    return render(request, "public/supplements.html", {"rows": rows})


@router.get("/results", response_class=HTMLResponse)
def results(request: Request, rt: RuntimeDep, viewer: Viewer) -> HTMLResponse:
    """Published results (出让结果公布): outcome, price, winner, reserve, rule (R-27)."""
    with rt.public_read(viewer) as session:
        lots = session.scalars(
            select(Lot)
            .join(Result, Result.lot_id == Lot.id)
            .order_by(Result.decided_at.desc())
            .limit(200)
        ).all()
        rows = [(lot, result_view(session, lot.id)) for lot in lots]
    return render(request, "public/results.html", {"rows": rows})


@router.get("/lang/{locale}")
def choose_language(locale: str, request: Request) -> RedirectResponse:
    """The language switch: Simplified Chinese or English, kept in a cookie."""
    if locale not in LOCALES:
        raise not_found("语言")
    back = request.headers.get("referer") or "/"
    response = RedirectResponse(back if back.startswith(str(request.base_url)) else "/", 303)
    response.set_cookie("lang", locale, max_age=365 * 86400, samesite="lax", path="/")
    return response
