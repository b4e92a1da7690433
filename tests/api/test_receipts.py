"""Receipt at arrival (R-18, R-25c, R-25a): a quote is judged at the moment it reached the
server, after every quote to the lot that reached it earlier, however long it waited.

An earlier quote still being judged (its caller's authentication, a worker thread, the
lot's lock) is stood in for by a receipt registered directly in the server's queue, so the
test decides when it is done; the quotes after it are real requests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.api.bidding_support import deadline, listing_lot, timed_lot_of_two
from tests.api.test_deadline_scheduling import _set_clock, _timed_lots
from tests.harness import Account, Stack
from wangua.bidding import service
from wangua.bidding.receipts import Receipt
from wangua.identity.service import actor_for_token
from wangua.kit.times import rfc3339, wall_now
from wangua.lots.repository import lock_lot
from wangua.monitoring.metrics import QUOTES_WAITING
from wangua.runtime import Runtime, Work
from wangua.scheduler import service as scheduler
from wangua.scheduler.service import catch_up
from wangua.web import act_as


def _waiting() -> float:
    return QUOTES_WAITING._value.get()  # type: ignore[attr-defined]


def _until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    ends = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < ends, f"timed out waiting for {what}"
        time.sleep(0.01)


@contextmanager
def _earlier_quote(stack: Stack, lot_id: int, at: datetime) -> Iterator[Receipt]:
    """A quote to the lot received at `at` and still being judged until the block ends."""
    receipt = stack.runtime.receipts.arrive(lot_id, at)
    try:
        yield receipt
    finally:
        stack.runtime.receipts.judged(receipt)


def _sent(pool: ThreadPoolExecutor, send: Callable[[], httpx.Response]) -> Future[httpx.Response]:
    """Send a request from another thread once this one knows it has been received."""
    before = _waiting()
    sent = pool.submit(send)
    _until(lambda: _waiting() > before or sent.done(), "the quote to arrive")
    return sent


def _status(stack: Stack, lot: dict[str, Any]) -> str:
    return str(stack.lot(lot["id"])["status"])


@contextmanager
def _bid_held_over_the_deadline(
    stack: Stack, pool: ThreadPoolExecutor, lot: dict[str, Any], bidder: Account
) -> Iterator[tuple[Future[httpx.Response], datetime]]:
    """A bid received a second before the lot's deadline, held behind an earlier quote
    while the block runs with the clock a second past the deadline; and its receipt."""
    ends = deadline(stack, lot)
    received = ends - timedelta(seconds=1)
    _set_clock(stack, received)
    with _earlier_quote(stack, lot["id"], received - timedelta(seconds=1)):
        bid = _sent(pool, lambda: stack.quote(bidder, lot, "122000000.00"))
        _set_clock(stack, ends + timedelta(seconds=1))  # the countdown is over
        yield bid, received


def test_r25c_a_bid_received_before_the_deadline_is_accepted_though_judged_after_it(
    stack: Stack, staff: Account
) -> None:
    lot, a, _ = timed_lot_of_two(stack, staff)
    with ThreadPoolExecutor(2) as pool:
        with _bid_held_over_the_deadline(stack, pool, lot, a) as (bid, received):
            scheduler_pass = pool.submit(scheduler.fire_due, stack.runtime)
            time.sleep(0.3)
            assert not bid.done() and not scheduler_pass.done()
            assert _status(stack, lot) == "timed_bidding"  # not decided under the bid
        answer = bid.result(timeout=10)
        scheduler_pass.result(timeout=10)
    assert answer.status_code == 201, answer.text
    assert datetime.fromisoformat(answer.json()["received_at"]) == received
    assert _status(stack, lot) == "timed_bidding"
    assert deadline(stack, lot) == received + timedelta(minutes=5)


def test_r25c_the_countdown_ends_without_waiting_for_bids_received_after_it(
    stack: Stack, staff: Account
) -> None:
    lot, _, _ = timed_lot_of_two(stack, staff)
    ends = deadline(stack, lot)
    _set_clock(stack, ends + timedelta(seconds=2))
    with (
        ThreadPoolExecutor(1) as pool,
        _earlier_quote(stack, lot["id"], ends + timedelta(seconds=1)),
    ):
        pool.submit(scheduler.fire_due, stack.runtime).result(timeout=scheduler.RECEIPT_WAIT / 2)
        assert _status(stack, lot) in {"sold", "unsold"}


def test_r25c_a_lot_whose_bids_are_still_judged_holds_up_no_other_lots_decision(
    stack: Stack, staff: Account
) -> None:
    (waiting, other), a = _timed_lots(stack, staff, 2)
    ends = deadline(stack, waiting)
    _set_clock(stack, ends - timedelta(seconds=10))
    assert stack.quote(a, other, "122000000.00").status_code == 201  # `other` ends later
    scheduler.fire_due(stack.runtime)  # the warnings: only the countdowns' ends are left
    _set_clock(stack, deadline(stack, other) + timedelta(seconds=1))
    with (
        ThreadPoolExecutor(1) as pool,
        _earlier_quote(stack, waiting["id"], ends - timedelta(seconds=1)),
    ):
        scheduler_pass = pool.submit(scheduler.fire_due, stack.runtime)
        _until(lambda: _status(stack, other) != "timed_bidding", "the other lot's decision", 2.0)
        assert _status(stack, waiting) == "timed_bidding"
    scheduler_pass.result(timeout=10)
    assert _status(stack, waiting) in {"sold", "unsold"}


def test_r18_a_bid_received_while_lots_are_decided_together_is_judged_after_at_its_receipt(
    stack: Stack, staff: Account
) -> None:
    """While the scheduler decides lots together no request starts its judging, so the
    decisions get the interpreter (Receipts.deciding); a bid received meanwhile is judged
    once they are done, at its own receipt time."""
    lot, a, _ = timed_lot_of_two(stack, staff)
    at = stack.now()
    with ThreadPoolExecutor(1) as pool:
        with stack.runtime.receipts.deciding():
            bid = _sent(pool, lambda: stack.quote(a, lot, "122000000.00"))
            time.sleep(0.3)
            assert not bid.done(), bid.result().text
            _set_clock(stack, at + timedelta(seconds=1))
        answer = bid.result(timeout=10)
    assert answer.status_code == 201, answer.text
    assert datetime.fromisoformat(answer.json()["received_at"]) == at
    assert deadline(stack, lot) == at + timedelta(minutes=5)


def test_r25c_a_write_received_after_the_next_closing_timer_waits_before_anything_else(
    stack: Stack,
) -> None:
    """Held before routing and the caller's authentication (ClosingHold): even an
    unauthenticated bid is answered only once the pass has fired the timers. Reads
    never wait."""
    receipts = stack.runtime.receipts
    receipts.close_at(wall_now() - timedelta(seconds=1))  # the system clock's scheduler
    try:
        with ThreadPoolExecutor(1) as pool:
            path = "/api/v1/lots/1/quotes"
            write = pool.submit(lambda: stack.anonymous().post(path, json={"amount": "1.00"}))
            time.sleep(0.3)
            assert not write.done(), write.result().text
            assert stack.anonymous().get("/api/v1/clock").status_code == 200
            receipts.close_at(None)  # the pass has fired them
            assert write.result(timeout=10).status_code == 401
    finally:
        receipts.close_at(None)


def test_r25c_no_other_write_ends_the_countdown_under_a_bid_received_before_it(
    stack: Stack, staff: Account
) -> None:
    """A write that brings the lot up to now stops at the held bid's receipt; a proxy set
    after the bid arrived is judged after it, inside the countdown the bid restarted."""
    lot, a, b = timed_lot_of_two(stack, staff)
    proxy_url = f"/api/v1/lots/{lot['id']}/proxy"
    with ThreadPoolExecutor(2) as pool:
        with _bid_held_over_the_deadline(stack, pool, lot, a) as (bid, _):
            with stack.runtime.work() as work:
                catch_up(work, lock_lot(work, lot["id"]))
            assert _status(stack, lot) == "timed_bidding"
            proxy = _sent(pool, lambda: b.http.put(proxy_url, json={"max_amount": "130000000"}))
            time.sleep(0.2)
            assert not proxy.done()
        answer = bid.result(timeout=10)
        proxied = proxy.result(timeout=10)
    assert answer.status_code == 201, answer.text
    assert proxied.status_code == 200, proxied.text


def test_r25a_a_bid_after_the_deadline_is_judged_after_the_bid_before_it_that_restarted_it(
    stack: Stack, staff: Account
) -> None:
    lot, a, b = timed_lot_of_two(stack, staff)
    ends = deadline(stack, lot)
    first_at, second_at = ends - timedelta(seconds=1), ends + timedelta(seconds=1)
    _set_clock(stack, first_at)
    with ThreadPoolExecutor(2) as pool:
        with _earlier_quote(stack, lot["id"], first_at - timedelta(seconds=1)):
            first = _sent(pool, lambda: stack.quote(a, lot, "122000000.00"))
            _set_clock(stack, second_at)
            second = _sent(pool, lambda: stack.quote(b, lot, "123000000.00"))
            time.sleep(0.2)
            assert not first.done() and not second.done()
        answers = [first.result(timeout=10), second.result(timeout=10)]
    assert [r.status_code for r in answers] == [201, 201], [r.text for r in answers]
    quotes = [r.json() for r in answers]
    assert quotes[1]["seq"] == quotes[0]["seq"] + 1
    assert [datetime.fromisoformat(q["received_at"]) for q in quotes] == [first_at, second_at]
    assert deadline(stack, lot) == second_at + timedelta(minutes=5)


def test_r25c_a_bid_after_the_deadline_waits_for_the_bids_before_it_then_closes_the_lot(
    stack: Stack, staff: Account
) -> None:
    lot, a, _ = timed_lot_of_two(stack, staff)
    ends = deadline(stack, lot)
    _set_clock(stack, ends)
    with ThreadPoolExecutor(1) as pool:
        with _earlier_quote(stack, lot["id"], ends - timedelta(seconds=1)):
            late = _sent(pool, lambda: stack.quote(a, lot, "122000000.00"))
            time.sleep(0.2)
            assert not late.done()
        answer = late.result(timeout=10)
    assert answer.status_code == 409 and answer.json()["code"] == "NOT_OPEN", answer.text
    assert _status(stack, lot) in {"sold", "unsold"}


def test_r19b_a_stale_quote_is_refused_at_once_while_earlier_ones_are_judged(
    stack: Stack, staff: Account
) -> None:
    lot, a, _ = timed_lot_of_two(stack, staff)
    with _earlier_quote(stack, lot["id"], stack.now()):
        answer = stack.quote(a, lot, "121000000.00")  # does not wait for the earlier one
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "INCREMENT_TOO_SMALL"


def test_r18_a_quote_refused_before_its_judging_leaves_the_queue(
    stack: Stack, staff: Account
) -> None:
    lot, a, _ = timed_lot_of_two(stack, staff)
    url = f"/api/v1/lots/{lot['id']}/quotes"
    before = _waiting()
    assert stack.anonymous().post(url, json={"amount": "122000000.00"}).status_code == 401
    assert a.http.post(url, json={"amount": "12.345"}).status_code == 422
    assert a.http.post(url, json={"amount": []}).status_code == 422
    assert _waiting() == before
    assert stack.runtime.receipts.earliest(lot["id"]) is None
    assert stack.quote(a, lot, "122000000.00").status_code == 201  # nothing left ahead of it


def test_r18_receipt_times_of_a_lot_never_go_backwards(stack: Stack, staff: Account) -> None:
    """A bid that arrived before a proxy bid another process placed is judged after it, at
    that bid's time: the quote sequence and the receipt times agree."""
    lot, a, b = timed_lot_of_two(stack, staff)
    arrived = stack.now()
    later = arrived + timedelta(seconds=2)
    with ThreadPoolExecutor(1) as pool:
        with _earlier_quote(stack, lot["id"], arrived - timedelta(seconds=1)):
            bid = _sent(pool, lambda: stack.quote(b, lot, "125000000.00"))
            _set_clock(stack, later)
            with _other_process(stack, a) as work:
                service.set_proxy(work, lot["id"], 12_400_000_000, 1000, later)
        answer = bid.result(timeout=10)
    assert answer.status_code == 201, answer.text
    quotes = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/quotes").json()
    assert quotes[-1]["amount"] == "125000000.00" and quotes[-2]["by_proxy"]
    times = [datetime.fromisoformat(q["received_at"]) for q in quotes]
    assert times == sorted(times)
    assert times[-1] == later


@contextmanager
def _other_process(stack: Stack, account: Account) -> Iterator[Work]:
    """A write by `account` through another process serving the same database: its own
    runtime, with its own queue of receipts."""
    other = Runtime(stack.runtime.settings)
    try:
        with other.read() as session:
            actor = actor_for_token(session, account.token)
        assert actor is not None
        with other.work(act_as(actor, ("bidder",))) as work:
            yield work
    finally:
        other.close()


GRACE = timedelta(seconds=2)


def _in_grace(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, lot: dict[str, Any], due: datetime
) -> None:
    """Several processes (WANGUA_TIMER_GRACE_MS): the clock a second past `due`, one of the
    lot's closing timers, which the scheduler holds back for its grace."""
    monkeypatch.setattr(stack.runtime, "timer_grace", GRACE)
    status = _status(stack, lot)
    _set_clock(stack, due + timedelta(seconds=1))
    scheduler.fire_due(stack.runtime)
    assert _status(stack, lot) == status


def _held_in_grace(
    pool: ThreadPoolExecutor, send: Callable[[], httpx.Response]
) -> Future[httpx.Response]:
    """A request received in a closing timer's grace: it waits for the timer to fire."""
    sent = _sent(pool, send)
    time.sleep(0.3)
    assert not sent.done(), sent.result().text
    return sent


def _grace_over(stack: Stack, due: datetime, sent: Future[httpx.Response]) -> httpx.Response:
    _set_clock(stack, due + GRACE + timedelta(milliseconds=1))
    return sent.result(timeout=10)


def test_r25c_with_a_timer_grace_a_bid_received_in_it_meets_the_countdown_another_process_restarted(
    stack: Stack, staff: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With several processes the countdown's end fires a grace after the deadline, at the
    deadline: a bid another process received before it and judged in the grace is
    accepted and restarts the countdown (R-25a), so a bid received in the grace, judged
    once the grace is over, is received in the restarted countdown and accepted."""
    lot, a, b = timed_lot_of_two(stack, staff)
    ends = deadline(stack, lot)
    _in_grace(stack, monkeypatch, lot, ends)
    with ThreadPoolExecutor(1) as pool:
        in_grace = _held_in_grace(pool, lambda: stack.quote(b, lot, "123000000.00"))
        received = ends - timedelta(milliseconds=500)
        with _other_process(stack, a) as work:
            service.place_quote(work, lot["id"], 12_200_000_000, "other-process", received)
        answer = _grace_over(stack, ends, in_grace)
    assert answer.status_code == 201, answer.text
    assert datetime.fromisoformat(answer.json()["received_at"]) == ends + timedelta(seconds=1)
    assert deadline(stack, lot) == ends + timedelta(seconds=1, minutes=5)
    assert _status(stack, lot) == "timed_bidding"


def test_r25c_with_a_timer_grace_a_bid_received_in_it_is_refused_once_the_lot_is_decided(
    stack: Stack, staff: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    lot, a, _ = timed_lot_of_two(stack, staff)
    ends = deadline(stack, lot)
    _in_grace(stack, monkeypatch, lot, ends)
    with ThreadPoolExecutor(1) as pool:
        in_grace = _held_in_grace(pool, lambda: stack.quote(a, lot, "122000000.00"))
        late = _grace_over(stack, ends, in_grace)
    assert late.status_code == 409 and late.json()["code"] == "NOT_OPEN", late.text
    assert _status(stack, lot) == "sold"
    assert stack.lot(lot["id"])["timed_deadline"] == rfc3339(ends)


def test_r22_with_a_timer_grace_a_listing_quote_another_process_received_counts(
    stack: Stack, staff: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listing deadline waits its grace too: a quote another process received before
    it is judged in the listing period, and an inquiry answer received in the grace
    waits for the inquiry, which opened at the deadline (R-22)."""
    lot, (a, b), _ = listing_lot(stack, staff, 2)
    assert stack.quote(a, lot, "120000000.00").status_code == 201
    listing_end = datetime.fromisoformat(lot["listing_end"])
    _in_grace(stack, monkeypatch, lot, listing_end)
    with ThreadPoolExecutor(1) as pool:
        inquiry = f"/api/v1/lots/{lot['id']}/inquiry"
        in_grace = _held_in_grace(pool, lambda: b.http.post(inquiry, json={"join": True}))
        with _other_process(stack, b) as work:
            received = listing_end - timedelta(milliseconds=500)
            service.place_quote(work, lot["id"], 12_100_000_000, "other-process", received)
        answer = _grace_over(stack, listing_end, in_grace)
    assert answer.status_code == 200, answer.text  # b quoted in the listing period
    assert answer.json()["answered_at"] == rfc3339(listing_end + timedelta(seconds=1))
    view = stack.lot(lot["id"])
    assert view["status"] == "inquiry" and view["current_price"] == "121000000.00"
    assert view["inquiry_end"] == rfc3339(listing_end + timedelta(minutes=5))


def test_r24_with_a_timer_grace_an_answer_another_process_received_counts(
    stack: Stack, staff: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inquiry's end waits its grace: an answer another process received before it
    counts, and a timed bid received in the grace is judged in the timed bidding that
    opened at the inquiry's end (R-23)."""
    lot, (a, b), _ = listing_lot(stack, staff, 2)
    assert stack.quote(a, lot, "120000000.00").status_code == 201
    assert stack.quote(b, lot, "121000000.00").status_code == 201
    stack.advance_to(lot["listing_end"])
    inquiry_end = datetime.fromisoformat(stack.lot(lot["id"])["inquiry_end"])
    _in_grace(stack, monkeypatch, lot, inquiry_end)
    with ThreadPoolExecutor(1) as pool:
        in_grace = _held_in_grace(pool, lambda: stack.quote(a, lot, "122000000.00"))
        with _other_process(stack, a) as work:
            received = inquiry_end - timedelta(milliseconds=500)
            service.answer_inquiry(work, lot["id"], True, received)
        bid = _grace_over(stack, inquiry_end, in_grace)
    assert bid.status_code == 201, bid.text
    assert deadline(stack, lot) == inquiry_end + timedelta(seconds=1, minutes=5)


def test_r22_an_inquiry_answer_received_before_the_inquiry_ends_counts_though_judged_after(
    stack: Stack, staff: Account
) -> None:
    """An answer is received when it arrives, like a quote: the inquiry does not end under
    an answer received before its end, and the answer is judged at its receipt."""
    lot, (a, b), _ = listing_lot(stack, staff, 2)
    assert stack.quote(a, lot, "120000000.00").status_code == 201
    assert stack.quote(b, lot, "121000000.00").status_code == 201
    stack.advance_to(lot["listing_end"])
    inquiry = f"/api/v1/lots/{lot['id']}/inquiry"
    assert b.http.post(inquiry, json={"join": True}).status_code == 200
    ends = datetime.fromisoformat(stack.lot(lot["id"])["inquiry_end"])
    received = ends - timedelta(seconds=1)
    _set_clock(stack, received)
    with ThreadPoolExecutor(2) as pool:
        with _earlier_quote(stack, lot["id"], received - timedelta(seconds=1)):
            answer = _sent(pool, lambda: a.http.post(inquiry, json={"join": True}))
            _set_clock(stack, ends + timedelta(seconds=1))  # the inquiry is over
            scheduler_pass = pool.submit(scheduler.fire_due, stack.runtime)
            time.sleep(0.3)
            assert not answer.done() and not scheduler_pass.done()
            assert _status(stack, lot) == "inquiry"
        response = answer.result(timeout=10)
        scheduler_pass.result(timeout=10)
    assert response.status_code == 200, response.text
    assert datetime.fromisoformat(response.json()["answered_at"]) == received
    assert _status(stack, lot) == "timed_bidding"
    assert stack.quote(a, lot, "122000000.00").status_code == 201  # a joined: a may bid


def test_r26_a_proxy_set_before_the_deadline_bids_at_its_receipt_though_judged_after_it(
    stack: Stack, staff: Account
) -> None:
    """A proxy is received when it arrives, like a quote: set a second before the end of
    the countdown and judged after it, it still bids at once, and its bid (received then)
    restarts the countdown (R-26, R-25a)."""
    lot, a, _ = timed_lot_of_two(stack, staff)
    ends = deadline(stack, lot)
    received = ends - timedelta(seconds=1)
    _set_clock(stack, received)
    proxy = f"/api/v1/lots/{lot['id']}/proxy"
    with ThreadPoolExecutor(2) as pool:
        with _earlier_quote(stack, lot["id"], received - timedelta(seconds=1)):
            setting = _sent(pool, lambda: a.http.put(proxy, json={"max_amount": "130000000"}))
            _set_clock(stack, ends + timedelta(seconds=1))  # the countdown is over
            scheduler_pass = pool.submit(scheduler.fire_due, stack.runtime)
            time.sleep(0.3)
            assert not setting.done() and not scheduler_pass.done()
        response = setting.result(timeout=10)
        scheduler_pass.result(timeout=10)
    assert response.status_code == 200, response.text
    assert datetime.fromisoformat(response.json()["set_at"]) == received
    assert _status(stack, lot) == "timed_bidding"
    assert stack.lot(lot["id"])["current_price"] == "122000000.00"  # the proxy's bid
    assert deadline(stack, lot) == received + timedelta(minutes=5)


def _waiting_for_a_lock(stack: Stack) -> bool:
    with stack.runtime.read() as session:
        waiting = session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return bool(waiting)


def test_r18_a_quote_that_waited_for_another_process_is_received_no_earlier_than_its_quote(
    stack: Stack, staff: Account
) -> None:
    """Several processes: a quote that arrived before another process's quote, and waited
    for the lot's lock while that process judged its own, is received at that quote's
    time, so the lot's receipt times never go backwards (bidding.service.place_quote)."""
    if stack.backend != "postgresql":
        pytest.skip("several processes serve one PostgreSQL database")
    lot, (a, b), _ = listing_lot(stack, staff, 2)
    later = stack.now() + timedelta(seconds=1)
    with ThreadPoolExecutor(1) as pool:
        with _other_process(stack, a) as work:
            service.place_quote(work, lot["id"], 12_000_000_000, "other-process", later)
            bid = pool.submit(stack.quote, b, lot, "121000000.00")
            _until(lambda: _waiting_for_a_lock(stack), "the quote to wait for the lot's lock")
        answer = bid.result(timeout=10)
    assert answer.status_code == 201, answer.text
    assert datetime.fromisoformat(answer.json()["received_at"]) == later
    quotes = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/quotes").json()
    assert [datetime.fromisoformat(q["received_at"]) for q in quotes] == [later, later]
