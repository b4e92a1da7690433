"""The supervisor's and the grantor's pages (R-07, R-33, R-LR28, R-37): each form does what
the API does, and a refusal shows its Chinese message and changes nothing."""

from __future__ import annotations

import re
from typing import Any

from tests.api.bidding_support import listing_lot
from tests.harness import Account, Stack
from tests.pages.support import signed_in, text_of


def row_with(html: str, needle: str) -> str:
    """The visible text of the table row that contains `needle`."""
    rows = [r for r in re.findall(r"<tr>.*?</tr>", html, flags=re.S) if needle in r]
    assert len(rows) == 1, f"{len(rows)} rows contain {needle!r}"
    return text_of(rows[0])


def test_r07_a_supervisor_approves_a_break_glass_request_on_the_page(
    stack: Stack, staff: Account
) -> None:
    lot, (bidder,), _ = listing_lot(stack, staff, 1)
    reason = f"公安机关协查函 {lot['code']}"
    request = staff.http.post(f"/api/v1/lots/{lot['id']}/identity-access", json={"reason": reason})
    assert request.status_code == 201, request.text
    bidders = f"/api/v1/lots/{lot['id']}/bidders"
    assert staff.http.get(bidders).status_code == 403
    page = signed_in(stack, stack.account("supervisor"))
    before = text_of(page.get("/supervisor").text)
    assert reason in before and staff.username in before
    assert bidder.party_name not in before  # the page names the requester, never a bidder
    assert lot["code"] in before  # among the lots being listed, with its board
    approve = f"/supervisor/identity-access/{request.json()['id']}/approve"
    done = page.post(approve)
    assert done.status_code == 303 and done.headers["location"].startswith("/supervisor")
    assert staff.http.get(bidders).status_code == 200
    again = page.post(approve)
    assert again.status_code == 409 and "该申请已批准" in text_of(again.text)
    assert "4小时" in text_of(page.get(done.headers["location"]).text)
    assert reason in row_with(page.get("/supervisor").text, reason)  # now among the approved


def _draft_with_proposed_price(stack: Stack, staff: Account) -> dict[str, Any]:
    response = staff.http.post("/api/v1/lots", json=stack.lot_body())
    assert response.status_code == 201, response.text
    lot = dict(response.json())
    proposed = staff.http.post(
        f"/api/v1/lots/{lot['id']}/price/propose", json={"appraised_price": "118000000.00"}
    )
    assert proposed.status_code == 200, proposed.text
    return lot


def test_rlr28_the_grantor_reviews_and_a_third_person_approves_on_the_page(
    stack: Stack, staff: Account
) -> None:
    lot = _draft_with_proposed_price(stack, staff)
    price = f"/api/v1/lots/{lot['id']}/price"
    reviewer = stack.account("grantor", "xianning-city")
    page = signed_in(stack, reviewer)
    listed = text_of(page.get("/grantor").text)
    assert lot["code"] in listed and "118,000,000.00" in listed and staff.username in listed
    assert page.post(f"/grantor/lots/{lot['id']}/price/review").status_code == 303
    assert staff.http.get(price).json()["reviewed_by"] == reviewer.username
    same = page.post(f"/grantor/lots/{lot['id']}/price/approve")
    assert same.status_code == 409 and "拟定、审核、批准须由不同人员办理" in text_of(same.text)
    assert staff.http.get(price).json()["approved"] is False
    approver = signed_in(stack, stack.account("grantor", "xianning-city"))
    assert approver.post(f"/grantor/lots/{lot['id']}/price/approve").status_code == 303
    assert staff.http.get(price).json()["approved"] is True
    assert "已批准" in text_of(approver.get("/grantor?done=approved").text)


def test_rlr28_a_grantor_of_another_district_sees_and_reviews_nothing(
    stack: Stack, staff: Account
) -> None:
    lot = _draft_with_proposed_price(stack, staff)
    page = signed_in(stack, stack.account("grantor", "chibi"))
    assert lot["code"] not in text_of(page.get("/grantor").text)
    refused = page.post(f"/grantor/lots/{lot['id']}/price/review")
    assert refused.status_code == 403 and "只能办理本出让人的地块" in text_of(refused.text)
    assert staff.http.get(f"/api/v1/lots/{lot['id']}/price").json()["reviewed_by"] is None


def test_r37_the_grantors_approval_on_the_page_lets_staff_suspend_for_cause_3(
    stack: Stack, staff: Account
) -> None:
    lot, _, _ = listing_lot(stack, staff, 1)
    suspend = f"/api/v1/lots/{lot['id']}/suspend"
    body = {"cause": 3, "note": "规划条件调整"}
    assert staff.http.post(suspend, json=body).json()["code"] == "APPROVAL_REQUIRED"
    officer = stack.account("grantor", "xianning-city")
    page = signed_in(stack, officer)
    form = page.get("/grantor").text
    assert f'<option value="{lot["id"]}">' in form
    unknown = page.post(
        "/grantor/approvals", data={"lot_id": lot["id"], "action": "suspend", "cause": "9"}
    )
    assert unknown.status_code == 422 and "中止或终止事由不正确" in text_of(unknown.text)
    assert staff.http.post(suspend, json=body).json()["code"] == "APPROVAL_REQUIRED"
    note = f"咸自然资规〔2026〕{lot['id']}号"
    done = page.post(
        "/grantor/approvals",
        data={"lot_id": lot["id"], "action": "suspend", "cause": "3", "note": note},
    )
    assert done.status_code == 303, done.text
    assert "尚未办理" in row_with(page.get("/grantor").text, note)
    assert staff.http.post(suspend, json=body).status_code == 200
    used = row_with(page.get("/grantor").text, note)
    assert "已办理" in used and "尚未办理" not in used
