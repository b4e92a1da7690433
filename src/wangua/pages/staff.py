"""The trading center's pages (R-03: staff act on their own grantor's lots only): the
desk, a new lot and its announcement (R-02, R-09a, R-09b), the listing documents (R-08)
and supplementary notices (R-10a, R-10b). Every action calls the service the API calls;
a refusal comes back on the same form, as typed, with the service's message."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from wangua.announcements.service import lot_supplements, publish_supplement, supplement_view
from wangua.documents import api as documents_api
from wangua.documents.service import document_view, lot_documents
from wangua.kit.problems import Problem
from wangua.lots import service as lots
from wangua.lots.assets import ASSET_TYPES, LAYERS, document_names
from wangua.lots.models import GRANTORS, Lot
from wangua.lots.repository import get_lot
from wangua.pages import lot_form
from wangua.pages.rendering import LOT_STATUS, render
from wangua.pages.session import page_role
from wangua.runtime import Actor, Runtime
from wangua.web import ObjectId, RuntimeDep

router = APIRouter(include_in_schema=False)
Staff = Annotated[Actor, Depends(page_role("staff"))]
DESK_LIMIT = 500


def own_lot(session: Session, lot_id: int, actor: Actor) -> Lot:
    """The lot, if it is one of the actor's grantor's (R-03)."""
    lot = get_lot(session, lot_id)
    lots.check_grantor_scope(actor, lot.grantor)
    return lot


def refused(problem: Problem | None) -> int:
    return problem.status if problem else 200


@router.get("/staff", response_class=HTMLResponse)
def desk(request: Request, rt: RuntimeDep, actor: Staff) -> HTMLResponse:
    """The grantor's lots by phase, newest first, with what can be done to each."""
    with rt.read() as session:
        rows = session.scalars(
            select(Lot)
            .where(Lot.grantor == actor.grantor)
            .order_by(Lot.id.desc())
            .limit(DESK_LIMIT)
        )
        views = [lots.public_view(lot, None) for lot in rows]
    groups = {status: [v for v in views if v["status"] == status] for status in LOT_STATUS}
    context = {"groups": {k: v for k, v in groups.items() if v}, "grantor": actor.grantor}
    return render(request, "staff/desk.html", context)


def _lot_form(
    request: Request, form: lot_form.LotForm, problem: Problem | None = None
) -> HTMLResponse:
    context = {
        "form": form,
        "problem": problem,
        "grantors": GRANTORS,
        "asset_types": {code: kind.name for code, kind in ASSET_TYPES.items()},
        "detail_groups": [
            (k.name, k.required_details) for k in ASSET_TYPES.values() if k.required_details
        ],
        "layers": LAYERS,
        "money": lot_form.MONEY,
    }
    status = 422 if form.errors and problem is None else refused(problem)
    return render(request, "staff/new_lot.html", context, status_code=status)


@router.get("/staff/new", response_class=HTMLResponse)
def new_lot(request: Request, rt: RuntimeDep, actor: Staff) -> HTMLResponse:
    """An empty lot form whose schedule already meets R-09a and R-09b."""
    return _lot_form(request, lot_form.blank(rt.now(), actor.grantor))


@router.post("/staff/lots")
async def create_lot(request: Request, rt: RuntimeDep, actor: Staff) -> Response:
    """`POST /api/v1/lots` from the form; with "publish", also `…/publish` in the same
    transaction, so a refused announcement (R-09a, R-09b) leaves nothing behind."""
    form = await request.form()
    body, typed = lot_form.read(form)
    if body is None:
        return _lot_form(request, typed)
    then_publish = form.get("then") == "publish"

    def submit() -> int:
        with rt.work(actor) as work:
            lot = lots.create_lot(work, body)
            if then_publish:
                lots.publish_lot(work, lot.id, require_price_approval=_approval_required(rt))
            return lot.id

    try:
        lot_id = await run_in_threadpool(submit)
    except Problem as problem:
        typed.refused(problem)
        return _lot_form(request, typed, problem)
    return RedirectResponse(f"/staff/lots/{lot_id}", status_code=303)


def _approval_required(rt: Runtime) -> bool:
    return rt.settings.price_approval == "required"


@router.post("/staff/lots/{lot_id}/publish")
def publish_lot(lot_id: ObjectId, rt: RuntimeDep, actor: Staff) -> Response:
    """Publish a draft's announcement now (R-09a, R-09b), as `POST …/publish`."""
    with rt.work(actor) as work:
        lots.publish_lot(work, lot_id, require_price_approval=_approval_required(rt))
    return RedirectResponse(f"/staff/lots/{lot_id}", status_code=303)


def _documents(
    request: Request, rt: Runtime, lot_id: int, actor: Actor, problem: Problem | None = None
) -> HTMLResponse:
    with rt.read() as session:
        lot = own_lot(session, lot_id, actor)
        current = {d.kind: document_view(d, lot.asset_type) for d in lot_documents(session, lot_id)}
        context = {
            "lot": lots.public_view(lot, None),
            "kinds": document_names(lot.asset_type),
            "current": current,
            "problem": problem,
        }
    return render(request, "staff/documents.html", context, status_code=refused(problem))


@router.get("/staff/lots/{lot_id}/documents", response_class=HTMLResponse)
def documents(lot_id: ObjectId, request: Request, rt: RuntimeDep, actor: Staff) -> HTMLResponse:
    """The lot's listing documents (R-08) and the upload form."""
    return _documents(request, rt, lot_id, actor)


@router.post("/staff/lots/{lot_id}/documents")
async def upload_document(
    lot_id: ObjectId,
    request: Request,
    rt: RuntimeDep,
    actor: Staff,
    kind: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
) -> Response:
    """R-08 through the API's upload; a published document never changes (R-10a)."""
    try:
        await documents_api.receive(rt, actor, lot_id, kind, file)
    except Problem as problem:
        return await run_in_threadpool(_documents, request, rt, lot_id, actor, problem)
    return RedirectResponse(f"/staff/lots/{lot_id}/documents", status_code=303)


def _supplements(
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
            "lot": lots.public_view(lot, None),
            "supplements": [supplement_view(s) for s in lot_supplements(session, lot_id)],
            "problem": problem,
            "typed": typed or {},
        }
    return render(request, "staff/supplements.html", context, status_code=refused(problem))


@router.get("/staff/lots/{lot_id}/supplements", response_class=HTMLResponse)
def supplements(lot_id: ObjectId, request: Request, rt: RuntimeDep, actor: Staff) -> HTMLResponse:
    """The lot's supplementary notices and the form for a new one (R-10a, R-10b)."""
    return _supplements(request, rt, lot_id, actor)


@router.post("/staff/lots/{lot_id}/supplements")
def add_supplement(
    lot_id: ObjectId,
    request: Request,
    rt: RuntimeDep,
    actor: Staff,
    title: Annotated[str, Form(min_length=1, max_length=200)],
    body: Annotated[str, Form(min_length=1, max_length=100_000)],
    major: Annotated[str, Form()] = "",
) -> Response:
    """As `POST …/supplements`: a major change moves the deadline to at least 20 days
    after the notice (R-10b)."""
    try:
        with rt.work(actor) as work:
            publish_supplement(work, lot_id, title, body, major == "yes")
    except Problem as problem:
        typed = {"title": title, "body": body, "major": major == "yes"}
        return _supplements(request, rt, lot_id, actor, problem, typed)
    return RedirectResponse(f"/staff/lots/{lot_id}/supplements", status_code=303)
