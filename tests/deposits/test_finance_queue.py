"""Money that qualifies nobody waits in the finance queue (R-16b, R-16a)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from tests.deposits.support import credit, let_lapse, refunds
from tests.harness import Account, Stack


def _queue(finance: Account) -> dict[str, dict[str, object]]:
    response = finance.http.get("/api/v1/finance/payments?limit=500")
    assert response.status_code == 200, response.text
    return {str(p["txn_id"]): p for p in response.json()}


def _status(bidder: Account, application: dict[str, object]) -> str:
    return str(bidder.http.get(f"/api/v1/applications/{application['id']}").json()["status"])


def test_r16b_unmatched_late_and_short_payments_land_in_the_finance_queue(
    stack: Stack, staff: Account, finance: Account
) -> None:
    lot = stack.published_lot(staff)
    late_bidder, short_bidder = stack.bidder(), stack.bidder()
    late_app = stack.apply(late_bidder, lot)
    short_app = stack.apply(short_bidder, lot)
    unmatched = credit(late_app, stack, txn_id=uuid.uuid4().hex, memo="保证金 无单号")
    assert stack.bank(unmatched).json() == {"status": "unmatched"}
    short = credit(short_app, stack, amount="100.00")
    assert stack.bank(short).json() == {"status": "matched"}
    deadline = datetime.fromisoformat(lot["deposit_deadline"])
    stack.advance_to(deadline + timedelta(hours=1))
    late = credit(late_app, stack, paid_at=(deadline + timedelta(seconds=1)).isoformat())
    assert stack.bank(late).json() == {"status": "matched"}
    assert _status(late_bidder, late_app) == "rejected"
    queue = _queue(finance)
    assert queue[unmatched["txn_id"]]["queue_reason"] == "unmatched"
    assert queue[late["txn_id"]]["queue_reason"] == "late"
    assert queue[short["txn_id"]]["queue_reason"] == "short"
    county = stack.account("finance", "tongshan")
    assert unmatched["txn_id"] not in _queue(county)
    assert staff.http.get("/api/v1/finance/payments").status_code == 403


def test_r16a_finance_assigns_an_unmatched_payment_only_with_a_written_reason(
    stack: Stack, staff: Account, finance: Account
) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    application = stack.apply(bidder, lot)
    body = credit(application, stack, memo="保证金(漏填订单号)")
    assert stack.bank(body).json() == {"status": "unmatched"}
    payment = _queue(finance)[body["txn_id"]]
    path = f"/api/v1/finance/payments/{payment['id']}/assign"
    bare = finance.http.post(path, json={"application_id": application["id"], "reason": ""})
    assert bare.status_code == 422 and bare.json()["code"] == "REASON_REQUIRED"
    assert _status(bidder, application) == "awaiting_deposit"
    reason = "付款人来电并提供付款回单,核实为该申请的保证金"
    done = finance.http.post(path, json={"application_id": application["id"], "reason": reason})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "matched" and done.json()["application_status"] == "qualified"
    assert done.json()["note"] == reason
    twice = finance.http.post(path, json={"application_id": application["id"], "reason": reason})
    assert twice.status_code == 409 and twice.json()["code"] == "NOT_UNMATCHED"


def test_r16b_an_assigned_late_payment_still_does_not_qualify(
    stack: Stack, staff: Account, finance: Account
) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    application = stack.apply(bidder, lot)
    deadline = datetime.fromisoformat(lot["deposit_deadline"])
    stack.advance_to(deadline - timedelta(hours=1))
    body = credit(
        application, stack, memo="无单号", paid_at=(deadline + timedelta(minutes=1)).isoformat()
    )
    assert stack.bank(body).json() == {"status": "unmatched"}
    payment = _queue(finance)[body["txn_id"]]
    done = finance.http.post(
        f"/api/v1/finance/payments/{payment['id']}/assign",
        json={"application_id": application["id"], "reason": "经核实为该申请的保证金"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "late"
    assert done.json()["application_status"] == "awaiting_deposit"
    stack.advance_to(deadline + timedelta(minutes=5))
    assert _status(bidder, application) == "rejected"
    let_lapse(stack, lot)
    [row] = [r for r in refunds(finance, lot) if r["application_id"] == application["id"]]
    assert row["status"] == "due"


def test_r16b_an_unmatched_payment_is_sent_back_to_its_payer(
    stack: Stack, staff: Account, finance: Account
) -> None:
    lot = stack.published_lot(staff)
    application = stack.apply(stack.bidder(), lot)
    body = credit(application, stack, memo="不明款项", amount="5000.00")
    assert stack.bank(body).json() == {"status": "unmatched"}
    payment = _queue(finance)[body["txn_id"]]
    path = f"/api/v1/finance/payments/{payment['id']}/return"
    assert finance.http.post(path, json={"reason": ""}).status_code == 422
    done = finance.http.post(path, json={"reason": "无法识别竞买人,原路退回"})
    assert done.status_code == 201, done.text
    assert done.json()["status"] == "due" and done.json()["amount"] == "5000.00"
    assert body["txn_id"] not in _queue(finance)  # no longer waiting
    again = finance.http.post(path, json={"reason": "无法识别竞买人,原路退回"})
    assert again.status_code == 409 and again.json()["code"] == "NOT_UNMATCHED"
    report = finance.http.get("/api/v1/finance/reconciliation").json()
    assert report["balanced"] is True
