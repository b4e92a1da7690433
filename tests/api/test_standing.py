"""A bidder's own position on a lot over the API, as the bidder's panel shows it: its
bidder number, whether it may join the timed bidding (R-21), its inquiry answer (R-22),
its proxy (R-26) and the next minimum quote (R-19a, R-19b); never anyone else's."""

from __future__ import annotations

from tests.api.bidding_support import listing_lot
from tests.harness import Account, Stack


def test_r21_the_bidder_sees_its_own_standing_through_the_auction(
    stack: Stack, staff: Account
) -> None:
    lot, (a, b), applications = listing_lot(stack, staff, 2)
    path = f"/api/v1/lots/{lot['id']}/standing"
    outsider = stack.bidder().http.get(path)
    assert outsider.status_code == 200, outsider.text
    assert outsider.json()["application_id"] is None and outsider.json()["qualified"] is False
    assert outsider.json()["next_minimum"] == "120000000.00"  # the starting price (R-19a)
    before = a.http.get(path).json()
    assert before["application_id"] == applications[0]["id"]
    assert before["bidder_number"] == applications[0]["bidder_number"]
    assert before["qualified"] is True and before["quoted_in_listing"] is False
    assert before["may_join_inquiry"] is False  # no listing quote yet
    assert stack.quote(a, lot, "120000000.00").status_code == 201
    assert stack.quote(b, lot, "121000000.00").status_code == 201
    quoted = a.http.get(path).json()
    assert quoted["quoted_in_listing"] is True and quoted["may_join_inquiry"] is True
    assert quoted["next_minimum"] == "122000000.00"  # R-19b
    assert applications[1]["bidder_number"] not in a.http.get(path).text
    stack.advance_to(lot["listing_end"])
    assert a.http.get(path).json()["inquiry_answer"] is None
    assert a.http.post(f"/api/v1/lots/{lot['id']}/inquiry", json={"join": True}).status_code == 200
    assert b.http.post(f"/api/v1/lots/{lot['id']}/inquiry", json={"join": False}).status_code == 200
    assert a.http.get(path).json()["inquiry_answer"] is True
    assert b.http.get(path).json()["inquiry_answer"] is False
    stack.advance_to(stack.lot(lot["id"])["inquiry_end"])
    assert a.http.get(path).json()["lot_status"] == "timed_bidding"
    proxy = a.http.put(f"/api/v1/lots/{lot['id']}/proxy", json={"max_amount": "130000000.00"})
    assert proxy.status_code == 200, proxy.text
    assert a.http.get(path).json()["proxy_max"] == "130000000.00"
    assert a.http.delete(f"/api/v1/lots/{lot['id']}/proxy").status_code == 204
    assert a.http.get(path).json()["proxy_max"] is None
    stack.advance(300)
    assert a.http.get(path).json()["won"] is True and b.http.get(path).json()["won"] is False


def test_r07_a_draft_has_no_standing_and_staff_have_none(stack: Stack, staff: Account) -> None:
    draft = staff.http.post("/api/v1/lots", json=stack.lot_body()).json()
    missing = stack.bidder().http.get(f"/api/v1/lots/{draft['id']}/standing")
    assert missing.status_code == 404
    refused = staff.http.get(f"/api/v1/lots/{draft['id']}/standing")
    assert (refused.status_code, refused.json()["code"]) == (403, "ROLE_NOT_ALLOWED")
