"""The bank's notification endpoint (API.md): signed, idempotent by txn_id."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from wangua.deposits import service
from wangua.kit.money import parse_amount
from wangua.kit.problems import Problem
from wangua.kit.times import parse_rfc3339
from wangua.runtime import Actor
from wangua.web import RuntimeDep

router = APIRouter(prefix="/api/v1", tags=["deposits"])
BANK = Actor(user_id=None, role="bank", username="bank", roles=("bank",))


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def _text(data: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = data.get(key, "" if not required else None)
    if not isinstance(value, str) or (required and not value.strip()):
        raise Problem(422, "VALIDATION_ERROR", "银行通知数据不正确", f"{key} 缺失或不是字符串")
    return value


def parse_credit(raw: bytes) -> service.Credit:
    try:
        data = json.loads(raw)
    except ValueError:
        raise Problem(422, "VALIDATION_ERROR", "银行通知不是合法的 JSON") from None
    if not isinstance(data, dict):
        raise Problem(422, "VALIDATION_ERROR", "银行通知须为 JSON 对象")
    return service.Credit(
        txn_id=_text(data, "txn_id"),
        account_no=_text(data, "account_no", required=False),
        amount_fen=parse_amount(data.get("amount")),
        paid_at=parse_rfc3339(data.get("paid_at"), field="paid_at"),
        memo=_text(data, "memo", required=False),
        payer_name=_text(data, "payer_name", required=False),
        payer_account=_text(data, "payer_account", required=False),
    )


@router.post("/bank/notifications")
async def bank_notification(request: Request, rt: RuntimeDep) -> dict[str, str]:
    """R-16a: a credit to the deposit account; `matched`, `unmatched` or `duplicate`."""
    raw = await request.body()
    if not signature_ok(rt.settings.bank_secret, raw, request.headers.get("x-bank-signature")):
        raise Problem(401, "BAD_SIGNATURE", "银行通知签名无效")
    credit = parse_credit(raw)

    def store() -> str:
        try:
            with rt.work(BANK) as work:
                return service.receive(work, credit)
        except IntegrityError:  # the same txn_id committed concurrently
            with rt.work(BANK) as work:
                return service.receive(work, credit)

    return {"status": await run_in_threadpool(store)}
