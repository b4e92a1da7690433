"""The finance officer's pages (R-16a, R-16b, R-30b, R-41): the queue, refunds, the bank's
instruction file and reconciliation, each doing what the API does."""

from __future__ import annotations

import csv
import io
import re
import uuid
from decimal import Decimal
from typing import Any

from tests.deposits.support import credit, let_lapse, refunds
from tests.harness import Account, Stack
from tests.pages.support import signed_in, text_of
from wangua.kit.money import format_fen

BUCKETS = ("pending", "unmatched", "due", "refunded", "held", "earnest", "forfeited")


def fen(amount: str) -> int:
    """An amount as the API or a page writes it ("1,234.56", "0.00"), in fen."""
    return int(Decimal(amount.replace(",", "")) * 100)


def _queue(finance: Account) -> dict[str, dict[str, Any]]:
    response = finance.http.get("/api/v1/finance/payments?limit=500")
    assert response.status_code == 200, response.text
    return {str(p["txn_id"]): p for p in response.json()}


def _status(bidder: Account, application: dict[str, Any]) -> str:
    return str(bidder.http.get(f"/api/v1/applications/{application['id']}").json()["status"])


def _unmatched(stack: Stack, application: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = credit(application, stack, memo=f"保证金 漏填单号 {uuid.uuid4().hex[:6]}", **fields)
    assert stack.bank(body).json() == {"status": "unmatched"}
    return body


def test_r16a_finance_assigns_an_unmatched_payment_on_the_page_only_with_a_reason(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    application = stack.apply(bidder, lot)
    body = _unmatched(stack, application)
    finance = stack.account("finance", "xianning-city")
    page = signed_in(stack, finance)
    listed = text_of(page.get("/finance").text)
    assert body["txn_id"] in listed and body["memo"] in listed and "未匹配" in listed
    payment = _queue(finance)[body["txn_id"]]
    assign = f"/finance/payments/{payment['id']}/assign"
    bare = page.post(assign, data={"order_no": application["order_no"], "reason": ""})
    assert bare.status_code == 422 and "须填写书面理由" in text_of(bare.text)
    unknown = page.post(assign, data={"order_no": "NO-SUCH-ORDER", "reason": "付款人来电核实"})
    assert unknown.status_code == 404 and "竞买申请不存在" in text_of(unknown.text)
    assert _status(bidder, application) == "awaiting_deposit"
    assert _queue(finance)[body["txn_id"]]["status"] == "unmatched"
    reason = "付款人来电并提供付款回单,核实为该申请的保证金"
    done = page.post(assign, data={"order_no": application["order_no"], "reason": reason})
    assert done.status_code == 303, done.text
    assert _status(bidder, application) == "qualified"
    assert body["txn_id"] not in _queue(finance)  # matched: nothing waits any more
    assert "已指定到竞买申请" in text_of(page.get(done.headers["location"]).text)


def test_r16b_finance_sends_an_unmatched_payment_back_on_the_page(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    body = _unmatched(stack, stack.apply(stack.bidder(), lot), amount="5000.00")
    finance = stack.account("finance", "xianning-city")
    payment = _queue(finance)[body["txn_id"]]
    page = signed_in(stack, finance)
    back = f"/finance/payments/{payment['id']}/return"
    assert "须填写书面理由" in text_of(page.post(back, data={"reason": " "}).text)
    assert body["txn_id"] in _queue(finance)
    due_before = fen(finance.http.get("/api/v1/finance/reconciliation").json()["totals"]["due"])
    assert page.post(back, data={"reason": "无法识别竞买人,原路退回"}).status_code == 303
    assert body["txn_id"] not in _queue(finance)
    report = finance.http.get("/api/v1/finance/reconciliation").json()
    assert fen(report["totals"]["due"]) == due_before + 500000
    again = page.post(back, data={"reason": "无法识别竞买人,原路退回"})
    assert again.status_code == 409 and "只有未匹配的到账可以直接退回" in text_of(again.text)


def test_r03_finance_of_another_grantor_cannot_assign_to_its_lots_or_see_them(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    application = stack.apply(bidder, lot)
    body = _unmatched(stack, application)
    county = stack.account("finance", "chibi")
    payment = _queue(county)[body["txn_id"]]  # the same bank serves both grantors here
    page = signed_in(stack, county)
    refused = page.post(
        f"/finance/payments/{payment['id']}/assign",
        data={"order_no": application["order_no"], "reason": "核实为该申请的保证金"},
    )
    assert refused.status_code == 404 and "竞买申请不存在" in text_of(refused.text)
    assert _status(bidder, application) == "awaiting_deposit"
    assert _queue(county)[body["txn_id"]]["status"] == "unmatched"
    assert page.get(f"/finance/lots/{lot['id']}").status_code == 404
    assert page.get(f"/finance/lots/{lot['id']}/reconciliation.csv").status_code == 404


def test_r41_a_held_refund_is_released_on_the_lot_page_with_a_note(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    application = stack.apply(bidder, lot)
    stack.bank(credit(application, stack, payer_name="", payer_account=""))
    let_lapse(stack, lot)
    finance = stack.account("finance", "xianning-city")
    [row] = refunds(finance, lot)
    assert row["status"] == "held"
    page = signed_in(stack, finance)
    shown = page.get(f"/finance/lots/{lot['id']}")
    assert shown.status_code == 200
    text = text_of(shown.text)
    assert application["order_no"] in text and "暂存待核实" in text and row["due_date"] in text
    release = f"/finance/refunds/{row['id']}/release"
    bare = page.post(release, data={"lot_id": lot["id"], "note": ""})
    assert bare.status_code == 422 and "须填写核实说明" in text_of(bare.text)
    assert refunds(finance, lot)[0]["status"] == "held"
    note = "付款人持营业执照和付款回单到场核实"
    done = page.post(release, data={"lot_id": lot["id"], "note": note})
    assert (
        done.status_code == 303
        and done.headers["location"] == f"/finance/lots/{lot['id']}?done=released"
    )
    [released] = refunds(finance, lot)
    assert released["status"] == "due" and released["note"] == note
    assert "应退未付" in text_of(page.get(done.headers["location"]).text)


def test_r30b_the_refund_instruction_file_lists_due_refunds_and_records_the_hand_over(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    stack.qualified(stack.bidder(), lot)
    let_lapse(stack, lot)
    finance = stack.account("finance", "xianning-city")
    [row] = refunds(finance, lot)
    assert row["status"] == "due" and row["instructed_at"] is None
    answer = signed_in(stack, finance).post("/finance/refund-instructions.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    lines = {r["instruction_id"]: r for r in csv.DictReader(io.StringIO(answer.text))}
    assert lines[str(row["id"])]["total"] == row["amount"]
    assert lines[str(row["id"])]["payee_account"] == "6222000011112222"
    assert refunds(finance, lot)[0]["instructed_at"] is not None


def _footer(html: str) -> dict[str, int]:
    """The totals row of the reconciliation table, in fen, by column."""
    cells = re.findall(r'data-column="([a-z_]+)">([0-9,.\-—]+)<', html)
    return {key: fen(value) for key, value in cells}


def test_reconciliation_pages_balance_to_the_fen_and_match_the_api(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    winner, loser, unverified = stack.bidder(), stack.bidder(), stack.bidder()
    stack.qualified(winner, lot)
    lost = stack.apply(loser, lot)
    stack.pay(lost, amount="24000000.01")
    short = stack.apply(unverified, lot)
    stack.bank(credit(short, stack, amount="100.00", payer_account=""))
    let_lapse(stack, lot)
    finance = stack.account("finance", "xianning-city")
    page = signed_in(stack, finance)
    html = page.get(f"/finance/lots/{lot['id']}").text
    shown = _footer(html)
    api = finance.http.get(f"/api/v1/lots/{lot['id']}/reconciliation").json()["totals"]
    for key, value in api.items():
        assert shown[key] == fen(value), key
    assert shown["received"] == 2400000000 + 2400000001 + 10000
    assert shown["accounted"] == sum(shown[b] for b in BUCKETS) == shown["received"]
    assert "分毫不差" in text_of(html) and 'data-testid="balanced">平衡<' in html
    exported = page.get(f"/finance/lots/{lot['id']}/reconciliation.csv")
    total = next(r for r in csv.reader(io.StringIO(exported.text)) if r[0] == "total")
    assert format_fen(shown["received"]) in total and total[-1] == "yes"
    grantor = page.get("/finance/reconciliation").text
    api_all = finance.http.get("/api/v1/finance/reconciliation").json()["totals"]
    assert _footer(grantor)["received"] == fen(api_all["received"])
    assert _footer(grantor)["accounted"] == _footer(grantor)["received"]
    assert page.get("/finance/reconciliation.csv").text.splitlines()[-1].endswith(",yes")
    for printed in (f"/finance/lots/{lot['id']}/reconciliation.pdf", "/finance/reconciliation.pdf"):
        pdf = page.get(printed)
        assert pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
