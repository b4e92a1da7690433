"""R-16a: finance assigns an unmatched credit by the order number (订单流水号) the payer
should have written, over the API as on the finance page."""

from __future__ import annotations

from tests.deposits.support import credit
from tests.harness import Account, Stack


def _payment_id(finance: Account, txn_id: str) -> int:
    queue = finance.http.get("/api/v1/finance/payments?limit=500").json()
    return int(next(p["id"] for p in queue if p["txn_id"] == txn_id))


def test_r16a_finance_assigns_an_unmatched_payment_by_its_order_number(
    stack: Stack, staff: Account, finance: Account
) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    application = stack.apply(bidder, lot)
    body = credit(application, stack, memo="保证金(订单号写错)")
    assert stack.bank(body).json() == {"status": "unmatched"}
    path = f"/api/v1/finance/payments/{_payment_id(finance, body['txn_id'])}/assign"
    reason = "付款人提供回单,订单号核对无误"
    both = {"application_id": application["id"], "order_no": application["order_no"]}
    for wrong in ({"reason": reason}, {**both, "reason": reason}):
        refused = finance.http.post(path, json=wrong)
        assert (refused.status_code, refused.json()["code"]) == (422, "APPLICATION_REQUIRED")
    unknown = finance.http.post(path, json={"order_no": "NO-SUCH-ORDER", "reason": reason})
    assert unknown.status_code == 404
    done = finance.http.post(
        path, json={"order_no": f" {application['order_no']} ", "reason": reason}
    )
    assert done.status_code == 200, done.text
    assert done.json()["order_no"] == application["order_no"]
    assert done.json()["application_status"] == "qualified"
    status = bidder.http.get(f"/api/v1/applications/{application['id']}").json()["status"]
    assert status == "qualified"
