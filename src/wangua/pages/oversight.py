"""The supervisor's and the grantor's pages.

Supervisor (监督人员): break-glass requests to see bidder identities before a decision
(R-07), the lots being listed now with their boards (R-33), and the co-signatures
supervisors gave to administrators (R-32b). Grantor (出让人): the starting-price review
and approval (R-LR28) and the approvals that let the trading center suspend or terminate
for causes (2), (3), (5) (R-37, Art. 38). Every action calls the API's service.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from wangua.confidentiality import service as confidentiality
from wangua.identity.repository import usernames
from wangua.kit.messages import N_
from wangua.lots.models import GRANTORS, Lot
from wangua.oversight.cosignature import cosignatures
from wangua.pages.rendering import render
from wangua.pages.session import page_role
from wangua.pricing import service as pricing
from wangua.runtime import Actor
from wangua.suspension import service as suspension
from wangua.suspension.core import CAUSES, CENTER_CAUSES, SUSPENDABLE
from wangua.web import ObjectId, RuntimeDep

router = APIRouter(include_in_schema=False)
Supervisor = Annotated[Actor, Depends(page_role("supervisor"))]
Grantor = Annotated[Actor, Depends(page_role("grantor"))]
WATCHED = ("announced", "listing", "inquiry", "timed_bidding", "suspended")
RECENT = 50
APPROVAL_CAUSES = {k: v for k, v in CAUSES.items() if k not in CENTER_CAUSES}
"""Art. 38: the causes the trading center may act on only with the grantor's approval."""
ACTIONS = {"suspend": N_("中止"), "terminate": N_("终止")}
DONE = {
    "access": N_("已批准特别查阅申请,申请人可在4小时内查看该地块竞买人身份。"),
    "reviewed": N_("起始价已审核。"),
    "approved": N_("起始价已批准。"),
    "approval": N_("已批准,交易机构可据此办理。"),
}


@router.get("/supervisor", response_class=HTMLResponse)
def supervisor_page(
    request: Request, rt: RuntimeDep, actor: Supervisor, done: str = ""
) -> HTMLResponse:
    """R-07, R-33, R-32b: what a supervisor approves, watches and reviews."""
    with rt.read() as session:
        pending = confidentiality.access_requests(session, "pending")
        approved = confidentiality.access_requests(session, "approved", limit=RECENT)
        lots = list(
            session.scalars(
                select(Lot).where(Lot.status.in_(WATCHED)).order_by(Lot.listing_end, Lot.id)
            )
        )
        ids = {r.requested_by for r, _ in pending + approved} | {r.approved_by for r, _ in approved}
        context = {
            "pending": pending,
            "approved": approved,
            "lots": lots,
            "names": usernames(session, ids),
            "cosignatures": cosignatures(session, limit=RECENT),
            "grantors": GRANTORS,
            "done": DONE.get(done),
        }
    return render(request, "oversight/supervisor.html", context)


@router.post("/supervisor/identity-access/{request_id}/approve")
def approve_access(request_id: ObjectId, rt: RuntimeDep, actor: Supervisor) -> RedirectResponse:
    """R-07: as `POST /api/v1/identity-access/{id}/approve`."""
    with rt.work(actor) as work:
        confidentiality.approve_access(work, request_id)
    return RedirectResponse("/supervisor?done=access", status_code=303)


@router.get("/grantor", response_class=HTMLResponse)
def grantor_page(request: Request, rt: RuntimeDep, actor: Grantor, done: str = "") -> HTMLResponse:
    """R-LR28 and R-37: the grantor's officer reviews and approves starting prices, and
    approves suspensions and terminations of the grantor's own lots (R-03)."""
    with rt.read() as session:
        open_lots = list(
            session.scalars(
                select(Lot)
                .where(Lot.grantor == actor.grantor, Lot.status.in_((*SUSPENDABLE, "suspended")))
                .order_by(Lot.listing_end, Lot.id)
            )
        )
        approvals = suspension.grantor_approvals(session, actor.grantor, limit=RECENT)
        context = {
            "prices": pricing.draft_prices(session, actor.grantor),
            "open_lots": open_lots,
            "approvals": approvals,
            "names": usernames(session, {a.approved_by for a, _ in approvals}),
            "causes": APPROVAL_CAUSES,
            "all_causes": CAUSES,
            "actions": ACTIONS,
            "grantor_name": GRANTORS.get(actor.grantor or "", actor.grantor),
            "done": DONE.get(done),
        }
    return render(request, "oversight/grantor.html", context)


@router.post("/grantor/lots/{lot_id}/price/review")
def review_price(lot_id: ObjectId, rt: RuntimeDep, actor: Grantor) -> RedirectResponse:
    """R-LR28: as `POST /api/v1/lots/{id}/price/review` (not the proposer)."""
    with rt.work(actor) as work:
        pricing.review(work, lot_id)
    return RedirectResponse("/grantor?done=reviewed", status_code=303)


@router.post("/grantor/lots/{lot_id}/price/approve")
def approve_price(lot_id: ObjectId, rt: RuntimeDep, actor: Grantor) -> RedirectResponse:
    """R-LR28: as `POST /api/v1/lots/{id}/price/approve` (a third person)."""
    with rt.work(actor) as work:
        pricing.approve(work, lot_id)
    return RedirectResponse("/grantor?done=approved", status_code=303)


@router.post("/grantor/approvals")
def approve_action(
    rt: RuntimeDep,
    actor: Grantor,
    lot_id: Annotated[int, Form(ge=1, le=2**63 - 1)],
    action: Annotated[str, Form(max_length=20)],
    cause: Annotated[int, Form()],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    """R-37, Art. 38: as `POST /api/v1/lots/{id}/approvals`."""
    with rt.work(actor) as work:
        suspension.approve(work, lot_id, action, cause, note.strip())
    return RedirectResponse("/grantor?done=approval", status_code=303)
