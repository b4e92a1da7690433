"""Break-glass requests over the API (R-07), as the supervisor's page and the staff's
bidders page list them: supervisors see what waits for them and what they approved, staff
their own requests; nobody sees a bidder in them."""

from __future__ import annotations

from tests.api.bidding_support import listing_lot
from tests.harness import Account, Stack
from tests.identity.test_account_lists import every_page


def test_r07_supervisors_list_pending_then_approved_break_glass_requests(
    stack: Stack, staff: Account
) -> None:
    lot, (bidder,), _ = listing_lot(stack, staff, 1)
    reason = f"纪检监察机关协查 {lot['code']}"
    asked = staff.http.post(f"/api/v1/lots/{lot['id']}/identity-access", json={"reason": reason})
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    supervisor = stack.account("supervisor")
    pending = supervisor.http.get("/api/v1/identity-access", params={"limit": 500})
    assert pending.status_code == 200, pending.text
    assert bidder.party_name not in pending.text and bidder.username not in pending.text
    row = next(r for r in pending.json() if r["id"] == request_id)
    assert row["lot_id"] == lot["id"] and row["lot_code"] == lot["code"]
    assert row["reason"] == reason and row["requested_by"] == staff.username
    assert row["status"] == "pending" and row["approved_at"] is None and row["open"] is False
    ids = [r["id"] for r in pending.json()]
    assert ids == sorted(ids)  # oldest first, the order they wait in
    assert supervisor.http.post(f"/api/v1/identity-access/{request_id}/approve").status_code == 200
    still = supervisor.http.get("/api/v1/identity-access?status=pending&limit=500").json()
    assert request_id not in [r["id"] for r in still]
    approved = supervisor.http.get("/api/v1/identity-access?status=approved&limit=500").json()
    assert approved[0]["id"] == request_id  # the most recently approved first
    assert approved[0]["approved_by"] == supervisor.username and approved[0]["open"] is True
    assert approved[0]["expires_at"] > approved[0]["approved_at"]
    pages = every_page(supervisor.http, "/api/v1/identity-access?status=approved", 1)
    assert [r["id"] for page in pages for r in page] == [r["id"] for r in approved]
    wrong = supervisor.http.get("/api/v1/identity-access?status=expired")
    assert (wrong.status_code, wrong.json()["code"]) == (422, "VALIDATION_ERROR")
    unknown = supervisor.http.get("/api/v1/identity-access?status=approved&cursor=999999999")
    assert (unknown.status_code, unknown.json()["code"]) == (422, "INVALID_CURSOR")
    refused = staff.http.get("/api/v1/identity-access")
    assert (refused.status_code, refused.json()["code"]) == (403, "ROLE_NOT_ALLOWED")


def test_r07_staff_list_their_own_requests_for_a_lot_of_their_grantor(
    stack: Stack, staff: Account
) -> None:
    lot, _, _ = listing_lot(stack, staff, 1)
    path = f"/api/v1/lots/{lot['id']}/identity-access"
    first = staff.http.post(path, json={"reason": "法院调查令 第一份"}).json()["id"]
    second = staff.http.post(path, json={"reason": "法院调查令 第二份"}).json()["id"]
    colleague = stack.account("staff", "xianning-city")
    mine = staff.http.get(path)
    assert mine.status_code == 200, mine.text
    assert [r["id"] for r in mine.json()] == [second, first]  # newest first
    assert all(r["requested_by"] == staff.username for r in mine.json())
    assert colleague.http.get(path).json() == []  # each sees only their own
    paged = staff.http.get(path, params={"limit": 1})
    assert [r["id"] for r in paged.json()] == [second]
    assert [r["id"] for r in staff.http.get(paged.links["next"]["url"]).json()] == [first]
    elsewhere = stack.account("staff", "chibi").http.get(path)
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (403, "FORBIDDEN")
    assert staff.http.get("/api/v1/lots/999999999/identity-access").status_code == 404
