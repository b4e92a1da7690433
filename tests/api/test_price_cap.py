"""R-CAP: the first quote at the cap ends price competition; the bidders who accept the
cap by the phase's deadline enter a lottery, drawn at the deadline from a seed committed
when the cap was reached, that anyone can check."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from tests.api.bidding_support import (
    deadline,
    listing_lot,
    read_events,
    result,
    to_timed_bidding,
)
from tests.api.test_reserve import import_reserve, into_window, sealed
from tests.harness import Account, Stack
from tests.printing.support import pdf_text
from wangua.cap import draw
from wangua.cap.models import CapLottery

CAP = "121000000.00"


def accept(bidder: Account, lot: dict[str, Any]) -> Any:
    return bidder.http.post(f"/api/v1/lots/{lot['id']}/cap-acceptance")


def lottery(stack: Stack, lot: dict[str, Any]) -> dict[str, Any]:
    response = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/lottery")
    assert response.status_code == 200, response.text
    return dict(response.json())


def number(bidder: Account, lot: dict[str, Any]) -> str:
    return str(bidder.http.get(f"/api/v1/lots/{lot['id']}/standing").json()["bidder_number"])


def capped_in_listing(
    stack: Stack, staff: Account, bidders: int, **overrides: Any
) -> tuple[dict[str, Any], list[Account]]:
    """A listing lot whose price `b` took to the cap over `a`'s quote."""
    lot, accounts, _ = listing_lot(stack, staff, bidders, price_cap=CAP, **overrides)
    a, b = accounts[:2]
    assert stack.quote(a, lot, "120000000.00").status_code == 201
    assert stack.quote(b, lot, CAP).status_code == 201
    return lot, accounts


def test_r_cap_the_quote_at_the_cap_ends_price_competition_and_commits_the_lottery(
    stack: Stack, staff: Account
) -> None:
    lot, (a, b, c) = capped_in_listing(stack, staff, 3)
    view = stack.lot(lot["id"])
    assert view["cap_reached"] is True and view["status"] == "listing"
    for bidder, amount, code in (
        (c, CAP, "INCREMENT_TOO_SMALL"),
        (a, "122000000.00", "ABOVE_PRICE_CAP"),
        (b, CAP, "ALREADY_HIGHEST"),
    ):
        refused = stack.quote(bidder, lot, amount)
        assert refused.json()["code"] == code, refused.text
    published = lottery(stack, lot)
    assert published["seed"] is None and published["entrants"] is None
    assert published["winner"] is None and len(published["commitment"]) == 64
    events = read_events(stack, lot["id"], 4)  # listing opened, two quotes, the cap
    assert [e["event"] for e in events] == ["phase", "quote", "quote", "phase"], events
    quote, phase = events[-2:]
    assert quote["data"]["amount"] == CAP and phase["data"]["cap_reached"] is True
    assert phase["data"]["lottery_commitment"] == published["commitment"]
    assert phase["data"]["acceptance_end"] == lot["listing_end"]
    with stack.runtime.read() as session:
        row = session.scalars(select(CapLottery).where(CapLottery.lot_id == lot["id"])).one()
        assert row.seed is None  # sealed to the system until the draw


def test_r_cap_the_lottery_decides_at_the_listing_deadline_among_those_who_accepted(
    stack: Stack, staff: Account
) -> None:
    """Any qualified bidder may accept in the listing period, quoted or not; the one who
    quoted the cap is in already; there is no inquiry. The published seed matches the
    commitment and draws the published winner."""
    lot, (a, b, c, d) = capped_in_listing(stack, staff, 4)
    commitment = lottery(stack, lot)["commitment"]
    first = accept(a, lot)
    assert first.status_code == 200, first.text
    assert first.json()["acceptance_end"] == lot["listing_end"]
    assert accept(a, lot).json()["accepted_at"] == first.json()["accepted_at"]  # once
    assert accept(b, lot).status_code == 200  # quoted the cap: entered already
    assert accept(c, lot).status_code == 200  # never quoted
    standing = d.http.get(f"/api/v1/lots/{lot['id']}/standing").json()
    assert standing["may_accept_cap"] and not standing["cap_accepted"]
    stack.advance_to(lot["listing_end"])
    decided = result(stack, lot)
    assert (decided["outcome"], decided["rule"], decided["price"]) == ("sold", "R-CAP", CAP)
    drawn = decided["lottery"]
    entrants = sorted(number(x, lot) for x in (a, b, c))
    assert drawn["entrants"] == entrants  # d did not accept
    seed = bytes.fromhex(drawn["seed"])
    assert hashlib.sha256(seed).hexdigest() == drawn["commitment"] == commitment
    assert drawn["winner"] == draw.winner(seed, lot["code"], entrants)
    assert decided["winner"]["bidder_number"] == drawn["winner"]
    assert stack.lot(lot["id"])["inquiry_end"] is None
    assert lottery(stack, lot) == drawn
    notice = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/result.pdf")
    assert notice.status_code == 200
    printed = pdf_text(notice.content).replace("\n", "")
    assert "最高限价摇号" in printed and drawn["seed"] in printed and drawn["winner"] in printed
    late = accept(d, lot)
    assert late.status_code == 409 and late.json()["code"] == "NOT_OPEN", late.text


def test_r_cap_who_may_accept(stack: Stack, staff: Account) -> None:
    lot, (a, _), _ = listing_lot(stack, staff, 2, price_cap=CAP)
    early = accept(a, lot)
    assert early.status_code == 409 and early.json()["code"] == "NOT_CAPPED", early.text
    assert stack.quote(a, lot, CAP).status_code == 201
    outsider = stack.bidder()
    refused = accept(outsider, lot)
    assert refused.status_code == 403 and refused.json()["code"] == "NOT_QUALIFIED", refused.text
    assert stack.anonymous().post(f"/api/v1/lots/{lot['id']}/cap-acceptance").status_code == 401
    uncapped, _, _ = listing_lot(stack, staff, 1)
    missing = stack.anonymous().get(f"/api/v1/lots/{uncapped['id']}/lottery")
    assert missing.status_code == 404 and missing.json()["code"] == "NO_LOTTERY"


def test_r_cap_in_timed_bidding_participants_accept_until_the_countdown_ends(
    stack: Stack, staff: Account
) -> None:
    lot, (a, b, c), _ = listing_lot(stack, staff, 3, price_cap="125000000.00")
    for bidder, amount in ((a, "120000000.00"), (b, "121000000.00"), (c, "122000000.00")):
        assert stack.quote(bidder, lot, amount).status_code == 201
    to_timed_bidding(stack, lot, [a, b])
    capped = stack.quote(a, lot, "125000000.00")
    assert capped.status_code == 201, capped.text
    ends = deadline(stack, lot)  # the cap bid restarted the countdown (R-25a)
    assert ends == datetime.fromisoformat(capped.json()["received_at"]) + timedelta(minutes=5)
    outsider = accept(c, lot)  # quoted in the listing but did not join
    assert outsider.status_code == 403 and outsider.json()["code"] == "NOT_A_PARTICIPANT"
    assert accept(b, lot).json()["acceptance_end"] == stack.lot(lot["id"])["timed_deadline"]
    stack.advance_to(ends)
    decided = result(stack, lot)
    assert (decided["outcome"], decided["rule"], decided["price"]) == (
        "sold",
        "R-CAP",
        "125000000.00",
    )
    entrants = sorted(number(x, lot) for x in (a, b))
    assert decided["lottery"]["entrants"] == entrants
    assert decided["winner"]["bidder_number"] in entrants


def test_r_cap_r11_a_cap_below_the_reserve_sells_to_nobody_and_draws_nothing(
    stack: Stack, staff: Account
) -> None:
    supervisor = stack.account("supervisor")
    lot, (a, _) = capped_in_listing(stack, staff, 2, has_reserve=True)
    assert accept(a, lot).status_code == 200
    into_window(stack, lot)
    assert (
        import_reserve(stack, lot, sealed(stack, lot, "130000000.00", supervisor)).status_code
        == 204
    )
    stack.advance_to(lot["listing_end"])
    decided = result(stack, lot)
    assert (decided["outcome"], decided["rule"], decided["winner"]) == ("unsold", "R-CAP", None)
    assert decided["lottery"]["seed"] is None and decided["lottery"]["winner"] is None
