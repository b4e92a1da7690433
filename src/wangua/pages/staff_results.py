"""After the result, and the starting price before the announcement, on the staff pages:
the winner's signed confirmation (R-28b), forfeiture of the winner's deposit by a
recorded decision (R-44), voiding a result and listing the parcel again (R-43), and the
starting price proposed with its appraised price (R-LR28).

Each form calls the service its API endpoint calls, in one `rt.work(actor)` transaction;
a refusal comes back on the page as typed, with the service's message and code, and
changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wangua.audit.models import AuditEntry
from wangua.audit.service import lot_stream
from wangua.bidding.board import result_view
from wangua.bidding.models import Result
from wangua.deposits import payouts
from wangua.deposits.calendar import shanghai_date
from wangua.deposits.models import Guarantee, Refund
from wangua.identity.models import User
from wangua.kit.messages import N_
from wangua.kit.money import parse_amount
from wangua.kit.problems import Problem
from wangua.kit.times import rfc3339
from wangua.lots.models import Lot
from wangua.lots.service import public_view
from wangua.pages.lot_form import TIMES, blank, shanghai_input
from wangua.pages.rendering import render
from wangua.pages.session import page_role
from wangua.pages.staff import own_lot, refused
from wangua.pricing import service as pricing
from wangua.results import confirmation
from wangua.results import service as results
from wangua.runtime import Actor, Runtime
from wangua.web import ObjectId, RuntimeDep

router = APIRouter(include_in_schema=False)
Staff = Annotated[Actor, Depends(page_role("staff"))]
Note = Annotated[str, Form(max_length=2000)]
Moment = Annotated[str, Form(max_length=40)]

FORFEIT_CAUSES = {
    "missed_confirmation": N_("竞得人未在规定期限内办理成交确认手续"),
    "refused_confirmation": N_("竞得人拒绝签订成交确认书"),
    "refused_contract": N_("竞得人拒绝签订国有建设用地使用权出让合同"),
    "abandoned": N_("竞得人放弃竞得宗地"),
}
"""R-44 as `deposits.payouts.FORFEIT_CAUSES` says them, marked for the English catalogue."""
SIGNING_CAUSES = ("missed_confirmation", "refused_confirmation")
"""The causes a recorded signing rules out (R-28b)."""

VOID_CAUSES = {
    1: N_("未按要求提供有关文件材料、提供虚假文件材料或者隐瞒重要事实"),
    2: N_("恶意串通或者阻碍正常的网上挂牌出让活动"),
    3: N_("导致竞买行为无效的其他行为"),
}
"""R-43 (Art. 43) as `results.service.VOID_CAUSES` says them, for the English catalogue."""

RELISTABLE = ("voided", "unsold", "terminated")


def _username(session: Session, user_id: int | None) -> str | None:
    user = session.get(User, user_id) if user_id else None
    return user.username if user else None


def signing_state(session: Session, lot: Lot, now: datetime) -> dict[str, Any] | None:
    """R-28b: the winner's deadline, the recorded signing, and whether staff can still
    record it (sold, unsigned, in time, the deposit not forfeited)."""
    result = session.get(Result, lot.id)
    if result is None or result.winner_application_id is None:
        return None
    last_day = confirmation.deadline(session, result.decided_at)
    signed_at = result.confirmation_signed_at
    forfeited = confirmation.forfeited(session, lot.id, result.winner_application_id)
    overdue = signed_at is None and shanghai_date(now) > last_day
    return {
        "deadline": last_day.isoformat(),
        "signed_at": rfc3339(signed_at),
        "recorded_by": _username(session, result.confirmation_recorded_by),
        "note": result.confirmation_note,
        "forfeited": forfeited,
        "overdue": overdue,
        "open": lot.status == "sold" and signed_at is None and not forfeited and not overdue,
    }


def follow_up(session: Session, lot: Lot, now: datetime) -> dict[str, Any]:
    """What the console shows of this module: the starting-price record (R-LR28) and the
    winner's confirmation with its form (R-28b)."""
    return {
        "price_record": pricing.price_view(session, lot),
        "signing": signing_state(session, lot, now),
    }


def winner_deposit(session: Session, lot_id: int, application_id: int) -> dict[str, Any]:
    """R-30a, R-44: the winner's earnest money and retained guarantee, what of them was
    forfeited, and the recorded decisions (when, by whom)."""
    refunds: dict[str, Any] = dict(
        session.execute(
            select(Refund.status, func.sum(Refund.amount_fen))
            .where(Refund.lot_id == lot_id, Refund.application_id == application_id)
            .where(Refund.status.in_(("earnest", "forfeited")))
            .group_by(Refund.status)
        ).all()
    )
    guarantees: dict[str, Any] = dict(
        session.execute(
            select(Guarantee.status, func.sum(Guarantee.amount_fen))
            .where(Guarantee.application_id == application_id)
            .where(Guarantee.status.in_(("retained", "claimed")))
            .group_by(Guarantee.status)
        ).all()
    )
    forfeited = select(Refund.note).where(
        Refund.lot_id == lot_id,
        Refund.application_id == application_id,
        Refund.status == "forfeited",
    )
    notes = sorted({note for note in session.scalars(forfeited) if note})
    decisions = session.execute(
        select(AuditEntry.at, AuditEntry.actor_user_id)
        .where(AuditEntry.stream == lot_stream(lot_id), AuditEntry.action == "deposit.forfeited")
        .order_by(AuditEntry.seq)
    ).all()

    def fen(found: dict[str, Any], status: str) -> int:
        return int(found.get(status) or 0)

    return {
        "earnest": fen(refunds, "earnest"),
        "forfeited": fen(refunds, "forfeited"),
        "retained": fen(guarantees, "retained"),
        "claimed": fen(guarantees, "claimed"),
        "notes": notes,
        "decisions": [(at, _username(session, user_id)) for at, user_id in decisions],
    }


def _result_page(
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
        result = session.get(Result, lot.id)
        signing = signing_state(session, lot, now)
        deposit = None
        if result is not None and result.winner_application_id is not None:
            deposit = winner_deposit(session, lot.id, result.winner_application_id)
        relisted = list(
            session.execute(
                select(Lot.id, Lot.code, Lot.status)
                .where(Lot.relisted_from == lot.id)
                .order_by(Lot.id)
            )
        )
        context = {
            "lot": public_view(lot, None, result),
            "result": result_view(session, lot.id) if result is not None else None,
            "signing": signing,
            "deposit": deposit,
            "can_act": True,
            "forfeit_causes": FORFEIT_CAUSES,
            "signing_causes": SIGNING_CAUSES,
            "void_causes": VOID_CAUSES,
            "relistable": lot.status in RELISTABLE,
            "relisted": relisted,
            "schedule": {name: blank(now, lot.grantor).values[name] for name in TIMES},
            "problem": problem,
            "typed": typed or {},
        }
    return render(request, "staff/result.html", context, status_code=refused(problem))


@router.get("/staff/lots/{lot_id}/result", response_class=HTMLResponse)
def result_page(lot_id: ObjectId, request: Request, rt: RuntimeDep, actor: Staff) -> HTMLResponse:
    """The lot's result and what follows it: the winner's confirmation (R-28b), the
    winner's deposit and its forfeiture (R-44), voiding and relisting (R-43)."""
    return _result_page(request, rt, lot_id, actor)


@router.post("/staff/lots/{lot_id}/confirmation/signature")
def record_signing(
    lot_id: ObjectId, request: Request, rt: RuntimeDep, actor: Staff, note: Note = ""
) -> Response:
    """R-28b, as `POST …/confirmation/signature`: the winner signed within the 3 working
    days; afterwards the deposit is not forfeited as missed or refused (R-44)."""
    try:
        with rt.work(actor) as work:
            confirmation.record_signing(work, lot_id, note)
    except Problem as problem:
        typed = {"action": "sign", "note": note}
        return _result_page(request, rt, lot_id, actor, problem, typed)
    return RedirectResponse(f"/staff/lots/{lot_id}", status_code=303)


@router.post("/staff/lots/{lot_id}/forfeiture")
def forfeit(
    lot_id: ObjectId,
    request: Request,
    rt: RuntimeDep,
    actor: Staff,
    cause: Annotated[str, Form(max_length=40)],
    note: Note = "",
) -> Response:
    """R-44, as `POST …/forfeiture`: the winner's deposit is forfeited by this recorded
    decision with its cause and written reason."""
    try:
        with rt.work(actor) as work:
            payouts.forfeit(work, lot_id, cause, note)
    except Problem as problem:
        typed = {"action": "forfeit", "cause": cause, "note": note}
        return _result_page(request, rt, lot_id, actor, problem, typed)
    return RedirectResponse(f"/staff/lots/{lot_id}/result", status_code=303)


@router.post("/staff/lots/{lot_id}/void")
def void(
    lot_id: ObjectId,
    request: Request,
    rt: RuntimeDep,
    actor: Staff,
    cause: Annotated[int, Form()],
    note: Note = "",
) -> Response:
    """R-43, as `POST …/void`: the result stays on record beside its voiding."""
    try:
        with rt.work(actor) as work:
            results.void_result(work, lot_id, cause, note)
    except Problem as problem:
        typed = {"action": "void", "cause": cause, "note": note}
        return _result_page(request, rt, lot_id, actor, problem, typed)
    return RedirectResponse(f"/staff/lots/{lot_id}/result", status_code=303)


@router.post("/staff/lots/{lot_id}/relist")
def relist(
    lot_id: ObjectId,
    request: Request,
    rt: RuntimeDep,
    actor: Staff,
    application_deadline: Moment,
    deposit_deadline: Moment,
    listing_start: Moment,
    listing_end: Moment,
    code: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """R-43, as `POST …/relist`: a new draft lot for the same parcel with its own code
    and schedule, linked to this one."""
    typed = {
        "action": "relist",
        "code": code,
        "application_deadline": application_deadline,
        "deposit_deadline": deposit_deadline,
        "listing_start": listing_start,
        "listing_end": listing_end,
    }
    try:
        if not code.strip():
            raise Problem(422, "FORM_INVALID", N_("请填写新的宗地编号"))
        schedule = {name: shanghai_input(typed[name]) for name in TIMES}
        if any(moment is None for moment in schedule.values()):
            raise Problem(
                422, "INVALID_TIME", N_("时间格式不正确"), N_("请填写重新挂牌的各项日期和时间")
            )
        with rt.work(actor) as work:
            try:
                lot = results.relist(
                    work, lot_id, {k: rfc3339(v) for k, v in schedule.items()}, code.strip()
                )
            except ValidationError:
                raise Problem(422, "FORM_INVALID", N_("提交的内容不完整或格式不正确")) from None
            new_id = lot.id
    except Problem as problem:
        return _result_page(request, rt, lot_id, actor, problem, typed)
    return RedirectResponse(f"/staff/lots/{new_id}", status_code=303)


def _price_page(
    request: Request,
    rt: Runtime,
    lot_id: int,
    actor: Actor,
    problem: Problem | None = None,
    typed: dict[str, Any] | None = None,
) -> HTMLResponse:
    with rt.read() as session:
        lot = own_lot(session, lot_id, actor)
        context = {
            "lot": public_view(lot, None),
            "price_record": pricing.price_view(session, lot),
            "can_act": True,
            "problem": problem,
            "typed": typed or {},
        }
    return render(request, "staff/price.html", context, status_code=refused(problem))


@router.get("/staff/lots/{lot_id}/price", response_class=HTMLResponse)
def price_page(lot_id: ObjectId, request: Request, rt: RuntimeDep, actor: Staff) -> HTMLResponse:
    """R-LR28: the starting-price record (as `GET …/price`) and, on a draft, the proposal
    with the appraised price."""
    return _price_page(request, rt, lot_id, actor)


@router.post("/staff/lots/{lot_id}/price/propose")
def propose_price(
    lot_id: ObjectId,
    request: Request,
    rt: RuntimeDep,
    actor: Staff,
    appraised_price: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """R-LR28, as `POST …/price/propose`: the starting price is never below the appraised
    price; a new proposal starts the review over."""
    try:
        text = appraised_price.strip().replace(",", "")
        try:
            appraised = parse_amount(text, field="appraised_price")
        except Problem:
            raise Problem(
                422,
                "INVALID_AMOUNT",
                N_("金额格式不正确"),
                N_("评估价须为大于零、最多两位小数的金额(元)"),
            ) from None
        with rt.work(actor) as work:
            pricing.propose(work, lot_id, appraised)
    except Problem as problem:
        typed = {"appraised_price": appraised_price}
        return _price_page(request, rt, lot_id, actor, problem, typed)
    return RedirectResponse(f"/staff/lots/{lot_id}", status_code=303)
