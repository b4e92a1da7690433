"""A whole listing auction over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.harness import Account, Stack


def test_r22_r23_r25_full_auction_with_timed_bidding_and_proxy(
    stack: Stack, staff: Account
) -> None:
    lot = stack.published_lot(staff)
    assert lot["status"] == "announced"
    a, b, c = stack.bidder(), stack.bidder(), stack.bidder()
    app_a = stack.qualified(a, lot)
    app_b = stack.qualified(b, lot)
    stack.qualified(c, lot)

    stack.advance_to(lot["listing_start"])
    assert stack.lot(lot["id"])["status"] == "listing"

    first = stack.quote(a, lot, "120000000.00")
    assert first.status_code == 201, first.text
    assert first.json()["phase"] == "listing"
    assert first.json()["bidder_number"] == app_a["bidder_number"]
    assert stack.quote(b, lot, "121000000.00").status_code == 201
    # c never quotes, so c may not join timed bidding

    stack.advance_to(lot["listing_end"])
    view = stack.lot(lot["id"])
    assert view["status"] == "inquiry"
    assert view["current_price"] == "121000000.00"
    assert view["leader"] == app_b["bidder_number"]

    assert a.http.post(f"/api/v1/lots/{lot['id']}/inquiry", json={"join": True}).status_code == 200
    refused = c.http.post(f"/api/v1/lots/{lot['id']}/inquiry", json={"join": True})
    assert refused.status_code == 403 and refused.json()["code"] == "NOT_ELIGIBLE"

    inquiry_end = datetime.fromisoformat(view["inquiry_end"])
    stack.advance_to(inquiry_end)
    view = stack.lot(lot["id"])
    assert view["status"] == "timed_bidding"
    assert datetime.fromisoformat(view["timed_deadline"]) == inquiry_end + timedelta(minutes=5)

    # b leads from the listing: it cannot bid first
    assert stack.quote(b, lot, "122000000.00").json()["code"] == "NOT_A_PARTICIPANT"
    low = stack.quote(a, lot, "121500000.00")
    assert low.json()["code"] == "INCREMENT_TOO_SMALL"
    stack.advance(60)
    bid = stack.quote(a, lot, "122000000.00")
    assert bid.status_code == 201 and bid.json()["phase"] == "timed"
    deadline = datetime.fromisoformat(stack.lot(lot["id"])["timed_deadline"])
    assert deadline == datetime.fromisoformat(bid.json()["received_at"]) + timedelta(minutes=5)

    stack.advance_to(deadline)
    result = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/result").json()
    assert result["outcome"] == "sold"
    assert result["price"] == "122000000.00"
    assert result["rule"] == "R-23"
    assert result["winner"]["bidder_number"] == app_a["bidder_number"]
    assert result["winner"]["name"] == a.party_name
    late = stack.quote(a, lot, "130000000.00")
    assert late.json()["code"] == "NOT_OPEN"
