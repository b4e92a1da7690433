"""A bidder's pages: apply, pay the deposit, quote with a confirmation step, join the
inquiry, hand bidding to a proxy. Every action calls the same service as the API."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from wangua.applications import service as applications
from wangua.applications.models import Application
from wangua.bidding import service as bidding
from wangua.bidding.board import bidder_standing, next_minimum
from wangua.bidding.receipts import Receipt
from wangua.bidding.submission import Received, in_turn, submit_quote
from wangua.cap import service as cap
from wangua.deposits import accounts
from wangua.kit.money import format_fen, parse_amount
from wangua.kit.problems import Problem, not_found
from wangua.lots.models import Lot
from wangua.lots.repository import get_lot
from wangua.lots.views import view as lot_view
from wangua.lots.views import views_of as lot_views
from wangua.pages.rendering import render
from wangua.pages.session import page_role
from wangua.runtime import Actor, Runtime, Work
from wangua.web import ObjectId, RuntimeDep

router = APIRouter(include_in_schema=False)
Bidder = Annotated[Actor, Depends(page_role("bidder"))]
MEMBER_ROWS = 5


def _layout(request: Request) -> str:
    return "partial.html" if request.headers.get("hx-request") else "base.html"


def _own_application(session: Any, application_id: int, actor: Actor) -> tuple[Application, Lot]:
    application = session.get(Application, application_id)
    if application is None or application.user_id != actor.user_id:
        raise not_found("竞买申请")
    return application, get_lot(session, application.lot_id)


@router.get("/my", response_class=HTMLResponse)
def my_applications(request: Request, rt: RuntimeDep, actor: Bidder) -> HTMLResponse:
    """The bidder's applications with their status and bidder numbers."""
    with rt.read() as session:
        rows = session.execute(
            select(Application, Lot)
            .join(Lot, Lot.id == Application.lot_id)
            .where(Application.user_id == actor.user_id)
            .order_by(Application.id.desc())
        ).all()
        shown = lot_views(session, [lot for _, lot in rows])
        items = [
            (applications.application_view(session, a, lot, rt.settings), view)
            for (a, lot), view in zip(rows, shown, strict=True)
        ]
    return render(request, "bidder/applications.html", {"items": items})


@router.get("/lots/{lot_id}/apply", response_class=HTMLResponse)
def apply_form(lot_id: ObjectId, request: Request, rt: RuntimeDep, actor: Bidder) -> HTMLResponse:
    with rt.read() as session:
        lot = get_lot(session, lot_id)
        view = lot_view(session, lot)
    return render(request, "bidder/apply.html", {"lot": view, "rows": range(MEMBER_ROWS)})


def _members(form: Any) -> list[dict[str, Any]] | None:
    """The joint members typed into the form; None when applying alone (R-13)."""
    if form.get("mode") != "joint":
        return None
    members = []
    for index in range(MEMBER_ROWS):
        fields = {k: str(form.get(f"member_{k}_{index}", "")).strip() for k in MEMBERS}
        if any(fields.values()):
            members.append(fields)
    return members


MEMBERS = ("name", "id_type", "id_no", "share")
NEW_COMPANY = ("name", "investors", "equity", "formation_date")


def _new_company(form: Any) -> dict[str, Any] | None:
    """R-14: a company to be formed after winning, when declared."""
    if form.get("new_company") != "yes":
        return None
    declared = {k: str(form.get(f"company_{k}", "")).strip() for k in NEW_COMPANY}
    missing = [k for k, v in declared.items() if not v]
    if missing:
        raise Problem(
            422,
            "NEW_COMPANY_INCOMPLETE",
            "新设公司信息不完整",
            "请填写拟设公司名称、出资人、股权结构和成立时间",
        )
    return declared


@router.post("/lots/{lot_id}/apply")
async def apply(lot_id: ObjectId, request: Request, rt: RuntimeDep, actor: Bidder) -> Response:
    """R-13 … R-15: the same application as the API's, from the form."""
    form = await request.form()
    members, company = _members(form), _new_company(form)
    consent = form.get("consent") == "yes"

    def submit() -> int:
        with rt.work(actor) as work:
            return applications.apply(work, lot_id, members, company, consent).id

    application_id = await run_in_threadpool(submit)
    return RedirectResponse(f"/my/applications/{application_id}", status_code=303)


def _application_context(rt: Runtime, application_id: int, actor: Actor) -> dict[str, Any]:
    with rt.read() as session:
        application, lot = _own_application(session, application_id, actor)
        return {
            "application": applications.application_view(session, application, lot, rt.settings),
            "lot": lot_view(session, lot),
        }


@router.get("/my/applications/{application_id}", response_class=HTMLResponse)
def application_page(
    application_id: ObjectId, request: Request, rt: RuntimeDep, actor: Bidder
) -> HTMLResponse:
    """Deposit instructions and the qualification status, refreshed live (R-16a, R-16b)."""
    return render(
        request, "bidder/application.html", _application_context(rt, application_id, actor)
    )


@router.get("/my/applications/{application_id}/status", response_class=HTMLResponse)
def application_status(
    application_id: ObjectId, request: Request, rt: RuntimeDep, actor: Bidder
) -> HTMLResponse:
    return render(request, "bidder/status.html", _application_context(rt, application_id, actor))


@router.post("/my/applications/{application_id}/deposit-account")
def issue_sub_account(application_id: ObjectId, rt: RuntimeDep, actor: Bidder) -> Response:
    """R-16a: a virtual sub-account of the application's own; the same one when asked again."""
    with rt.work(actor) as work:
        accounts.issue(work, rt.settings, application_id)
    return RedirectResponse(f"/my/applications/{application_id}", status_code=303)


def _panel(request: Request, rt: Runtime, lot_id: int, actor: Actor) -> HTMLResponse:
    with rt.read() as session:
        lot = get_lot(session, lot_id)
        assert actor.user_id is not None
        context = {
            "lot": lot_view(session, lot),
            "standing": bidder_standing(session, lot, actor.user_id),
            "next_minimum": next_minimum(lot),
        }
    return render(request, "bidder/panel_page.html", {**context, "layout": _layout(request)})


@router.get("/lots/{lot_id}/panel", response_class=HTMLResponse)
def panel(lot_id: ObjectId, request: Request, rt: RuntimeDep, actor: Bidder) -> HTMLResponse:
    """What the bidder may do on this lot now; refreshed when the phase changes."""
    return _panel(request, rt, lot_id, actor)


@router.post("/lots/{lot_id}/quote/confirm", response_class=HTMLResponse)
def confirm_quote(
    lot_id: ObjectId,
    request: Request,
    rt: RuntimeDep,
    actor: Bidder,
    amount: Annotated[str, Form()],
) -> HTMLResponse:
    """R-20: a quote cannot be withdrawn, so it is stated in figures and in capitals
    before it is sent. The request id makes a repeated click the same quote."""
    fen = parse_amount(amount.strip().replace(",", ""))
    with rt.read() as session:
        get_lot(session, lot_id)
    context = {
        "lot_id": lot_id,
        "amount": format_fen(fen),
        "request_id": str(uuid.uuid4()),
        "layout": _layout(request),
    }
    return render(request, "bidder/quote_confirm.html", context)


@router.post("/lots/{lot_id}/quotes", response_class=HTMLResponse)
async def place_quote(
    receipt: Received,
    lot_id: ObjectId,
    request: Request,
    rt: RuntimeDep,
    actor: Bidder,
    amount: Annotated[str, Form()],
    request_id: Annotated[str, Form(min_length=1, max_length=64)],
) -> HTMLResponse:
    """The confirmed quote, through the same service as `POST /api/v1/lots/{id}/quotes`,
    received when it arrives."""
    quote, _ = await submit_quote(rt, actor, receipt, parse_amount(amount), request_id)
    context = {"quote": quote, "lot_id": lot_id, "layout": _layout(request)}
    return render(request, "bidder/quote_placed.html", context, status_code=200)


async def _acted_in_turn(
    request: Request,
    rt: Runtime,
    receipt: Receipt,
    actor: Actor,
    act: Callable[[Work], object],
) -> HTMLResponse:
    """Do what the bidder asked, judged at its receipt in turn with the lot's other
    requests (bidding.submission), then show the panel as it now stands."""

    def acting() -> HTMLResponse:
        with rt.work(actor) as work:
            act(work)
        return _panel(request, rt, receipt.lot_id, actor)

    return await in_turn(rt, receipt, acting)


@router.post("/lots/{lot_id}/inquiry")
async def answer_inquiry(
    receipt: Received,
    lot_id: ObjectId,
    request: Request,
    rt: RuntimeDep,
    actor: Bidder,
    join: Annotated[str, Form(pattern="^(yes|no)$")],
) -> HTMLResponse:
    """R-21, R-22: join timed bidding, or decline, before the inquiry ends; received when
    it arrives."""
    return await _acted_in_turn(
        request,
        rt,
        receipt,
        actor,
        lambda work: bidding.answer_inquiry(work, lot_id, join == "yes", receipt.received_at),
    )


@router.post("/lots/{lot_id}/proxy")
async def set_proxy(
    receipt: Received,
    lot_id: ObjectId,
    request: Request,
    rt: RuntimeDep,
    actor: Bidder,
    max_amount: Annotated[str, Form()],
) -> HTMLResponse:
    """R-26: a proxy bids for the bidder up to the maximum; received when it arrives."""
    max_fen = parse_amount(max_amount.strip().replace(",", ""), field="max_amount")
    steps = rt.settings.proxy_max_steps
    return await _acted_in_turn(
        request,
        rt,
        receipt,
        actor,
        lambda work: bidding.set_proxy(work, lot_id, max_fen, steps, receipt.received_at),
    )


@router.post("/lots/{lot_id}/cap-acceptance")
async def accept_cap(
    receipt: Received, lot_id: ObjectId, request: Request, rt: RuntimeDep, actor: Bidder
) -> HTMLResponse:
    """R-CAP: accept the cap and enter the lottery; received when it arrives."""
    return await _acted_in_turn(
        request, rt, receipt, actor, lambda work: cap.accept_cap(work, lot_id, receipt.received_at)
    )


@router.post("/lots/{lot_id}/proxy/cancel")
async def cancel_proxy(
    receipt: Received, lot_id: ObjectId, request: Request, rt: RuntimeDep, actor: Bidder
) -> HTMLResponse:
    return await _acted_in_turn(
        request,
        rt,
        receipt,
        actor,
        lambda work: bidding.cancel_proxy(work, lot_id, receipt.received_at),
    )
