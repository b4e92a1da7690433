"""Suspending, resuming and terminating a lot from the staff pages (R-37, R-39).

The page shows which causes the trading center may apply at once, which need the
grantor's approval (Art. 38) and whether an unused approval is on record, so staff see
what is missing before they try; the actions are the API's services.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wangua.kit.messages import N_
from wangua.kit.problems import Problem
from wangua.lots.service import public_view
from wangua.pages.lot_form import INPUT, shanghai_input
from wangua.pages.rendering import SHANGHAI, render
from wangua.pages.session import page_role
from wangua.pages.staff import own_lot, refused
from wangua.runtime import Actor, Runtime
from wangua.suspension import service
from wangua.suspension.core import CAUSES, CENTER_CAUSES
from wangua.web import ObjectId, RuntimeDep

router = APIRouter(include_in_schema=False)
Staff = Annotated[Actor, Depends(page_role("staff"))]
Cause = Annotated[int, Form(ge=1, le=5)]
Note = Annotated[str, Form(max_length=2000)]


def _page(
    request: Request,
    rt: Runtime,
    lot_id: int,
    actor: Actor,
    problem: Problem | None = None,
    typed: dict[str, Any] | None = None,
) -> HTMLResponse:
    with rt.read() as session:
        lot = own_lot(session, lot_id, actor)
        now = rt.clock.now(session)
        approvals = service.lot_approvals(session, lot.id)
        suspension = service.current_suspension(session, lot)
        context = {
            "lot": public_view(lot, None),
            "causes": CAUSES,
            "center_causes": CENTER_CAUSES,
            "approvals": approvals,
            "available": {(a.action, a.cause) for a in approvals if a.used_at is None},
            "suspension": suspension,
            "earliest_resume": (now + service.RESUME_NOTICE + timedelta(hours=1))
            .astimezone(SHANGHAI)
            .strftime(INPUT),
            "problem": problem,
            "typed": typed or {},
        }
    return render(request, "staff/suspension.html", context, status_code=refused(problem))


@router.get("/staff/lots/{lot_id}/suspension", response_class=HTMLResponse)
def suspension_page(
    lot_id: ObjectId, request: Request, rt: RuntimeDep, actor: Staff
) -> HTMLResponse:
    """The lot's suspension state, the grantor's approvals, and the three actions."""
    return _page(request, rt, lot_id, actor)


def _done(lot_id: int) -> Response:
    return RedirectResponse(f"/staff/lots/{lot_id}/suspension", status_code=303)


@router.post("/staff/lots/{lot_id}/suspend")
def suspend(
    lot_id: ObjectId, request: Request, rt: RuntimeDep, actor: Staff, cause: Cause, note: Note = ""
) -> Response:
    """R-37, as `POST …/suspend`: causes (1) and (4) at once, the others with an approval."""
    try:
        with rt.work(actor) as work:
            service.suspend(work, lot_id, cause, note)
    except Problem as problem:
        typed = {"action": "suspend", "cause": cause, "note": note}
        return _page(request, rt, lot_id, actor, problem, typed)
    return _done(lot_id)


@router.post("/staff/lots/{lot_id}/resume")
def resume(
    lot_id: ObjectId,
    request: Request,
    rt: RuntimeDep,
    actor: Staff,
    effective_at: Annotated[str, Form(max_length=40)],
) -> Response:
    """R-39, as `POST …/resume`: announced now, effective at least 5 days later."""
    moment = shanghai_input(effective_at)
    try:
        if moment is None:
            raise Problem(
                422, "INVALID_TIME", N_("时间格式不正确"), N_("请填写恢复生效的日期和时间")
            )
        with rt.work(actor) as work:
            service.resume(work, lot_id, moment)
    except Problem as problem:
        typed = {"action": "resume", "effective_at": effective_at}
        return _page(request, rt, lot_id, actor, problem, typed)
    return _done(lot_id)


@router.post("/staff/lots/{lot_id}/terminate")
def terminate(
    lot_id: ObjectId, request: Request, rt: RuntimeDep, actor: Staff, cause: Cause, note: Note = ""
) -> Response:
    """R-37, as `POST …/terminate`: the listing ends for good; deposits are settled."""
    try:
        with rt.work(actor) as work:
            service.terminate(work, lot_id, cause, note)
    except Problem as problem:
        typed = {"action": "terminate", "cause": cause, "note": note}
        return _page(request, rt, lot_id, actor, problem, typed)
    return _done(lot_id)
