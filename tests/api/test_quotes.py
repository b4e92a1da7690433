"""Listing-period quotes (R-18 … R-21) over HTTP."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from tests.api.bidding_support import listing_lot, to_timed_bidding
from tests.harness import Account, Stack, statements_matching


def test_r18_receipt_time_is_the_servers_time(stack: Stack, staff: Account) -> None:
    lot, (a,), _ = listing_lot(stack, staff, 1)
    stack.advance(3600.25)
    quote = stack.quote(a, lot, "120000000.00").json()
    assert datetime.fromisoformat(quote["received_at"]) == stack.now()


def test_r19a_only_qualified_bidders_quote(stack: Stack, staff: Account) -> None:
    lot, _, _ = listing_lot(stack, staff, 1)
    applicant = stack.bidder()
    # applied but not paid, and a bidder who never applied
    stranger = stack.bidder()
    for account in (applicant, stranger):
        response = stack.quote(account, lot, "120000000.00")
        assert response.status_code == 403 and response.json()["code"] == "NOT_QUALIFIED"
    assert stack.lot(lot["id"])["quote_count"] == 0


def test_r19a_first_quote_not_below_start_price(stack: Stack, staff: Account) -> None:
    lot, (a,), _ = listing_lot(stack, staff, 1)
    response = stack.quote(a, lot, "119999999.99")
    assert response.status_code == 422 and response.json()["code"] == "BELOW_START_PRICE"
    assert stack.quote(a, lot, "120000000.00").status_code == 201


def test_r19b_later_quotes_exceed_the_highest_by_the_increment(
    stack: Stack, staff: Account
) -> None:
    lot, (a, b), _ = listing_lot(stack, staff, 2)
    assert stack.quote(a, lot, "120000000.00").status_code == 201
    small = stack.quote(b, lot, "120999999.99")
    assert small.status_code == 422 and small.json()["code"] == "INCREMENT_TOO_SMALL"
    assert small.json()["current_price"] == "120000000.00"
    assert stack.quote(b, lot, "121000000.00").status_code == 201
    assert stack.quote(a, lot, "125500000.00").status_code == 201  # more than one increment is fine
    assert stack.lot(lot["id"])["current_price"] == "125500000.00"


def test_r19c_accepted_quotes_are_public_by_bidder_number(stack: Stack, staff: Account) -> None:
    """R-19c: each accepted quote is published at once, by bidder number only."""
    lot, (a, b), (app_a, app_b) = listing_lot(stack, staff, 2)
    stack.quote(a, lot, "120000000.00")
    stack.quote(b, lot, "121000000.00")
    quotes = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/quotes").json()
    assert [
        (q["seq"], q["amount"], q["bidder_number"], q["phase"], q["by_proxy"]) for q in quotes
    ] == [
        (1, "120000000.00", app_a["bidder_number"], "listing", False),
        (2, "121000000.00", app_b["bidder_number"], "listing", False),
    ]
    text = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/quotes").text
    assert a.party_name not in text and a.username not in text
    view = stack.lot(lot["id"])
    assert view["leader"] == app_b["bidder_number"] and view["quote_count"] == 2


def test_r19d_the_highest_bidder_cannot_quote_again_until_outbid(
    stack: Stack, staff: Account
) -> None:
    lot, (a, b), _ = listing_lot(stack, staff, 2)
    stack.quote(a, lot, "120000000.00")
    again = stack.quote(a, lot, "125000000.00")
    assert again.status_code == 409 and again.json()["code"] == "ALREADY_HIGHEST"
    stack.quote(b, lot, "121000000.00")
    assert stack.quote(a, lot, "122000000.00").status_code == 201


def test_r20_a_quote_is_irrevocable_and_a_retry_returns_the_same_quote(
    stack: Stack, staff: Account
) -> None:
    """R-20: an accepted quote is irrevocable; nothing deletes or edits it."""
    lot, (a, b), _ = listing_lot(stack, staff, 2)
    request_id = str(uuid.uuid4())
    first = stack.quote(a, lot, "120000000.00", request_id)
    assert first.status_code == 201
    stack.quote(b, lot, "121000000.00")
    retry = stack.quote(a, lot, "120000000.00", request_id)
    assert retry.status_code == 200 and retry.json() == first.json()
    assert a.http.delete(f"/api/v1/lots/{lot['id']}/quotes").status_code == 405
    assert stack.lot(lot["id"])["quote_count"] == 2


def test_r18_no_quote_before_the_listing_starts_or_at_its_deadline(
    stack: Stack, staff: Account
) -> None:
    """A quote received at the deadline is refused, and told it was received then."""
    lot = stack.published_lot(staff)
    a, b = stack.bidder(), stack.bidder()
    stack.qualified(a, lot)
    stack.qualified(b, lot)
    early = stack.quote(a, lot, "120000000.00")
    assert early.status_code == 409 and early.json()["code"] == "NOT_OPEN"
    end = datetime.fromisoformat(lot["listing_end"])
    stack.advance_to(end - timedelta(microseconds=1))
    assert stack.quote(a, lot, "120000000.00").status_code == 201
    stack.advance(0.000001)
    at_deadline = stack.quote(b, lot, "121000000.00")
    assert at_deadline.status_code == 409 and at_deadline.json()["code"] == "NOT_OPEN"
    # the refusal says when the server received the quote: at the deadline, not before
    assert datetime.fromisoformat(at_deadline.json()["received_at"]) == end


def test_r19b_a_stale_quote_gets_the_refusal_that_takes_precedence(
    stack: Stack, staff: Account
) -> None:
    """A quote too small for the current price is refused before the lot lock only when
    nothing that takes precedence refuses it (R-19a, R-18, R-21, R-19d, R-23)."""
    lot, (a, b, c), _ = listing_lot(stack, staff, 3)
    stranger = stack.bidder()

    def code(account: Account, amount: str = "121000000.00") -> str:
        response = stack.quote(account, lot, amount)
        assert response.status_code in (403, 409, 422), response.text
        return str(response.json()["code"])

    assert stack.quote(a, lot, "120000000.00").status_code == 201
    assert stack.quote(c, lot, "121000000.00").status_code == 201
    assert code(b) == "INCREMENT_TOO_SMALL"
    assert code(c) == "ALREADY_HIGHEST"
    assert code(stranger) == "NOT_QUALIFIED"
    stack.advance_to(lot["listing_end"])
    assert code(b) == "NOT_OPEN"
    to_timed_bidding(stack, lot, [a, c])
    assert code(b) == "NOT_A_PARTICIPANT"
    assert code(a) == "INCREMENT_TOO_SMALL"
    assert code(c) == "ALREADY_HIGHEST"
    assert stack.quote(a, lot, "122000000.00").status_code == 201


def test_price_cap_refuses_quotes_above_it(stack: Stack, staff: Account) -> None:
    lot, (a, b), _ = listing_lot(stack, staff, 2, price_cap="121000000.00")
    stack.quote(a, lot, "120000000.00")
    above = stack.quote(b, lot, "122000000.00")
    assert above.status_code == 422 and above.json()["code"] == "ABOVE_PRICE_CAP"
    assert stack.quote(b, lot, "121000000.00").status_code == 201


def test_quote_amount_syntax_is_checked(stack: Stack, staff: Account) -> None:
    lot, (a,), _ = listing_lot(stack, staff, 1)
    for amount in ("120000000.001", "-120000000.00", 120000000.5, "1,200"):
        response = stack.quote(a, lot, amount)  # type: ignore[arg-type]
        assert response.status_code == 422 and response.json()["code"] == "INVALID_AMOUNT"
    assert stack.lot(lot["id"])["quote_count"] == 0


def test_r19b_a_quote_above_the_last_accepted_reads_the_lot_once_under_its_lock(
    stack: Stack, staff: Account
) -> None:
    """The lot's standing, the bidder's place on it and the lot's lock come in one
    statement. A quote is checked for staleness by a read of its own before the lock
    only when this process has not accepted a quote on the lot an increment below it
    (bidding.standings); a stale quote is refused by that read."""
    lot, (a, b), _ = listing_lot(stack, staff, 2)
    with statements_matching("FROM lots") as first:
        assert stack.quote(a, lot, "120000000.00").status_code == 201
    with statements_matching("FROM lots") as accepted:
        assert stack.quote(b, lot, "121000000.00").status_code == 201
    with statements_matching("FROM lots") as refused:
        answer = stack.quote(a, lot, "121500000.00")
    assert answer.json()["code"] == "INCREMENT_TOO_SMALL"
    assert len(first) == 2, first
    assert len(accepted) == 1, accepted
    assert len(refused) == 1, refused
