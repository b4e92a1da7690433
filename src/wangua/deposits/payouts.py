"""Paying refunds out and the decisions staff take on them (R-30b, R-41, R-44).

Refund instructions go to the paying bank (its API or a file); the bank's
confirmation marks a refund paid and fixes its late interest. A held refund is
released once staff verify the payer. A winner who misses the confirmation
deadline or refuses forfeits the deposit, by a recorded staff decision.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from wangua.audit.service import lot_stream, record
from wangua.bidding.models import Result
from wangua.config import Settings
from wangua.deposits import ledger
from wangua.deposits.banks import serves
from wangua.deposits.calendar import shanghai_date, working_days_after
from wangua.deposits.models import Guarantee, Refund
from wangua.deposits.refunds import REFUND_WORKING_DAYS
from wangua.kit.money import format_fen
from wangua.kit.problems import Problem, forbidden, not_found
from wangua.kit.spreadsheet import safe_row
from wangua.kit.times import rfc3339
from wangua.lots.models import Lot
from wangua.lots.repository import lock_lot
from wangua.results import confirmation
from wangua.runtime import Work
from wangua.scheduler.service import catch_up

FORFEIT_CAUSES = {
    "missed_confirmation": "竞得人未在规定期限内办理成交确认手续",
    "refused_confirmation": "竞得人拒绝签订成交确认书",
    "refused_contract": "竞得人拒绝签订国有建设用地使用权出让合同",
    "abandoned": "竞得人放弃竞得宗地",
}


def _stream(row: Refund) -> str:
    return lot_stream(row.lot_id) if row.lot_id else "system"


def _locked_refund(work: Work, refund_id: int) -> tuple[Refund, Lot | None]:
    row = work.session.get(Refund, refund_id)
    if row is None:
        raise not_found("退款")
    lot = lock_lot(work, row.lot_id) if row.lot_id else None
    work.session.refresh(row)
    return row, lot


def in_scope(settings: Settings, work: Work, row: Refund, lot: Lot | None) -> bool:
    """R-03: finance sees its own grantor's lots, and the unmatched money of its bank."""
    if lot is not None:
        return lot.grantor == work.actor.grantor
    return serves(settings, row.bank_code, work.actor.grantor)


def release(work: Work, settings: Settings, refund_id: int, note: str) -> Refund:
    """R-41: staff verified the payer: a held refund becomes due, at the latest 5
    working days after the verification. So does the earnest money of a voided result
    that staff decide to return (R-43)."""
    row, lot = _locked_refund(work, refund_id)
    if not in_scope(settings, work, row, lot):
        raise not_found("退款")
    voided_earnest = row.status == "earnest" and lot is not None and lot.status == "voided"
    if row.status != "held" and not voided_earnest:
        raise Problem(409, "NOT_HELD", "该笔款项不在待核实状态", f"当前状态为 {row.status}")
    if not note.strip():
        raise Problem(422, "REASON_REQUIRED", "须填写核实说明")
    verified_due = working_days_after(work.session, shanghai_date(work.now()), REFUND_WORKING_DAYS)
    was = row.status
    row.status = "due"
    if verified_due.day > row.due_date:
        row.due_date, row.due_assumed = verified_due.day, verified_due.assumed
    row.note = note.strip()
    record(
        work,
        "refund.released",
        stream=_stream(row),
        object_type="refund",
        object_id=row.id,
        data={"from": was, "note": row.note, "due_date": row.due_date.isoformat()},
    )
    return row


def forfeit(work: Work, lot_id: int, cause: str, note: str) -> dict[str, Any]:
    """R-44: the winner's deposit (earnest money or retained guarantee) is forfeited. Once
    the signed confirmation is recorded (R-28b), not for missing or refusing it."""
    if cause not in FORFEIT_CAUSES:
        raise Problem(
            422, "UNKNOWN_CAUSE", "没收事由不正确", f"事由须为:{'、'.join(FORFEIT_CAUSES)}"
        )
    if not note.strip():
        raise Problem(422, "REASON_REQUIRED", "须填写决定说明")
    lot = lock_lot(work, lot_id)
    catch_up(work, lot)  # the settlement that makes the deposit earnest money may be due
    if work.actor.grantor != lot.grantor:
        raise forbidden("只能办理本出让人的地块")
    result = work.session.get(Result, lot.id)
    if result is None or lot.status not in ("sold", "voided") or not result.winner_application_id:
        raise Problem(409, "NOT_FORFEITABLE", "该地块没有竞得人的保证金可没收")
    signed = result.confirmation_signed_at
    if signed is not None and cause in ("missed_confirmation", "refused_confirmation"):
        raise Problem(
            409,
            "CONFIRMATION_SIGNED",
            "竞得人已签订成交确认书",
            f"已于 {rfc3339(signed)} 登记签订,不能以“{FORFEIT_CAUSES[cause]}”没收保证金",
        )
    deadline = confirmation.deadline(work.session, result.decided_at)
    if cause == "missed_confirmation" and shanghai_date(work.now()) <= deadline:
        raise Problem(
            409,
            "CONFIRMATION_NOT_OVERDUE",
            "成交确认期限尚未届满",
            f"竞得人可在 {deadline.isoformat()} 前办理成交确认",
        )
    rows = list(
        work.session.scalars(
            select(Refund).where(
                Refund.lot_id == lot.id,
                Refund.application_id == result.winner_application_id,
                Refund.status == "earnest",
            )
        )
    )
    guarantees = list(
        work.session.scalars(
            select(Guarantee).where(
                Guarantee.application_id == result.winner_application_id,
                Guarantee.status == "retained",
            )
        )
    )
    if not rows and not guarantees:
        raise Problem(409, "NOT_FORFEITABLE", "竞得人保证金已处理,无可没收款项")
    now = work.now()
    for row in rows:
        row.status, row.note = "forfeited", f"{FORFEIT_CAUSES[cause]}:{note.strip()}"
    for guarantee in guarantees:
        guarantee.status, guarantee.settled_at = "claimed", now
    amount = sum(r.amount_fen for r in rows)
    claimed = sum(g.amount_fen for g in guarantees)
    record(
        work,
        "deposit.forfeited",
        stream=lot_stream(lot.id),
        object_type="lot",
        object_id=lot.id,
        data={
            "cause": cause,
            "note": note.strip(),
            "application_id": result.winner_application_id,
            "refund_ids": [r.id for r in rows],
            "guarantee_ids": [g.id for g in guarantees],
            "amount_fen": amount,
            "guarantee_fen": claimed,
        },
    )
    return {
        "lot_id": lot.id,
        "application_id": result.winner_application_id,
        "cause": cause,
        "cause_text": FORFEIT_CAUSES[cause],
        "forfeited": format_fen(amount),
        "guarantee_claimed": format_fen(claimed),
        "confirmation_deadline": deadline.isoformat(),
        "decided_at": rfc3339(now),
    }


def instructions(work: Work, bank_code: str) -> list[Refund]:
    """Due refunds for a bank to pay; the first hand-over is recorded."""
    rows = list(
        work.session.scalars(
            select(Refund)
            .where(Refund.bank_code == bank_code, Refund.status == "due")
            .order_by(Refund.id)
        )
    )
    now = work.now()
    fresh = [r for r in rows if r.instructed_at is None]
    for row in fresh:
        row.instructed_at = now
    if fresh:
        record(
            work,
            "refund.instructed",
            object_type="bank",
            object_id=bank_code,
            data={"refund_ids": [r.id for r in fresh]},
        )
    return rows


INSTRUCTION_COLUMNS = (
    "instruction_id",
    "amount",
    "interest",
    "total",
    "payee_name",
    "payee_account",
    "due_date",
    "memo",
)


def instruction_view(row: Refund, rate_bp: int, today: date) -> dict[str, Any]:
    interest = ledger.interest_fen(row.amount_fen, rate_bp, ledger.days_late(row.due_date, today))
    return {
        "instruction_id": row.id,
        "amount": format_fen(row.amount_fen),
        "interest": format_fen(interest),
        "total": format_fen(row.amount_fen + interest),
        "payee_name": row.payee_name,
        "payee_account": row.payee_account,
        "due_date": row.due_date.isoformat(),
        "memo": f"退还竞买保证金 R{row.id}",
    }


def instructions_csv(views: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = list(INSTRUCTION_COLUMNS)
    writer.writerow(columns)
    for view in views:
        writer.writerow(safe_row(view[c] for c in columns))
    return out.getvalue()


def confirm(
    work: Work,
    bank_code: str,
    refund_id: int,
    txn_id: str,
    amount_fen: int,
    paid_at: datetime,
    rate_bp: int,
    *,
    source: str = "api",
) -> str:
    """The bank paid a refund: `paid`, or `duplicate` for the same confirmation again.
    The amount must be the principal plus the interest for the days late (R-30b).
    `source` says where the confirmation came from: the API, or a file and its line."""
    row = work.session.get(Refund, refund_id)
    if row is None or row.bank_code != bank_code:
        raise Problem(404, "NOT_FOUND", "退款指令不存在")
    row, _lot = _locked_refund(work, refund_id)
    if row.status == "paid":
        if row.bank_txn_id == txn_id:
            return "duplicate"
        raise Problem(409, "ALREADY_PAID", "该笔退款已确认支付")
    if row.status != "due":
        raise Problem(409, "NOT_DUE", "该笔款项不在待退状态", f"当前状态为 {row.status}")
    interest = ledger.interest_fen(
        row.amount_fen, rate_bp, ledger.days_late(row.due_date, shanghai_date(paid_at))
    )
    if amount_fen != row.amount_fen + interest:
        raise Problem(
            409,
            "REFUND_AMOUNT_MISMATCH",
            "退款金额与应付金额不符",
            f"应付 {format_fen(row.amount_fen + interest)} 元"
            f"(本金 {format_fen(row.amount_fen)},利息 {format_fen(interest)})",
        )
    row.status, row.paid_at, row.bank_txn_id, row.interest_fen = "paid", paid_at, txn_id, interest
    record(
        work,
        "refund.paid",
        stream=_stream(row),
        object_type="refund",
        object_id=row.id,
        data={"bank": bank_code, "txn_id": txn_id, "interest_fen": interest, "source": source},
    )
    return "paid"
