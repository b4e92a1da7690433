"""The deadline inquiry, timed bidding, proxies and the decision (R-21 … R-27)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update

from tests.api.bidding_support import (
    deadline,
    listing_lot,
    read_events,
    result,
    timed_lot_of_two,
    to_timed_bidding,
)
from tests.harness import Account, Stack, statements_matching
from wangua.kit.clock import ClockState
from wangua.scheduler.models import Timer


def test_r22_no_quote_means_unsold_at_the_deadline(stack: Stack, staff: Account) -> None:
    lot, _, _ = listing_lot(stack, staff, 1)
    stack.advance_to(lot["listing_end"])
    decided = result(stack, lot)
    assert decided["outcome"] == "unsold" and decided["rule"] == "R-22(3)"
    assert decided["decided_at"] == stack.lot(lot["id"])["listing_end"]


def test_r22_single_quoting_bidder_wins_when_nobody_joins(stack: Stack, staff: Account) -> None:
    lot, (a, _b), (app_a, _) = listing_lot(stack, staff, 2)
    stack.quote(a, lot, "120000000.00")
    stack.advance_to(lot["listing_end"])
    assert stack.anonymous().get(f"/api/v1/lots/{lot['id']}/result").json()["code"] == "NOT_DECIDED"
    stack.advance(300)
    decided = result(stack, lot)
    assert decided["outcome"] == "sold" and decided["rule"] == "R-22(1)"
    assert decided["price"] == "120000000.00"
    assert decided["winner"]["bidder_number"] == app_a["bidder_number"]


def test_r22_two_bidders_highest_wins_when_nobody_joins(stack: Stack, staff: Account) -> None:
    lot, (a, b), (_, app_b) = listing_lot(stack, staff, 2)
    stack.quote(a, lot, "120000000.00")
    stack.quote(b, lot, "121000000.00")
    stack.advance_to(lot["listing_end"])
    a.http.post(f"/api/v1/lots/{lot['id']}/inquiry", json={"join": False})
    stack.advance(300)
    decided = result(stack, lot)
    assert (decided["outcome"], decided["rule"], decided["price"]) == (
        "sold",
        "R-22(2)",
        "121000000.00",
    )
    assert decided["winner"]["bidder_number"] == app_b["bidder_number"]
    assert stack.lot(lot["id"])["status"] == "sold"


def test_r24_inquiry_answers_within_five_minutes_then_timed_bidding_starts(
    stack: Stack, staff: Account
) -> None:
    lot, (a, b), _ = listing_lot(stack, staff, 2)
    stack.quote(a, lot, "120000000.00")
    stack.quote(b, lot, "121000000.00")
    end = datetime.fromisoformat(lot["listing_end"])
    stack.advance_to(end)
    view = stack.lot(lot["id"])
    assert view["status"] == "inquiry"
    assert datetime.fromisoformat(view["inquiry_end"]) == end + timedelta(minutes=5)
    assert a.http.post(f"/api/v1/lots/{lot['id']}/inquiry", json={"join": True}).status_code == 200
    # everyone answered, but timed bidding still starts only when the 5 minutes end
    assert b.http.post(f"/api/v1/lots/{lot['id']}/inquiry", json={"join": True}).status_code == 200
    stack.advance(299.999)
    assert stack.lot(lot["id"])["status"] == "inquiry"
    stack.advance(0.001)
    assert stack.lot(lot["id"])["status"] == "timed_bidding"
    late = a.http.post(f"/api/v1/lots/{lot['id']}/inquiry", json={"join": True})
    assert late.status_code == 409 and late.json()["code"] == "INQUIRY_CLOSED"


def test_r21_a_bidder_without_a_listing_quote_may_not_join(stack: Stack, staff: Account) -> None:
    lot, (a, b), _ = listing_lot(stack, staff, 2)
    stack.quote(a, lot, "120000000.00")
    stack.advance_to(lot["listing_end"])
    refused = b.http.post(f"/api/v1/lots/{lot['id']}/inquiry", json={"join": True})
    assert refused.status_code == 403 and refused.json()["code"] == "NOT_ELIGIBLE"


def test_r23_timed_bidding_starts_one_increment_above_and_the_leader_cannot_open(
    stack: Stack, staff: Account
) -> None:
    lot, a, b = timed_lot_of_two(stack, staff)
    leader = stack.quote(b, lot, "122000000.00")
    assert leader.status_code == 409 and leader.json()["code"] == "ALREADY_HIGHEST"
    below = stack.quote(a, lot, "121999999.99")
    assert below.json()["code"] == "INCREMENT_TOO_SMALL"
    assert stack.quote(a, lot, "122000000.00").json()["phase"] == "timed"


def test_r22_bidders_who_did_not_join_cannot_bid(stack: Stack, staff: Account) -> None:
    lot, (a, b, c), _ = listing_lot(stack, staff, 3)
    stack.quote(a, lot, "120000000.00")
    stack.quote(b, lot, "121000000.00")
    stack.quote(c, lot, "122000000.00")
    to_timed_bidding(stack, lot, [a])
    refused = stack.quote(b, lot, "123000000.00")
    assert refused.status_code == 403 and refused.json()["code"] == "NOT_A_PARTICIPANT"


def test_r25a_every_bid_restarts_the_countdown_and_r25c_closes_it(
    stack: Stack, staff: Account
) -> None:
    lot, (a, b), (app_a, app_b) = listing_lot(stack, staff, 2)
    stack.quote(a, lot, "120000000.00")
    stack.quote(b, lot, "121000000.00")
    view = to_timed_bidding(stack, lot, [a, b])
    assert datetime.fromisoformat(view["timed_deadline"]) == stack.now() + timedelta(minutes=5)
    stack.advance(299)
    bid = stack.quote(a, lot, "122000000.00").json()
    assert deadline(stack, lot) == datetime.fromisoformat(bid["received_at"]) + timedelta(minutes=5)
    stack.advance(200)
    bid = stack.quote(b, lot, "123000000.00").json()
    end = deadline(stack, lot)
    assert end == datetime.fromisoformat(bid["received_at"]) + timedelta(minutes=5)
    stack.advance_to(end - timedelta(microseconds=1))
    assert stack.lot(lot["id"])["status"] == "timed_bidding"
    stack.advance(0.000001)
    at_end = stack.quote(a, lot, "124000000.00")
    assert at_end.status_code == 409 and at_end.json()["code"] == "NOT_OPEN"
    decided = result(stack, lot)
    assert (decided["outcome"], decided["rule"], decided["price"]) == (
        "sold",
        "R-23",
        "123000000.00",
    )
    assert decided["winner"]["bidder_number"] == app_b["bidder_number"] != app_a["bidder_number"]
    ended_at = stack.lot(lot["id"])["ended_at"]
    assert ended_at == decided["decided_at"]
    assert datetime.fromisoformat(ended_at) == end  # the instant, however it is written


def test_r27_nobody_bids_in_timed_bidding_so_the_highest_listing_quote_wins(
    stack: Stack, staff: Account
) -> None:
    lot, (a, b), (_, app_b) = listing_lot(stack, staff, 2)
    stack.quote(a, lot, "120000000.00")
    stack.quote(b, lot, "121000000.00")
    to_timed_bidding(stack, lot, [a])
    stack.advance(300)
    decided = result(stack, lot)
    assert (decided["outcome"], decided["rule"], decided["price"]) == (
        "sold",
        "R-27",
        "121000000.00",
    )
    assert decided["winner"]["bidder_number"] == app_b["bidder_number"]


def test_r26_proxy_bids_for_its_bidder_up_to_its_maximum(stack: Stack, staff: Account) -> None:
    lot, (a, b), (app_a, app_b) = listing_lot(stack, staff, 2)
    stack.quote(a, lot, "120000000.00")
    stack.quote(b, lot, "121000000.00")
    to_timed_bidding(stack, lot, [a, b])
    # a's proxy bids at once since b leads
    proxy = a.http.put(f"/api/v1/lots/{lot['id']}/proxy", json={"max_amount": "125000000.00"})
    assert proxy.status_code == 200 and proxy.json()["max_amount"] == "125000000.00"
    view = stack.lot(lot["id"])
    assert view["current_price"] == "122000000.00" and view["leader"] == app_a["bidder_number"]
    # b bids by hand: a's proxy answers before b's call returns
    assert stack.quote(b, lot, "124000000.00").status_code == 201
    view = stack.lot(lot["id"])
    assert view["current_price"] == "125000000.00" and view["leader"] == app_a["bidder_number"]
    quotes = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/quotes").json()
    assert [(q["amount"], q["by_proxy"]) for q in quotes[2:]] == [
        ("122000000.00", True),
        ("124000000.00", False),
        ("125000000.00", True),
    ]
    # b outbids the maximum: the proxy stops
    assert stack.quote(b, lot, "126000000.00").status_code == 201
    assert stack.lot(lot["id"])["leader"] == app_b["bidder_number"]


def test_r26_earliest_proxy_bids_first_and_proxies_never_exceed_their_maximum(
    stack: Stack, staff: Account
) -> None:
    lot, (a, b, c), (app_a, app_b, _) = listing_lot(stack, staff, 3)
    stack.quote(a, lot, "120000000.00")
    stack.quote(b, lot, "121000000.00")
    stack.quote(c, lot, "122000000.00")
    to_timed_bidding(stack, lot, [a, b, c])
    assert (
        a.http.put(
            f"/api/v1/lots/{lot['id']}/proxy", json={"max_amount": "126000000.00"}
        ).status_code
        == 200
    )
    assert (
        b.http.put(
            f"/api/v1/lots/{lot['id']}/proxy", json={"max_amount": "126000000.00"}
        ).status_code
        == 200
    )
    quotes = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/quotes").json()
    timed = [(q["amount"], q["bidder_number"]) for q in quotes if q["phase"] == "timed"]
    # a bid 123 when set; b's setting triggers 124 (b), 125 (a), 126 (b); a cannot pay 127
    assert timed == [
        ("123000000.00", app_a["bidder_number"]),
        ("124000000.00", app_b["bidder_number"]),
        ("125000000.00", app_a["bidder_number"]),
        ("126000000.00", app_b["bidder_number"]),
    ]
    stack.advance(300)
    assert result(stack, lot)["price"] == "126000000.00"


def test_r26_proxy_can_be_cancelled_and_refuses_a_maximum_below_the_next_bid(
    stack: Stack, staff: Account
) -> None:
    lot, (a, b), _ = listing_lot(stack, staff, 2)
    early = a.http.put(f"/api/v1/lots/{lot['id']}/proxy", json={"max_amount": "130000000.00"})
    assert early.status_code == 409 and early.json()["code"] == "NOT_IN_TIMED_BIDDING"
    stack.quote(a, lot, "120000000.00")
    stack.quote(b, lot, "121000000.00")
    to_timed_bidding(stack, lot, [a, b])
    low = a.http.put(f"/api/v1/lots/{lot['id']}/proxy", json={"max_amount": "121500000.00"})
    assert low.status_code == 422 and low.json()["code"] == "PROXY_MAX_TOO_LOW"
    stack.quote(a, lot, "122000000.00")
    assert (
        b.http.put(
            f"/api/v1/lots/{lot['id']}/proxy", json={"max_amount": "130000000.00"}
        ).status_code
        == 200
    )
    assert stack.lot(lot["id"])["current_price"] == "123000000.00"
    assert b.http.delete(f"/api/v1/lots/{lot['id']}/proxy").status_code == 204
    stack.quote(a, lot, "124000000.00")
    assert stack.lot(lot["id"])["current_price"] == "124000000.00"


def test_r25b_three_warnings_in_the_last_minute_and_r19c_events_in_order(
    stack: Stack, staff: Account
) -> None:
    lot, (a, b), _ = listing_lot(stack, staff, 2)
    stack.quote(a, lot, "120000000.00")
    stack.quote(b, lot, "121000000.00")
    to_timed_bidding(stack, lot, [a, b])
    end = deadline(stack, lot)
    stack.advance_to(end)
    events = read_events(stack, lot["id"], count=9)
    names = [e["event"] for e in events]
    assert names == [
        "phase",
        "quote",
        "quote",
        "phase",
        "phase",
        "warning",
        "warning",
        "warning",
        "result",
    ]
    assert [e["id"] for e in events] == list(range(1, 10))
    warnings = [e["data"] for e in events if e["event"] == "warning"]
    assert [w["seconds_left"] for w in warnings] == [60, 30, 10]
    assert [datetime.fromisoformat(w["at"]) for w in warnings] == [
        end - timedelta(seconds=s) for s in (60, 30, 10)
    ]
    # resume after the third event: nothing missed, nothing repeated
    resumed = read_events(stack, lot["id"], count=6, last_event_id=3)
    assert [e["id"] for e in resumed] == list(range(4, 10))


def test_r19c_a_watcher_sees_a_quote_as_it_is_accepted(stack: Stack, staff: Account) -> None:
    import threading

    lot, (a,), (app_a,) = listing_lot(stack, staff, 1)
    seen: list[dict[str, object]] = []
    watcher = threading.Thread(target=lambda: seen.extend(read_events(stack, lot["id"], count=2)))
    watcher.start()
    stack.quote(a, lot, "120000000.00")
    watcher.join(10)
    assert [e["event"] for e in seen] == ["phase", "quote"]
    assert seen[1]["data"]["bidder_number"] == app_a["bidder_number"]  # type: ignore[index]


def test_r25c_a_bid_after_the_deadline_is_refused_and_still_closes_the_lot(
    stack: Stack, staff: Account
) -> None:
    """The countdown's end is due but no timer has fired yet (the scheduler has not come
    round): the late bid catches the lot up, which decides it, and is itself refused. The
    refusal must not undo the decision."""
    lot, (first, second), _ = listing_lot(stack, staff, 2)
    step = Decimal(lot["increment"])
    listing_best = f"{Decimal(lot['start_price']) + step:.2f}"
    assert stack.quote(first, lot, lot["start_price"]).status_code == 201
    assert stack.quote(second, lot, listing_best).status_code == 201
    to_timed_bidding(stack, lot, [first, second])
    ends = deadline(stack, lot)
    with stack.runtime.work() as work:
        work.session.execute(
            update(ClockState).where(ClockState.id == 1).values(now=ends + timedelta(seconds=1))
        )
    late = f"{Decimal(listing_best) + step:.2f}"
    refused = stack.quote(first, lot, late)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "NOT_OPEN"
    view = stack.lot(lot["id"])
    assert view["status"] == "sold", "the catch-up that decided the lot was kept"
    assert result(stack, lot)["price"] == listing_best
    assert datetime.fromisoformat(view["ended_at"]) == ends


def test_r25a_a_bid_moves_the_countdown_and_its_warnings_in_one_read_of_the_timers(
    stack: Stack, staff: Account
) -> None:
    lot, a, _ = timed_lot_of_two(stack, staff)
    stack.advance(100)
    with statements_matching("FROM timers") as statements:
        bid = stack.quote(a, lot, "122000000.00")
    assert bid.status_code == 201, bid.text
    timers_read = [s for s in statements if s.startswith("SELECT timers.")]
    assert len(timers_read) == 1, timers_read
    end = datetime.fromisoformat(bid.json()["received_at"]) + timedelta(minutes=5)
    with stack.runtime.read() as session:
        pending = dict(
            session.execute(
                select(Timer.kind, Timer.due_at).where(
                    Timer.lot_id == lot["id"], Timer.fired_at.is_(None)
                )
            ).all()
        )
    assert pending == {
        "countdown_end": end,
        "warning_60": end - timedelta(seconds=60),
        "warning_30": end - timedelta(seconds=30),
        "warning_10": end - timedelta(seconds=10),
    }
