"""Applications, order numbers, deposits and qualification (R-13 … R-16c)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.harness import BANK_SECRET, Account, Stack


def test_r13_one_application_per_bidder_per_lot(stack: Stack, staff: Account) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    stack.apply(bidder, lot)
    again = bidder.http.post(f"/api/v1/lots/{lot['id']}/applications", json={"consent": True})
    assert again.status_code == 409 and again.json()["code"] == "ALREADY_APPLIED"


def test_r13_joint_application_lists_members_with_shares(stack: Stack, staff: Account) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    members = [
        {
            "name": bidder.party_name,
            "id_type": "统一社会信用代码",
            "id_no": "914212001",
            "share": "60.00",
        },
        {
            "name": "湖北香城建设投资有限公司",
            "id_type": "统一社会信用代码",
            "id_no": "914212002",
            "share": "40",
        },
    ]
    application = stack.apply(bidder, lot, members=members)
    assert [m["share"] for m in application["members"]] == ["60.00", "40.00"]


def test_r13_shares_must_sum_to_exactly_100(stack: Stack, staff: Account) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    for shares in (["60.00", "39.99"], ["100.01"], ["50", "-50", "100"], ["33.333", "66.667"], []):
        members = [
            {"name": f"成员{i}", "id_type": "统一社会信用代码", "id_no": f"9{i}", "share": s}
            for i, s in enumerate(shares)
        ]
        response = bidder.http.post(
            f"/api/v1/lots/{lot['id']}/applications", json={"members": members, "consent": True}
        )
        assert response.status_code == 422 and response.json()["code"] == "SHARES_NOT_100", shares
    assert bidder.http.get("/api/v1/me/applications").json() == []


def test_r14_consent_is_required(stack: Stack, staff: Account) -> None:
    """R-14: submitting records consent; without it nothing is submitted."""
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    response = bidder.http.post(f"/api/v1/lots/{lot['id']}/applications", json={"consent": False})
    assert response.status_code == 422 and response.json()["code"] == "CONSENT_REQUIRED"


def test_r14_application_may_declare_a_new_company(stack: Stack, staff: Account) -> None:
    lot = stack.published_lot(staff)
    company = {
        "name": "咸宁永安置业有限公司",
        "investors": ["甲公司", "乙公司"],
        "equity": {"甲公司": "70%", "乙公司": "30%"},
        "formation_date": "2026-05-01",
    }
    application = stack.apply(stack.bidder(), lot, new_company=company)
    assert application["new_company"] == company


def test_r15_each_application_gets_a_unique_order_number(stack: Stack, staff: Account) -> None:
    """R-15: a unique order number (订单流水号) per application."""
    lot = stack.published_lot(staff)
    numbers = {stack.apply(stack.bidder(), lot)["order_no"] for _ in range(4)}
    assert len(numbers) == 4
    application = stack.apply(stack.bidder(), lot)
    assert application["status"] == "awaiting_deposit"
    assert application["deposit"]["amount"] == "24000000.00"
    assert application["deposit"]["deadline"] == lot["deposit_deadline"]


def test_applications_close_at_the_application_deadline(stack: Stack, staff: Account) -> None:
    lot = stack.published_lot(staff)
    stack.advance_to(lot["application_deadline"])
    response = stack.bidder().http.post(
        f"/api/v1/lots/{lot['id']}/applications", json={"consent": True}
    )
    assert response.status_code == 409 and response.json()["code"] == "APPLICATIONS_CLOSED"


def test_r16a_order_number_in_the_memo_matches_the_payment(stack: Stack, staff: Account) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    application = stack.apply(bidder, lot)
    assert stack.pay(application).json() == {"status": "matched"}
    view = bidder.http.get(f"/api/v1/applications/{application['id']}").json()
    assert view["status"] == "qualified"


def test_r16a_payment_without_order_number_is_unmatched(stack: Stack, staff: Account) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    application = stack.apply(bidder, lot)
    response = stack.bank(
        {
            "txn_id": "T-unmatched-" + application["order_no"],
            "account_no": "1",
            "amount": "24000000.00",
            "paid_at": stack.now().isoformat(),
            "memo": "保证金",
            "payer_name": "某公司",
            "payer_account": "1",
        }
    )
    assert response.json() == {"status": "unmatched"}
    assert (
        bidder.http.get(f"/api/v1/applications/{application['id']}").json()["status"]
        == "awaiting_deposit"
    )


def test_r16a_duplicate_notification_is_answered_as_duplicate(stack: Stack, staff: Account) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    application = stack.apply(bidder, lot)
    body = {
        "txn_id": f"T-{application['order_no']}",
        "account_no": "1",
        "amount": "12000000.00",
        "paid_at": stack.now().isoformat(),
        "memo": application["order_no"],
        "payer_name": "某公司",
        "payer_account": "1",
    }
    assert stack.bank(body).json() == {"status": "matched"}
    assert stack.bank(body).json() == {"status": "duplicate"}
    view = bidder.http.get(f"/api/v1/applications/{application['id']}").json()
    assert view["paid"] == "12000000.00" and view["status"] == "awaiting_deposit"


def test_r16a_bad_signature_is_refused(stack: Stack, staff: Account) -> None:
    lot = stack.published_lot(staff)
    application = stack.apply(stack.bidder(), lot)
    body = {
        "txn_id": "T-forged",
        "account_no": "1",
        "amount": "24000000.00",
        "paid_at": stack.now().isoformat(),
        "memo": application["order_no"],
        "payer_name": "x",
        "payer_account": "1",
    }
    response = stack.bank(body, secret=BANK_SECRET + "x")
    assert response.status_code == 401 and response.json()["code"] == "BAD_SIGNATURE"


def test_r16b_short_payments_add_up_and_only_the_full_amount_qualifies(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    application = stack.apply(bidder, lot)
    assert stack.pay(application, amount="23999999.99").json()["status"] == "matched"
    url = f"/api/v1/applications/{application['id']}"
    assert bidder.http.get(url).json()["status"] == "awaiting_deposit"
    assert stack.pay(application, amount="0.01").json()["status"] == "matched"
    view = bidder.http.get(url).json()
    assert view["status"] == "qualified" and view["bidder_number"]


def test_r16b_late_payment_never_qualifies(stack: Stack, staff: Account) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    application = stack.apply(bidder, lot)
    deadline = datetime.fromisoformat(lot["deposit_deadline"])
    stack.advance_to(deadline + timedelta(seconds=1))
    stack.pay(application, paid_at=deadline + timedelta(seconds=1))
    view = bidder.http.get(f"/api/v1/applications/{application['id']}").json()
    assert view["status"] == "rejected" and view["bidder_number"] is None


def test_r16b_payment_credited_by_the_deadline_qualifies_when_notified_later(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()
    application = stack.apply(bidder, lot)
    deadline = datetime.fromisoformat(lot["deposit_deadline"])
    stack.advance_to(deadline + timedelta(hours=1))
    stack.pay(application, paid_at=deadline)
    assert (
        bidder.http.get(f"/api/v1/applications/{application['id']}").json()["status"] == "qualified"
    )


def test_r16c_bidder_numbers_are_unique_within_the_lot(stack: Stack, staff: Account) -> None:
    lot = stack.published_lot(staff)
    numbers = [stack.qualified(stack.bidder(), lot)["bidder_number"] for _ in range(5)]
    assert len(set(numbers)) == 5 and all(n and n.isdigit() for n in numbers)


def test_application_is_private_to_its_bidder_before_the_decision(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    application = stack.apply(stack.bidder(), lot)
    url = f"/api/v1/applications/{application['id']}"
    assert stack.bidder().http.get(url).status_code == 404
    assert staff.http.get(url).status_code == 404
