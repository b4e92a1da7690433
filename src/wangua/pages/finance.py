"""The finance officer's pages: the queue of money that qualifies nobody (R-16a, R-16b),
refunds per lot with their due dates and interest (R-30b, R-41), the bank's refund
instruction file, and reconciliation that balances to the fen (also as CSV and PDF).
Every action calls the service behind the matching `/api/v1/finance/...` endpoint;
finance sees its own grantor's lots and the unmatched money of its grantor's bank (R-03)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from wangua.applications.repository import application_id_by_order_no
from wangua.deposits import payouts, queue, reconciliation, refunds
from wangua.deposits.banks import bank_for_grantor, banks, serves
from wangua.deposits.calendar import shanghai_date
from wangua.kit.messages import N_
from wangua.kit.problems import not_found
from wangua.lots.models import Lot
from wangua.pages.rendering import render
from wangua.pages.session import page_role
from wangua.printing.reports import reconciliation_pdf
from wangua.runtime import Actor, Runtime
from wangua.web import ObjectId, RuntimeDep

router = APIRouter(include_in_schema=False)
Finance = Annotated[Actor, Depends(page_role("finance"))]
Reason = Annotated[str, Form(max_length=2000)]
PAGE_SIZE = 50
REFUNDS_SHOWN = 500
CSV = "text/csv; charset=utf-8"
QUEUE_REASON = {
    "unmatched": N_("未匹配"),
    "late": N_("逾期到账"),
    "short": N_("未足额"),
    "returned": N_("已退回"),
    "ok": N_("已匹配"),
}
REFUND_STATUS = {
    "due": N_("应退未付"),
    "paid": N_("已退还"),
    "held": N_("暂存待核实"),
    "earnest": N_("转作定金"),
    "forfeited": N_("不予退还"),
}
COLUMNS = {
    "received": N_("到账合计"),
    "qualified": N_("计入竞买资格"),
    "pending": N_("未结(地块未结束)"),
    "unmatched": N_("未匹配"),
    "due": N_("应退未付"),
    "refunded": N_("已退还"),
    "held": N_("暂存待核实"),
    "earnest": N_("转作定金"),
    "forfeited": N_("不予退还"),
    "interest_paid": N_("已付利息"),
}
BUCKETS = reconciliation.COLUMNS[2:-1]
"""The buckets that add up to what was received (`qualified` and interest stand beside)."""
DONE = {
    "assigned": N_("已指定到竞买申请,按到账规则重新判定。"),
    "returned": N_("已决定原路退回,退款已列入应退款项。"),
    "released": N_("已核实付款人,该笔退款转为应退。"),
}


def _own_lot(session: Session, lot_id: int, actor: Actor) -> Lot:
    lot = session.get(Lot, lot_id)
    if lot is None or lot.grantor != actor.grantor:
        raise not_found("地块")
    return lot


def _with_sums(report: dict[str, Any]) -> dict[str, Any]:
    """Each account and the totals with the sum of their buckets, in fen, shown beside
    what was received so that a reader sees the balance to the fen."""

    def accounted(figures: dict[str, str]) -> int:
        return sum(int(Decimal(figures[b]) * 100) for b in BUCKETS)

    return {
        **report,
        "accounts": [{**a, "accounted": accounted(a)} for a in report["accounts"]],
        "accounted": accounted(report["totals"]),
    }


def _grantor_report(session: Session, rt: Runtime, actor: Actor) -> dict[str, Any]:
    codes = [c for c in banks(rt.settings) if serves(rt.settings, c, actor.grantor)]
    return reconciliation.grantor_report(session, rt.settings, actor.grantor or "", codes)


@router.get("/finance", response_class=HTMLResponse)
def finance_page(
    request: Request, rt: RuntimeDep, actor: Finance, after: int = 0, done: str = ""
) -> HTMLResponse:
    """R-16b: the queue, oldest first, a page at a time; and the grantor's lots."""
    with rt.read() as session:
        items = queue.queue(session, rt.settings, actor.grantor, max(after, 0), PAGE_SIZE)
        lots = list(
            session.scalars(
                select(Lot)
                .where(Lot.grantor == actor.grantor, Lot.status != "draft")
                .order_by(Lot.id.desc())
                .limit(PAGE_SIZE)
            )
        )
    context = {
        "items": items,
        "lots": lots,
        "next_after": items[-1]["id"] if len(items) == PAGE_SIZE else None,
        "after": after,
        "reasons": QUEUE_REASON,
        "bank": bank_for_grantor(rt.settings, actor.grantor or ""),
        "done": DONE.get(done),
    }
    return render(request, "finance/index.html", context)


@router.post("/finance/payments/{payment_id}/assign")
def assign_payment(
    payment_id: ObjectId,
    rt: RuntimeDep,
    actor: Finance,
    order_no: Annotated[str, Form(max_length=64)],
    reason: Reason = "",
) -> RedirectResponse:
    """R-16a: as `POST /api/v1/finance/payments/{id}/assign`; the officer types the order
    number (订单流水号) the payer should have written, and a reason."""
    with rt.read() as session:
        application_id = application_id_by_order_no(session, order_no)
    if application_id is None:
        raise not_found("竞买申请")
    with rt.work(actor) as work:
        queue.assign(work, rt.settings, payment_id, application_id, reason)
    return RedirectResponse("/finance?done=assigned", status_code=303)


@router.post("/finance/payments/{payment_id}/return")
def return_payment(
    payment_id: ObjectId, rt: RuntimeDep, actor: Finance, reason: Reason = ""
) -> RedirectResponse:
    """R-16b: as `POST /api/v1/finance/payments/{id}/return`."""
    with rt.work(actor) as work:
        queue.send_back(work, rt.settings, payment_id, reason)
    return RedirectResponse("/finance?done=returned", status_code=303)


@router.post("/finance/refund-instructions.csv")
def refund_instructions(rt: RuntimeDep, actor: Finance) -> Response:
    """R-30b: the instruction file for the grantor's bank, as the API's; the first hand-over
    of each refund is recorded."""
    bank = bank_for_grantor(rt.settings, actor.grantor or "")
    with rt.work(actor) as work:
        rows = payouts.instructions(work, bank.code)
        today = shanghai_date(work.now())
        views = [payouts.instruction_view(r, rt.settings.refund_interest_bp, today) for r in rows]
    return _csv(payouts.instructions_csv(views), f"refund-instructions-{bank.code}-{today}.csv")


def _csv(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type=CSV,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/finance/lots/{lot_id}", response_class=HTMLResponse)
def lot_page(
    lot_id: ObjectId, request: Request, rt: RuntimeDep, actor: Finance, done: str = ""
) -> HTMLResponse:
    """R-30b, R-41, R-44: the lot's refunds and earnest money, and its reconciliation."""
    with rt.read() as session:
        lot = _own_lot(session, lot_id, actor)
        today = shanghai_date(rt.clock.now(session))
        rows = refunds.lot_refunds(
            session, lot.id, rt.settings.refund_interest_bp, today, 0, REFUNDS_SHOWN
        )
        report = reconciliation.lot_report(session, rt.settings, lot)
    context = {
        "lot": lot,
        "refunds": rows,
        "today": today,
        "report": _with_sums(report),
        "columns": COLUMNS,
        "statuses": REFUND_STATUS,
        "done": DONE.get(done),
    }
    return render(request, "finance/lot.html", context)


@router.post("/finance/refunds/{refund_id}/release")
def release_refund(
    refund_id: ObjectId,
    rt: RuntimeDep,
    actor: Finance,
    lot_id: Annotated[int, Form(ge=1, le=2**63 - 1)],
    note: Reason = "",
) -> RedirectResponse:
    """R-41: as `POST /api/v1/refunds/{id}/release`."""
    with rt.work(actor) as work:
        payouts.release(work, rt.settings, refund_id, note)
    return RedirectResponse(f"/finance/lots/{lot_id}?done=released", status_code=303)


@router.get("/finance/lots/{lot_id}/reconciliation.csv")
def lot_reconciliation_csv(lot_id: ObjectId, rt: RuntimeDep, actor: Finance) -> Response:
    with rt.read() as session:
        lot = _own_lot(session, lot_id, actor)
        report = reconciliation.lot_report(session, rt.settings, lot)
    return _csv(reconciliation.to_csv(report), f"reconciliation-{lot.code}.csv")


@router.get("/finance/lots/{lot_id}/reconciliation.pdf")
def lot_reconciliation_pdf(lot_id: ObjectId, rt: RuntimeDep, actor: Finance) -> Response:
    """The same report, printable, as `GET /api/v1/lots/{id}/reconciliation.pdf`."""
    with rt.read() as session:
        report = reconciliation.lot_report(session, rt.settings, _own_lot(session, lot_id, actor))
    return reconciliation_pdf(rt, report)


@router.get("/finance/reconciliation", response_class=HTMLResponse)
def grantor_reconciliation(request: Request, rt: RuntimeDep, actor: Finance) -> HTMLResponse:
    """Per bank account: the grantor's lots and the unmatched money on its bank."""
    with rt.read() as session:
        report = _grantor_report(session, rt, actor)
    context = {"report": _with_sums(report), "columns": COLUMNS}
    return render(request, "finance/reconciliation.html", context)


@router.get("/finance/reconciliation.csv")
def grantor_reconciliation_csv(rt: RuntimeDep, actor: Finance) -> Response:
    with rt.read() as session:
        report = _grantor_report(session, rt, actor)
    return _csv(reconciliation.to_csv(report), f"reconciliation-{actor.grantor}.csv")


@router.get("/finance/reconciliation.pdf")
def grantor_reconciliation_pdf(rt: RuntimeDep, actor: Finance) -> Response:
    with rt.read() as session:
        report = _grantor_report(session, rt, actor)
    return reconciliation_pdf(rt, report)
