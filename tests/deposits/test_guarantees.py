"""Bank guarantees stand in for the deposit and are released, not refunded (R-17)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.deposits.support import let_lapse, refunds, sell
from tests.harness import Account, Stack
from wangua.kit.times import SHANGHAI


def _body(lot: dict[str, Any], application: dict[str, Any], **extra: Any) -> dict[str, Any]:
    end = datetime.fromisoformat(lot["listing_end"]).astimezone(SHANGHAI).date()
    body = {
        "application_id": application["id"],
        "issuer": "中国建设银行咸宁分行",
        "number": f"BH-{application['order_no']}",
        "amount": lot["deposit"],
        "valid_from": (end - timedelta(days=40)).isoformat(),
        "valid_until": (end + timedelta(days=60)).isoformat(),
    }
    body.update(extra)
    return body


def _status(bidder: Account, application: dict[str, Any]) -> str:
    return str(bidder.http.get(f"/api/v1/applications/{application['id']}").json()["status"])


def test_r17_a_registered_guarantee_qualifies_and_is_released_not_refunded(
    stack: Stack, staff: Account
) -> None:
    finance = stack.account("finance", "xianning-city")
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    application = stack.apply(bidder, lot)
    small = staff.http.post("/api/v1/guarantees", json=_body(lot, application, amount="100.00"))
    assert small.status_code == 422 and small.json()["code"] == "GUARANTEE_TOO_SMALL"
    end = datetime.fromisoformat(lot["listing_end"]).astimezone(SHANGHAI).date()
    short_lived = _body(lot, application, valid_until=(end - timedelta(days=1)).isoformat())
    expired = staff.http.post("/api/v1/guarantees", json=short_lived)
    assert expired.status_code == 422 and expired.json()["code"] == "GUARANTEE_VALIDITY"
    assert bidder.http.post("/api/v1/guarantees", json=_body(lot, application)).status_code == 403
    done = staff.http.post("/api/v1/guarantees", json=_body(lot, application))
    assert done.status_code == 201, done.text
    assert done.json()["status"] == "active" and done.json()["application_status"] == "qualified"
    assert _status(bidder, application) == "qualified"
    again = staff.http.post("/api/v1/guarantees", json=_body(lot, application))
    assert again.status_code == 409
    let_lapse(stack, lot)
    assert refunds(finance, lot) == []
    report = finance.http.get(f"/api/v1/lots/{lot['id']}/reconciliation").json()
    assert report["guarantees"] == {"released": lot["deposit"]}


def test_r17_r44_a_winner_on_a_guarantee_has_it_retained_then_claimed(
    stack: Stack, staff: Account
) -> None:
    finance = stack.account("finance", "xianning-city")
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    application = stack.apply(bidder, lot)
    assert staff.http.post("/api/v1/guarantees", json=_body(lot, application)).status_code == 201
    sell(stack, lot, bidder)
    report = finance.http.get(f"/api/v1/lots/{lot['id']}/reconciliation").json()
    assert report["guarantees"] == {"retained": lot["deposit"]}
    done = staff.http.post(
        f"/api/v1/lots/{lot['id']}/forfeiture",
        json={"cause": "abandoned", "note": "竞得人书面放弃竞得宗地"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["guarantee_claimed"] == lot["deposit"]
    report = finance.http.get(f"/api/v1/lots/{lot['id']}/reconciliation").json()
    assert report["guarantees"] == {"claimed": lot["deposit"]}


def test_r17_no_guarantee_after_the_deposit_deadline(stack: Stack, staff: Account) -> None:
    lot = stack.published_lot(staff)
    application = stack.apply(stack.bidder(), lot)
    stack.advance_to(datetime.fromisoformat(lot["deposit_deadline"]) + timedelta(seconds=1))
    late = staff.http.post("/api/v1/guarantees", json=_body(lot, application))
    assert late.status_code == 409 and late.json()["code"] == "DEPOSIT_CLOSED"
