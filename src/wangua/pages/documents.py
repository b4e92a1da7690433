"""Printed documents on the pages (R-28a): the winner's confirmation, a bidder's
qualification confirmation, the public result announcement, and the public check of a
document's verification code."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from wangua.kit.problems import Problem
from wangua.pages.rendering import render
from wangua.pages.session import Viewer, page_role
from wangua.printing import documents
from wangua.printing.responses import issued_response
from wangua.runtime import Actor
from wangua.web import ObjectId, RuntimeDep

router = APIRouter(include_in_schema=False)
WinnerOrStaff = Annotated[Actor, Depends(page_role("bidder", "staff"))]
Bidder = Annotated[Actor, Depends(page_role("bidder"))]


@router.get("/lots/{lot_id}/confirmation.pdf")
def confirmation(lot_id: ObjectId, rt: RuntimeDep, actor: WinnerOrStaff) -> Response:
    """The confirmation (成交确认书), as `GET /api/v1/lots/{id}/confirmation.pdf`."""
    return issued_response(documents.obtain(rt, actor, documents.confirmation(actor, lot_id)))


@router.get("/my/applications/{application_id}/qualification.pdf")
def qualification(application_id: ObjectId, rt: RuntimeDep, actor: Bidder) -> Response:
    """The qualification confirmation (竞买资格确认书) with the bidder number (R-16c)."""
    check = documents.qualification(actor, application_id)
    return issued_response(documents.obtain(rt, actor, check))


@router.get("/lots/{lot_id}/result.pdf")
def result_announcement(lot_id: ObjectId, rt: RuntimeDep, viewer: Viewer) -> Response:
    """The result announcement (出让结果公告), public once the lot is decided (R-29)."""
    check = documents.result_announcement(lot_id)
    return issued_response(documents.obtain(rt, viewer, check))


@router.get("/verify", response_class=HTMLResponse)
def verify(request: Request, rt: RuntimeDep, viewer: Viewer, code: str = "") -> HTMLResponse:
    """Anyone checks a printed document's verification code against the record."""
    found: dict[str, Any] | None = None
    problem: Problem | None = None
    if code.strip():
        try:
            with rt.read() as session:
                found = documents.verify(session, code[:64])
        except Problem as refused:
            problem = refused
    context = {"code": code, "found": found, "problem": problem}
    return render(request, "public/verify.html", context, status_code=200)
