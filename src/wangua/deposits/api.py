"""The bank channel (API.md): signed with HMAC-SHA256, idempotent by txn_id.

A bank names itself with `X-Bank-Id` (default: the single configured bank) and signs
the raw body with its secret in `X-Bank-Signature: sha256=<hex>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select, text
from starlette.concurrency import run_in_threadpool

from wangua.deposits import intake, links, payouts
from wangua.deposits.banks import Bank, bank_by_id
from wangua.deposits.calendar import shanghai_date
from wangua.deposits.models import Payment
from wangua.kit.money import parse_amount
from wangua.kit.problems import Problem
from wangua.kit.times import parse_rfc3339, rfc3339
from wangua.web import RuntimeDep

router = APIRouter(prefix="/api/v1", tags=["deposits"])
BANK = intake.BANK


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """The bank's HMAC-SHA256 of the raw body; with no secret configured, nothing is."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def verified_bank(rt: RuntimeDep, request: Request, raw: bytes) -> Bank:
    """The bank that signed this request; 401 BAD_SIGNATURE otherwise."""
    bank = bank_by_id(rt.settings, request.headers.get("x-bank-id"))
    if not signature_ok(bank.secret, raw, request.headers.get("x-bank-signature")):
        raise Problem(401, "BAD_SIGNATURE", "银行通知签名无效")
    return bank


async def signed_bank(rt: RuntimeDep, request: Request, raw: bytes) -> Bank:
    """The bank that signed this request, its contact recorded for the link state."""
    bank = verified_bank(rt, request, raw)
    await run_in_threadpool(links.seen, rt, bank.code)
    return bank


def _object(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        raise Problem(422, "VALIDATION_ERROR", "请求不是合法的 JSON") from None
    if not isinstance(data, dict):
        raise Problem(422, "VALIDATION_ERROR", "请求须为 JSON 对象")
    return data


@router.post("/bank/notifications")
async def bank_notification(request: Request, rt: RuntimeDep) -> dict[str, str]:
    """R-16a: a credit to a deposit account; `matched`, `unmatched` or `duplicate`.
    A malformed or non-positive amount is refused (422) and recorded."""
    raw = await request.body()
    bank = await signed_bank(rt, request, raw)
    try:
        credit = intake.parse_json(raw)
    except Problem as problem:
        await run_in_threadpool(intake.refuse, rt, bank.code, problem, raw, "notification")
        raise
    return {"status": await run_in_threadpool(intake.store, rt, bank.code, credit)}


@router.get("/bank/health")
async def bank_health(request: Request, rt: RuntimeDep) -> Any:
    """Link health a bank may poll, signed over the empty body: the server's time and
    the last credit received from this bank. 503 when the database is unreachable.
    The poll counts as the bank's contact (`wangua_bank_link_up`)."""
    bank = verified_bank(rt, request, b"")

    def look() -> dict[str, Any]:
        links.seen(rt, bank.code)
        with rt.read() as session:
            session.execute(text("SELECT 1"))
            last = session.scalar(
                select(func.max(Payment.received_at)).where(Payment.bank_code == bank.code)
            )
        return {
            "status": "ok",
            "bank_code": bank.code,
            "now": rfc3339(rt.now()),
            "last_credit_received_at": rfc3339(last),
        }

    try:
        return await run_in_threadpool(look)
    except Exception as exc:  # any database failure means "unavailable"
        return JSONResponse(
            {"status": "unavailable", "bank_code": bank.code, "error": type(exc).__name__},
            status_code=503,
        )


@router.post("/bank/refund-instructions")
async def refund_instructions(request: Request, rt: RuntimeDep) -> list[dict[str, Any]]:
    """R-30b: the refunds this bank is to pay now (principal, interest as of today,
    payee by the original route). The body is any signed JSON object."""
    raw = await request.body()
    bank = await signed_bank(rt, request, raw)
    _object(raw)

    def pull() -> list[dict[str, Any]]:
        with rt.work(BANK) as work:
            rows = payouts.instructions(work, bank.code)
            today = shanghai_date(work.now())
            return [
                payouts.instruction_view(r, rt.settings.refund_interest_bp, today) for r in rows
            ]

    return await run_in_threadpool(pull)


@router.post("/bank/refund-confirmations")
async def refund_confirmation(request: Request, rt: RuntimeDep) -> dict[str, str]:
    """The bank paid a refund: body `{"instruction_id", "txn_id", "amount", "paid_at"}`,
    answer `{"status": "paid" | "duplicate"}`. The amount is principal plus interest."""
    raw = await request.body()
    bank = await signed_bank(rt, request, raw)
    data = _object(raw)
    instruction = data.get("instruction_id")
    txn_id = data.get("txn_id")
    if isinstance(instruction, bool) or not isinstance(instruction, int):
        raise Problem(422, "VALIDATION_ERROR", "instruction_id 须为整数")
    if not 1 <= instruction <= 2**63 - 1:
        raise Problem(404, "NOT_FOUND", "退款指令不存在")
    if not isinstance(txn_id, str) or not txn_id.strip():
        raise Problem(422, "VALIDATION_ERROR", "txn_id 缺失")
    amount = parse_amount(data.get("amount"))
    paid_at = parse_rfc3339(data.get("paid_at"), field="paid_at")

    def pay() -> str:
        with rt.work(BANK) as work:
            return payouts.confirm(
                work,
                bank.code,
                instruction,
                txn_id,
                amount,
                paid_at,
                rt.settings.refund_interest_bp,
            )

    return {"status": await run_in_threadpool(pay)}
