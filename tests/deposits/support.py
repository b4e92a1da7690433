"""Steps the deposit tests share: signed bank calls, lots that end."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import httpx

from tests.harness import BANK_SECRET, Account, Stack
from wangua.kit.times import SHANGHAI
from wangua.kit.workdays import add_working_days

COUNTY_BANK = {
    "code": "tongshan-rcb",
    "name": "湖北通山农村商业银行",
    "secret": "county-bank-secret",
    "account_no": "8201 0000 0000 777",
    "account_name": "通山县公共资源交易中心",
    "grantors": ["tongshan"],
}


def signed(
    stack: Stack,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    secret: str = BANK_SECRET,
    bank_id: str | None = None,
) -> httpx.Response:
    raw = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Bank-Signature": "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest(),
    }
    if bank_id:
        headers["X-Bank-Id"] = bank_id
    return stack.anonymous().request(method, path, content=raw, headers=headers)


def credit(application: dict[str, Any], stack: Stack, **fields: Any) -> dict[str, Any]:
    body = {
        "txn_id": uuid.uuid4().hex,
        "account_no": application["deposit"]["account_no"],
        "amount": application["deposit"]["amount"],
        "paid_at": stack.now().isoformat(),
        "memo": f"竞买保证金 {application['order_no']}",
        "payer_name": "付款单位",
        "payer_account": "6222000011112222",
    }
    body.update(fields)
    return body


def refunds(finance: Account, lot: dict[str, Any]) -> list[dict[str, Any]]:
    response = finance.http.get(f"/api/v1/lots/{lot['id']}/refunds")
    assert response.status_code == 200, response.text
    return list(response.json())


def due_after(ended_at: str, days: int = 5) -> str:
    end = datetime.fromisoformat(ended_at).astimezone(SHANGHAI).date()
    return add_working_days(end, days).day.isoformat()


def sell(
    stack: Stack, lot: dict[str, Any], winner: Account, price: str = "120000000.00"
) -> dict[str, Any]:
    """The winner quotes in the listing period; nobody joins the inquiry: sold (R-22(1))."""
    stack.advance_to(lot["listing_start"])
    assert stack.quote(winner, lot, price).status_code == 201
    stack.advance_to(datetime.fromisoformat(lot["listing_end"]) + timedelta(minutes=6))
    result = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/result").json()
    assert result["outcome"] == "sold", result
    return dict(result)


def let_lapse(stack: Stack, lot: dict[str, Any]) -> dict[str, Any]:
    """No quote by the listing deadline: unsold (R-22(3))."""
    stack.advance_to(datetime.fromisoformat(lot["listing_end"]) + timedelta(seconds=1))
    result = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/result").json()
    assert result["outcome"] == "unsold", result
    return dict(result)


def shanghai_today(stack: Stack) -> date:
    return stack.now().astimezone(SHANGHAI).date()
