"""The bank channel: sub-accounts, several banks, refusals, link health, statement
import (R-16a, R-16b). Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from tests.deposits.support import COUNTY_BANK, credit, signed
from tests.harness import Account, Stack
from wangua.audit.models import AuditEntry
from wangua.cli import main


def _status(bidder: Account, application: dict[str, object]) -> str:
    return str(bidder.http.get(f"/api/v1/applications/{application['id']}").json()["status"])


def test_r16a_virtual_sub_account_is_stable_and_matches_without_the_memo(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    application = stack.apply(bidder, lot)
    first = bidder.http.post(f"/api/v1/applications/{application['id']}/deposit-account")
    again = bidder.http.post(f"/api/v1/applications/{application['id']}/deposit-account")
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["account_no"] == again.json()["account_no"]
    account = first.json()
    assert account["account_no"].startswith("1818000000000000001")
    assert account["amount"] == application["deposit"]["amount"]
    # another bidder cannot ask for it
    other = stack.bidder()
    assert (
        other.http.post(f"/api/v1/applications/{application['id']}/deposit-account").status_code
        == 404
    )
    body = credit(application, stack, account_no=account["account_no"], memo="保证金")
    assert stack.bank(body).json() == {"status": "matched"}
    assert _status(bidder, application) == "qualified"


def test_r16a_sub_accounts_are_unique_per_application(stack: Stack, staff: Account) -> None:
    lot = stack.published_lot(staff)
    numbers = set()
    for _ in range(4):
        bidder = stack.bidder()
        application = stack.apply(bidder, lot)
        response = bidder.http.post(f"/api/v1/applications/{application['id']}/deposit-account")
        numbers.add(response.json()["account_no"])
    assert len(numbers) == 4


def test_r16a_memo_order_number_still_matches_alongside_sub_accounts(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    application = stack.apply(bidder, lot)
    bidder.http.post(f"/api/v1/applications/{application['id']}/deposit-account")
    assert stack.pay(application).json() == {"status": "matched"}
    assert _status(bidder, application) == "qualified"


def test_r16a_a_county_bank_signs_with_its_own_secret_and_account(stack: Stack) -> None:
    staff = stack.account("staff", "tongshan")
    lot = stack.published_lot(staff, grantor="tongshan")
    bidder = stack.bidder()
    application = stack.apply(bidder, lot)
    account = bidder.http.post(f"/api/v1/applications/{application['id']}/deposit-account").json()
    assert account["bank_code"] == COUNTY_BANK["code"]
    assert account["account_name"] == COUNTY_BANK["account_name"]
    body = credit(application, stack, account_no=account["account_no"], memo="")
    wrong = signed(stack, "POST", "/api/v1/bank/notifications", body, bank_id="tongshan-rcb")
    assert wrong.status_code == 401 and wrong.json()["code"] == "BAD_SIGNATURE"
    unknown = signed(stack, "POST", "/api/v1/bank/notifications", body, bank_id="nobody")
    assert unknown.status_code == 401
    ok = signed(
        stack,
        "POST",
        "/api/v1/bank/notifications",
        body,
        secret=COUNTY_BANK["secret"],
        bank_id=COUNTY_BANK["code"],
    )
    assert ok.json() == {"status": "matched"}
    assert _status(bidder, application) == "qualified"
    # the same txn_id from the county bank again is a duplicate; the default bank's
    # transaction ids are its own
    again = signed(
        stack,
        "POST",
        "/api/v1/bank/notifications",
        body,
        secret=COUNTY_BANK["secret"],
        bank_id=COUNTY_BANK["code"],
    )
    assert again.json() == {"status": "duplicate"}


def test_r16a_negative_or_malformed_amounts_are_refused_and_recorded(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    application = stack.apply(bidder, lot)

    def refusals() -> int:
        with stack.runtime.read() as session:
            return int(
                session.scalar(
                    select(func.count()).where(AuditEntry.action == "bank.credit_refused")
                )
                or 0
            )

    before = refusals()
    for amount in ("-24000000.00", "0", "2.4e7", "24,000,000.00", 24000000.5):
        response = stack.bank(credit(application, stack, amount=amount))
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "INVALID_AMOUNT"
    assert refusals() == before + 5
    assert _status(bidder, application) == "awaiting_deposit"
    # the refusal consumed nothing: the same txn_id with a good amount is still taken
    body = credit(application, stack)
    assert stack.bank({**body, "amount": "-1.00"}).status_code == 422
    assert stack.bank(body).json() == {"status": "matched"}


def test_r16a_bank_link_health_is_signed(stack: Stack) -> None:
    ok = signed(stack, "GET", "/api/v1/bank/health")
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "ok" and ok.json()["bank_code"] == "default"
    assert ok.json()["now"].endswith("Z")
    county = signed(
        stack, "GET", "/api/v1/bank/health", secret=COUNTY_BANK["secret"], bank_id="tongshan-rcb"
    )
    assert county.status_code == 200 and county.json()["bank_code"] == "tongshan-rcb"
    assert stack.anonymous().get("/api/v1/bank/health").status_code == 401


def test_r16a_bank_import_matches_statement_lines_like_notifications(
    stack: Stack, staff: Account, tmp_path: Path
) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    application = stack.apply(bidder, lot)
    good = credit(application, stack)
    lines = [
        "txn_id,account_no,amount,paid_at,memo,payer_name,payer_account",
        ",".join(good[k] for k in ("txn_id", "account_no", "amount", "paid_at", "memo"))
        + ",付款单位,6222000011112222",
        f"{good['txn_id']},x,{good['amount']},{good['paid_at']},{good['memo']},付款单位,1",
        f"stmt-unmatched-{application['id']},x,10.00,{good['paid_at']},无订单号,某人,2",
        f"stmt-bad-{application['id']},x,-10.00,{good['paid_at']},坏金额,某人,3",
    ]
    path = tmp_path / "statement.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    settings = stack.runtime.settings
    env = {
        "WANGUA_DATABASE_URL": settings.resolved_database_url,
        "WANGUA_DATA_DIR": str(settings.data_dir),
        "WANGUA_CLOCK": "simulated",
    }
    result = CliRunner().invoke(main, ["bank", "import", str(path)], env=env)
    assert result.exit_code == 0, result.output
    assert "matched=1 unmatched=1 duplicate=1 refused=1" in result.output
    assert "INVALID_AMOUNT" in result.output
    assert _status(bidder, application) == "qualified"
    # a statement line and a notification are the same transaction
    assert stack.bank(good).json() == {"status": "duplicate"}


def test_r16a_application_names_the_bank_and_account_of_the_lots_grantor(
    stack: Stack, staff: Account
) -> None:
    """A county lot's deposit instructions name the county's bank and master account, and
    the application's virtual sub-account once issued; paying by them qualifies."""
    county_staff = stack.account("staff", "tongshan")
    lot = stack.published_lot(county_staff, grantor="tongshan")
    bidder = stack.bidder()
    application = stack.apply(bidder, lot)
    expected = {
        "bank": COUNTY_BANK["name"],
        "bank_code": COUNTY_BANK["code"],
        "account_name": COUNTY_BANK["account_name"],
        "account_no": COUNTY_BANK["account_no"],
        "master_account_no": COUNTY_BANK["account_no"],
        "sub_account_no": None,
    }
    assert {k: application["deposit"][k] for k in expected} == expected
    assert application["deposit"]["memo"] == application["order_no"]
    url = f"/api/v1/applications/{application['id']}"
    assert bidder.http.get(url).json()["deposit"] == application["deposit"]
    # a city lot still names the default bank
    city = stack.apply(bidder, stack.published_lot(staff))
    settings = stack.runtime.settings
    assert (city["deposit"]["bank"], city["deposit"]["account_no"]) == (
        settings.deposit_bank,
        settings.deposit_account_no,
    )
    # once issued, the sub-account is where the deposit goes
    issued = bidder.http.post(f"{url}/deposit-account").json()
    shown = bidder.http.get(url).json()["deposit"]
    assert shown["account_no"] == shown["sub_account_no"] == issued["account_no"]
    assert shown["bank_code"] == COUNTY_BANK["code"]
    assert shown["master_account_no"] == COUNTY_BANK["account_no"]
    mine = bidder.http.get("/api/v1/me/applications").json()
    assert [a["deposit"] for a in mine if a["id"] == application["id"]] == [shown]
    body = credit(bidder.http.get(url).json(), stack, memo="")
    paid = signed(
        stack,
        "POST",
        "/api/v1/bank/notifications",
        body,
        secret=COUNTY_BANK["secret"],
        bank_id=COUNTY_BANK["code"],
    )
    assert paid.json() == {"status": "matched"}
    assert _status(bidder, application) == "qualified"
