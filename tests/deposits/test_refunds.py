"""After the result: earnest money, refunds, held payers, forfeiture, bank payouts and
reconciliation (R-30a, R-30b, R-41, R-44, R-28b, R-37). SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.deposits.support import credit, due_after, let_lapse, refunds, sell, signed
from tests.harness import Account, Stack
from wangua.deposits.ledger import interest_fen
from wangua.kit.money import format_fen, parse_amount
from wangua.kit.times import SHANGHAI
from wangua.kit.workdays import add_working_days

DEPOSIT = "24000000.00"


def _by_app(rows: list[dict[str, Any]], application: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in rows if r["application_id"] == application["id"]]


def test_r30a_r30b_winner_deposit_becomes_earnest_others_due_in_5_working_days(
    stack: Stack, staff: Account, finance: Account
) -> None:
    lot = stack.published_lot(staff)
    winner, loser = stack.bidder(), stack.bidder()
    won = stack.apply(winner, lot)
    assert stack.pay(won, amount="30000000.00").json()["status"] == "matched"  # over-paid
    lost = stack.qualified(loser, lot)
    assert finance.http.get(f"/api/v1/lots/{lot['id']}/refunds").json() == []
    result = sell(stack, lot, winner)
    rows = refunds(finance, lot)
    due = due_after(result["decided_at"])
    assert [(r["amount"], r["status"]) for r in _by_app(rows, won)] == [
        (DEPOSIT, "earnest"),
        ("6000000.00", "due"),
    ]
    assert [(r["amount"], r["status"], r["due_date"]) for r in _by_app(rows, lost)] == [
        (DEPOSIT, "due", due)
    ]
    for row in rows:
        assert set(row) >= {
            "application_id",
            "order_no",
            "amount",
            "status",
            "due_date",
            "interest",
        }
        assert row["interest"] == "0.00"
    assert _by_app(rows, lost)[0]["order_no"] == lost["order_no"]


def test_r30b_refund_list_is_for_finance_of_the_lots_grantor(
    stack: Stack, staff: Account, finance: Account
) -> None:
    lot = stack.published_lot(staff)
    assert staff.http.get(f"/api/v1/lots/{lot['id']}/refunds").status_code == 403
    county = stack.account("finance", "tongshan")
    assert county.http.get(f"/api/v1/lots/{lot['id']}/refunds").status_code == 404
    assert finance.http.get(f"/api/v1/lots/{lot['id']}/refunds").status_code == 200


def test_r30b_bank_pays_refunds_and_a_late_payment_adds_interest(
    stack: Stack, staff: Account, finance: Account
) -> None:
    lot = stack.published_lot(staff)
    winner, loser = stack.bidder(), stack.bidder()
    stack.qualified(winner, lot)
    lost = stack.qualified(loser, lot)
    sell(stack, lot, winner)
    [row] = _by_app(refunds(finance, lot), lost)
    pulled = signed(stack, "POST", "/api/v1/bank/refund-instructions", {"request": "1"})
    assert pulled.status_code == 200, pulled.text
    [instruction] = [i for i in pulled.json() if i["instruction_id"] == row["id"]]
    assert instruction["payee_account"] == "6222000011112222"
    assert instruction["total"] == DEPOSIT
    # the bank pays three days after the due date
    due = datetime.fromisoformat(row["due_date"]).replace(tzinfo=SHANGHAI)
    paid_at = due + timedelta(days=3, hours=10)
    stack.advance_to(paid_at)
    rate = stack.runtime.settings.refund_interest_bp
    interest = interest_fen(parse_amount(DEPOSIT), rate, 3)
    assert interest > 0
    # while unpaid, the list shows the interest accrued so far
    [overdue] = _by_app(refunds(finance, lot), lost)
    assert overdue["status"] == "due" and overdue["interest"] == format_fen(interest)
    confirmation = {
        "instruction_id": row["id"],
        "txn_id": f"refund-{row['id']}",
        "paid_at": paid_at.isoformat(),
    }
    short = signed(
        stack, "POST", "/api/v1/bank/refund-confirmations", {**confirmation, "amount": DEPOSIT}
    )
    assert short.status_code == 409 and short.json()["code"] == "REFUND_AMOUNT_MISMATCH"
    total = format_fen(parse_amount(DEPOSIT) + interest)
    body = {**confirmation, "amount": total}
    assert signed(stack, "POST", "/api/v1/bank/refund-confirmations", body).json() == {
        "status": "paid"
    }
    assert signed(stack, "POST", "/api/v1/bank/refund-confirmations", body).json() == {
        "status": "duplicate"
    }
    [paid] = _by_app(refunds(finance, lot), lost)
    assert paid["status"] == "paid" and paid["interest"] == format_fen(interest)
    # a later pull no longer lists it
    again = signed(stack, "POST", "/api/v1/bank/refund-instructions", {"request": "2"}).json()
    assert row["id"] not in [i["instruction_id"] for i in again]


def test_r30b_refund_instruction_file_for_banks_without_an_api(
    stack: Stack, staff: Account, finance: Account
) -> None:
    lot = stack.published_lot(staff)
    lost = stack.qualified(stack.bidder(), lot)
    let_lapse(stack, lot)
    [row] = _by_app(refunds(finance, lot), lost)
    response = finance.http.post("/api/v1/finance/refund-instructions.csv?bank=default")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    assert lines[0].startswith("instruction_id,amount,interest,total,payee_name,payee_account")
    assert any(line.startswith(f"{row['id']},{DEPOSIT},") for line in lines[1:])
    county = stack.account("finance", "tongshan")
    assert (
        county.http.post("/api/v1/finance/refund-instructions.csv?bank=default").status_code == 404
    )


def test_r41_a_payer_that_cannot_be_verified_is_held_until_finance_releases(
    stack: Stack, staff: Account, finance: Account
) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    application = stack.apply(bidder, lot)
    body = credit(application, stack, payer_name="", payer_account="")
    assert stack.bank(body).json() == {"status": "matched"}
    let_lapse(stack, lot)
    [row] = _by_app(refunds(finance, lot), application)
    assert row["status"] == "held" and row["interest"] == "0.00"
    pulled = signed(stack, "POST", "/api/v1/bank/refund-instructions", {}).json()
    assert row["id"] not in [i["instruction_id"] for i in pulled]
    refused = finance.http.post(f"/api/v1/refunds/{row['id']}/release", json={"note": " "})
    assert refused.status_code == 422 and refused.json()["code"] == "REASON_REQUIRED"
    released = finance.http.post(
        f"/api/v1/refunds/{row['id']}/release",
        json={"note": "已核验付款人为竞买人,退回其基本户"},
    )
    assert released.status_code == 200, released.text
    today = stack.now().astimezone(SHANGHAI).date()
    assert released.json()["status"] == "due"
    assert released.json()["due_date"] >= add_working_days(today, 5).day.isoformat()
    again = finance.http.post(f"/api/v1/refunds/{row['id']}/release", json={"note": "再次"})
    assert again.status_code == 409 and again.json()["code"] == "NOT_HELD"


def test_r44_r28b_winner_missing_confirmation_forfeits_by_staff_decision(
    stack: Stack, staff: Account, finance: Account
) -> None:
    lot = stack.published_lot(staff)
    winner, loser = stack.bidder(), stack.bidder()
    won = stack.qualified(winner, lot)
    lost = stack.qualified(loser, lot)
    result = sell(stack, lot, winner)
    decision = {"cause": "missed_confirmation", "note": "竞得人逾期未办理成交确认"}
    early = staff.http.post(f"/api/v1/lots/{lot['id']}/forfeiture", json=decision)
    assert early.status_code == 409 and early.json()["code"] == "CONFIRMATION_NOT_OVERDUE"
    deadline = due_after(result["decided_at"], 3)
    assert deadline in early.json()["detail"]
    assert (
        finance.http.post(f"/api/v1/lots/{lot['id']}/forfeiture", json=decision).status_code == 403
    )
    stack.advance_to(datetime.fromisoformat(deadline).replace(tzinfo=SHANGHAI) + timedelta(days=1))
    done = staff.http.post(f"/api/v1/lots/{lot['id']}/forfeiture", json=decision)
    assert done.status_code == 200, done.text
    assert done.json()["forfeited"] == DEPOSIT
    assert done.json()["confirmation_deadline"] == deadline
    rows = refunds(finance, lot)
    assert [r["status"] for r in _by_app(rows, won)] == ["forfeited"]
    assert [r["status"] for r in _by_app(rows, lost)] == ["due"]
    twice = staff.http.post(f"/api/v1/lots/{lot['id']}/forfeiture", json=decision)
    assert twice.status_code == 409 and twice.json()["code"] == "NOT_FORFEITABLE"


def test_r44_a_winner_who_refuses_forfeits_at_once_with_a_written_decision(
    stack: Stack, staff: Account, finance: Account
) -> None:
    lot = stack.published_lot(staff)
    winner = stack.bidder()
    won = stack.qualified(winner, lot)
    sell(stack, lot, winner)
    bare = staff.http.post(
        f"/api/v1/lots/{lot['id']}/forfeiture", json={"cause": "refused_confirmation"}
    )
    assert bare.status_code == 422 and bare.json()["code"] == "REASON_REQUIRED"
    done = staff.http.post(
        f"/api/v1/lots/{lot['id']}/forfeiture",
        json={"cause": "refused_confirmation", "note": "竞得人书面表示拒绝签订成交确认书"},
    )
    assert done.status_code == 200, done.text
    assert [r["status"] for r in _by_app(refunds(finance, lot), won)] == ["forfeited"]


def test_r37_terminated_lot_refunds_everyone(
    stack: Stack, staff: Account, finance: Account
) -> None:
    lot = stack.published_lot(staff)
    applications = [stack.qualified(stack.bidder(), lot) for _ in range(2)]
    stack.advance_to(lot["listing_start"])
    done = staff.http.post(
        f"/api/v1/lots/{lot['id']}/terminate", json={"cause": 1, "note": "纪检监察机关要求"}
    )
    assert done.status_code == 200, done.text
    today = stack.now().astimezone(SHANGHAI).date()
    rows = refunds(finance, lot)
    assert sorted(r["application_id"] for r in rows) == sorted(a["id"] for a in applications)
    assert {r["status"] for r in rows} == {"due"}
    assert {r["due_date"] for r in rows} == {add_working_days(today, 5).day.isoformat()}


def test_r30b_a_payment_arriving_after_the_lot_ended_is_refunded_at_once(
    stack: Stack, staff: Account, finance: Account
) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    application = stack.apply(bidder, lot)
    let_lapse(stack, lot)
    assert stack.pay(application).json() == {"status": "matched"}
    [row] = _by_app(refunds(finance, lot), application)
    assert row["status"] == "due" and row["amount"] == DEPOSIT


def test_reconciliation_balances_to_the_fen_per_lot_and_per_bank_account(
    stack: Stack, staff: Account, finance: Account
) -> None:
    lot = stack.published_lot(staff)
    winner, loser, anonymous = stack.bidder(), stack.bidder(), stack.bidder()
    won = stack.apply(winner, lot)
    stack.pay(won, amount="12000000.00")
    stack.pay(won, amount="12000000.01")  # split and over by one fen
    stack.qualified(loser, lot)
    held = stack.apply(anonymous, lot)
    stack.bank(credit(held, stack, amount="100.00", payer_account=""))  # short, unverified
    before = finance.http.get(f"/api/v1/lots/{lot['id']}/reconciliation").json()
    assert before["totals"]["pending"] == before["totals"]["received"] == "48000100.01"
    assert before["balanced"] is True
    sell(stack, lot, winner)
    report = finance.http.get(f"/api/v1/lots/{lot['id']}/reconciliation").json()
    totals = report["totals"]
    assert totals["received"] == "48000100.01"
    assert totals["earnest"] == DEPOSIT
    assert totals["due"] == "24000000.01"
    assert totals["held"] == "100.00"
    assert totals["qualified"] == "48000000.00"
    assert totals["pending"] == totals["unmatched"] == totals["forfeited"] == "0.00"
    assert report["balanced"] is True and report["accounts"][0]["balanced"] is True
    csv = finance.http.get(f"/api/v1/lots/{lot['id']}/reconciliation.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    header, *lines = csv.text.splitlines()
    assert header.startswith("bank_code,bank,account_no,received,qualified,pending")
    assert lines[-1].startswith("total,,,48000100.01,48000000.00,0.00")
    assert lines[-1].endswith(",yes")
    grantor = finance.http.get("/api/v1/finance/reconciliation").json()
    assert grantor["balanced"] is True and grantor["grantor"] == "xianning-city"
    assert finance.http.get("/api/v1/finance/reconciliation.csv").status_code == 200


def test_r43_r41_a_voided_winners_earnest_waits_for_a_finance_decision(
    stack: Stack, staff: Account, finance: Account
) -> None:
    lot = stack.published_lot(staff)
    winner = stack.bidder()
    won = stack.qualified(winner, lot)
    sell(stack, lot, winner)
    voided = staff.http.post(
        f"/api/v1/lots/{lot['id']}/void", json={"cause": 1, "note": "提供虚假文件材料"}
    )
    assert voided.status_code == 200, voided.text
    [row] = _by_app(refunds(finance, lot), won)
    assert row["status"] == "earnest"
    released = finance.http.post(
        f"/api/v1/refunds/{row['id']}/release", json={"note": "经研究决定退还竞买保证金"}
    )
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "due" and released.json()["order_no"] == won["order_no"]
