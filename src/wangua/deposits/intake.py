"""Bank credits in: the notification body and the statement line, parsed the same way
and stored the same way (R-16a). A malformed line (a negative, zero or badly written
amount, a time without offset) is refused and recorded without business effect."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy.exc import IntegrityError

from wangua.audit.service import record
from wangua.deposits import service
from wangua.kit.money import parse_amount
from wangua.kit.problems import Problem
from wangua.kit.times import parse_rfc3339
from wangua.runtime import Actor, Runtime

BANK = Actor(user_id=None, role="bank", username="bank", roles=("bank",))


def _text(data: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = data.get(key, "" if not required else None)
    if not isinstance(value, str) or (required and not value.strip()):
        raise Problem(422, "VALIDATION_ERROR", "银行通知数据不正确", f"{key} 缺失或不是字符串")
    return value


def credit_from(data: dict[str, Any]) -> service.Credit:
    return service.Credit(
        txn_id=_text(data, "txn_id"),
        account_no=_text(data, "account_no", required=False),
        amount_fen=parse_amount(data.get("amount")),
        paid_at=parse_rfc3339(data.get("paid_at"), field="paid_at"),
        memo=_text(data, "memo", required=False),
        payer_name=_text(data, "payer_name", required=False),
        payer_account=_text(data, "payer_account", required=False),
    )


def parse_json(raw: bytes) -> service.Credit:
    try:
        data = json.loads(raw)
    except ValueError:
        raise Problem(422, "VALIDATION_ERROR", "银行通知不是合法的 JSON") from None
    if not isinstance(data, dict):
        raise Problem(422, "VALIDATION_ERROR", "银行通知须为 JSON 对象")
    return credit_from(data)


def refuse(rt: Runtime, bank_code: str, problem: Problem, raw: bytes, source: str) -> None:
    """Record a refused credit in the audit record; nothing else changes."""
    with rt.work(BANK) as work:
        record(
            work,
            "bank.credit_refused",
            object_type="bank",
            object_id=bank_code,
            data={
                "source": source,
                "code": problem.code,
                "detail": problem.detail,
                "body_sha256": hashlib.sha256(raw).hexdigest(),
            },
            result=problem.code,
        )


def store(rt: Runtime, bank_code: str, credit: service.Credit) -> str:
    """`matched`, `unmatched` or `duplicate`; the same txn_id committed concurrently
    is answered as a duplicate on the retry."""
    try:
        with rt.work(BANK) as work:
            return service.receive(work, credit, bank_code)
    except IntegrityError:
        with rt.work(BANK) as work:
            return service.receive(work, credit, bank_code)
