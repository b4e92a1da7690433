"""Deposit endpoints for bidders, staff, finance and administrators: sub-accounts,
guarantees, the finance queue, refunds, forfeiture, reconciliation, working days."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Path, Request, Response, UploadFile
from pydantic import BaseModel, Field

from wangua.applications.models import Application
from wangua.applications.repository import application_id_by_order_no
from wangua.deposits import accounts, calendar, guarantees, payouts, queue, reconciliation, refunds
from wangua.deposits.banks import banks, serves
from wangua.deposits.calendar import shanghai_date
from wangua.deposits.confirmation_import import decode_file, import_confirmations, outcome_counts
from wangua.kit.money import parse_amount
from wangua.kit.problems import Problem, not_found
from wangua.lots.models import Lot
from wangua.lots.repository import get_lot
from wangua.printing.reports import reconciliation_pdf
from wangua.runtime import Actor
from wangua.web import ObjectId, RuntimeDep, link_next, page_limit, parse_cursor, role

router = APIRouter(prefix="/api/v1", tags=["deposits"])
Bidder = Annotated[Actor, Depends(role("bidder"))]
Staff = Annotated[Actor, Depends(role("staff"))]
Finance = Annotated[Actor, Depends(role("finance"))]
Admin = Annotated[Actor, Depends(role("admin"))]
CSV = "text/csv; charset=utf-8"
Year = Annotated[int, Path(ge=1949, le=9998)]
UPLOAD_LIMIT = 5 * 1024 * 1024  # bytes of a bank's confirmation file


class GuaranteeBody(BaseModel):
    application_id: int = Field(ge=1, le=2**63 - 1)
    issuer: str
    number: str
    amount: str
    valid_from: date
    valid_until: date


class ReasonBody(BaseModel):
    reason: str = ""


class AssignBody(BaseModel):
    """The application by its id, or by its order number (订单流水号) as the finance page
    asks for it: exactly one of the two."""

    application_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    order_no: str | None = Field(default=None, min_length=1, max_length=64)
    reason: str = ""


class NoteBody(BaseModel):
    note: str = ""


class ForfeitBody(BaseModel):
    cause: str
    note: str = ""


class ScheduleBody(BaseModel):
    holidays: list[str]
    workdays: list[str]
    source: str = ""


@router.post("/applications/{application_id}/deposit-account")
def deposit_account(
    application_id: ObjectId, rt: RuntimeDep, actor: Bidder, response: Response
) -> dict[str, Any]:
    """R-16a: the application's own virtual sub-account (201 when issued, 200 when asked
    again: always the same). Paying into it matches without the memo."""
    with rt.work(actor) as work:
        account, fresh = accounts.issue(work, rt.settings, application_id)
        application = work.session.get(Application, application_id)
        assert application is not None
        lot = get_lot(work.session, application.lot_id)
        response.status_code = 201 if fresh else 200
        return accounts.account_view(rt.settings, account, application, lot)


@router.post("/guarantees", status_code=201)
def register_guarantee(body: GuaranteeBody, rt: RuntimeDep, actor: Staff) -> dict[str, Any]:
    """R-17: staff register a bank guarantee that qualifies the application."""
    amount = parse_amount(body.amount)
    with rt.work(actor) as work:
        guarantee = guarantees.register(
            work,
            body.application_id,
            body.issuer,
            body.number,
            amount,
            body.valid_from,
            body.valid_until,
        )
        application = work.session.get(Application, guarantee.application_id)
        assert application is not None
        return guarantees.guarantee_view(guarantee, application)


@router.get("/finance/payments")
def finance_queue(
    request: Request,
    response: Response,
    rt: RuntimeDep,
    actor: Finance,
    limit: int | None = None,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """R-16b: unmatched, late and short money waiting for a finance officer."""
    size = page_limit(limit)
    with rt.read() as session:
        items = queue.queue(session, rt.settings, actor.grantor, parse_cursor(cursor), size)
    link_next(request, response, items, size, items[-1]["id"] if items else None)
    return items


@router.post("/finance/payments/{payment_id}/assign")
def assign_payment(
    payment_id: ObjectId, body: AssignBody, rt: RuntimeDep, actor: Finance
) -> dict[str, Any]:
    """R-16a, R-16b: assign an unmatched credit to an application, named by
    `application_id` or by `order_no`, with a written reason; it is judged like any credit
    (a late one still does not qualify). `422 APPLICATION_REQUIRED` unless exactly one of
    the two is given; `404` for an order number nobody has."""
    if (body.application_id is None) == (body.order_no is None):
        raise Problem(
            422,
            "APPLICATION_REQUIRED",
            "须指定竞买申请",
            "请提供 application_id 或 order_no 之一",
        )
    application_id = body.application_id
    if application_id is None:
        assert body.order_no is not None
        with rt.read() as session:
            application_id = application_id_by_order_no(session, body.order_no)
        if application_id is None:
            raise not_found("竞买申请")
    with rt.work(actor) as work:
        return queue.assign(work, rt.settings, payment_id, application_id, body.reason)


@router.post("/finance/payments/{payment_id}/return", status_code=201)
def return_payment(
    payment_id: ObjectId, body: ReasonBody, rt: RuntimeDep, actor: Finance
) -> dict[str, Any]:
    """R-16b: send an unmatched credit back to its payer."""
    with rt.work(actor) as work:
        row = queue.send_back(work, rt.settings, payment_id, body.reason)
        today = shanghai_date(work.now())
        return refunds.one_refund(work.session, row, rt.settings.refund_interest_bp, today)


@router.get("/lots/{lot_id}/refunds")
def lot_refunds(
    lot_id: ObjectId,
    request: Request,
    response: Response,
    rt: RuntimeDep,
    actor: Finance,
    limit: int | None = None,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """R-30, R-41, R-44: earnest money and refunds of a lot, with due dates (Asia/Shanghai)
    and interest for refunds paid or still due after their due date."""
    size = page_limit(limit)
    with rt.read() as session:
        lot = _own_lot(session, lot_id, actor)
        today = shanghai_date(rt.clock.now(session))
        items = refunds.lot_refunds(
            session, lot.id, rt.settings.refund_interest_bp, today, parse_cursor(cursor), size
        )
    link_next(request, response, items, size, items[-1]["id"] if items else None)
    return items


@router.post("/refunds/{refund_id}/release")
def release_refund(
    refund_id: ObjectId, body: NoteBody, rt: RuntimeDep, actor: Finance
) -> dict[str, Any]:
    """R-41: the payer is verified; the held refund becomes due."""
    with rt.work(actor) as work:
        row = payouts.release(work, rt.settings, refund_id, body.note)
        today = shanghai_date(work.now())
        return refunds.one_refund(work.session, row, rt.settings.refund_interest_bp, today)


@router.post("/lots/{lot_id}/forfeiture")
def forfeit_deposit(
    lot_id: ObjectId, body: ForfeitBody, rt: RuntimeDep, actor: Staff
) -> dict[str, Any]:
    """R-44, R-28b: the winner missed the confirmation deadline, refused or abandoned the
    lot: the deposit is forfeited by this recorded decision."""
    with rt.work(actor) as work:
        return payouts.forfeit(work, lot_id, body.cause, body.note)


@router.post("/finance/refund-instructions.csv")
def refund_file(rt: RuntimeDep, actor: Finance, bank: str = "default") -> Response:
    """R-30b: the instruction file for a bank without an API; handing it over is recorded."""
    if not serves(rt.settings, bank, actor.grantor):
        raise not_found("银行")
    with rt.work(actor) as work:
        rows = payouts.instructions(work, bank)
        today = shanghai_date(work.now())
        views = [payouts.instruction_view(r, rt.settings.refund_interest_bp, today) for r in rows]
    return Response(payouts.instructions_csv(views), media_type=CSV)


@router.post("/finance/refund-confirmations")
def upload_refund_confirmations(
    rt: RuntimeDep, actor: Finance, file: Annotated[UploadFile, File()], bank: str = "default"
) -> dict[str, Any]:
    """R-30b: the bank's refund confirmation file (multipart field `file`; columns
    instruction_id, txn_id, amount, paid_at), each line judged exactly like the bank's API
    confirmation: `paid`, `duplicate`, `unknown` (nothing changed) or `refused`."""
    if not serves(rt.settings, bank, actor.grantor):
        raise not_found("银行")
    content = file.file.read(UPLOAD_LIMIT + 1)
    if len(content) > UPLOAD_LIMIT:
        raise Problem(413, "FILE_TOO_LARGE", "文件过大", f"退款确认文件不超过 {UPLOAD_LIMIT} 字节")
    source = file.filename or "upload.csv"
    try:
        lines = import_confirmations(rt, actor, bank, decode_file(content), source)
    except ValueError as error:
        raise Problem(422, "INVALID_FILE", "退款确认文件格式不正确", str(error)) from None
    return {
        "bank": bank,
        "counts": outcome_counts(lines),
        "lines": [line.view() for line in lines],
    }


@router.get("/lots/{lot_id}/reconciliation")
def lot_reconciliation(lot_id: ObjectId, rt: RuntimeDep, actor: Finance) -> dict[str, Any]:
    """Received against qualified, pending, due, refunded, held, earnest, forfeited."""
    with rt.read() as session:
        return reconciliation.lot_report(session, rt.settings, _own_lot(session, lot_id, actor))


@router.get("/lots/{lot_id}/reconciliation.csv")
def lot_reconciliation_csv(lot_id: ObjectId, rt: RuntimeDep, actor: Finance) -> Response:
    with rt.read() as session:
        report = reconciliation.lot_report(session, rt.settings, _own_lot(session, lot_id, actor))
    return Response(reconciliation.to_csv(report), media_type=CSV)


@router.get("/lots/{lot_id}/reconciliation.pdf", response_class=Response)
def lot_reconciliation_pdf(lot_id: ObjectId, rt: RuntimeDep, actor: Finance) -> Response:
    """The same report, printable (rendered after the read transaction)."""
    with rt.read() as session:
        report = reconciliation.lot_report(session, rt.settings, _own_lot(session, lot_id, actor))
    return reconciliation_pdf(rt, report)


@router.get("/finance/reconciliation")
def bank_reconciliation(rt: RuntimeDep, actor: Finance) -> dict[str, Any]:
    """Per bank account: the grantor's lots and the unmatched money on its banks."""
    with rt.read() as session:
        return _grantor_report(session, rt, actor)


@router.get("/finance/reconciliation.csv")
def bank_reconciliation_csv(rt: RuntimeDep, actor: Finance) -> Response:
    with rt.read() as session:
        report = _grantor_report(session, rt, actor)
    return Response(reconciliation.to_csv(report), media_type=CSV)


@router.get("/finance/reconciliation.pdf", response_class=Response)
def bank_reconciliation_pdf(rt: RuntimeDep, actor: Finance) -> Response:
    with rt.read() as session:
        report = _grantor_report(session, rt, actor)
    return reconciliation_pdf(rt, report)


@router.put("/admin/workdays/{year}")
def load_workdays(year: Year, body: ScheduleBody, rt: RuntimeDep, actor: Admin) -> dict[str, Any]:
    """R-30b: load the official holiday schedule of a year the calendar does not know."""
    with rt.work(actor) as work:
        calendar.load_schedule(work, year, body.holidays, body.workdays, body.source)
        work.session.flush()
        return calendar.year_view(work.session, year)


@router.get("/workdays/{year}")
def workdays_year(year: Year, rt: RuntimeDep) -> dict[str, Any]:
    """Whether a year's official schedule is known; until it is, weekdays are counted."""
    with rt.read() as session:
        return calendar.year_view(session, year)


def _own_lot(session: Any, lot_id: int, actor: Actor) -> Lot:
    lot = session.get(Lot, lot_id)
    if lot is None or lot.grantor != actor.grantor:
        raise not_found("地块")
    assert isinstance(lot, Lot)
    return lot


def _grantor_report(session: Any, rt: RuntimeDep, actor: Actor) -> dict[str, Any]:
    if actor.grantor is None:
        raise not_found("出让人")
    codes = [c for c in banks(rt.settings) if serves(rt.settings, c, actor.grantor)]
    return reconciliation.grantor_report(session, rt.settings, actor.grantor, codes)
