"""Several processes (R-25c): a process holds a lot while it has a request for it received
before the lot's closing timer and not yet judged (scheduler.holds), so no other process
closes the lot under it, however long after the timer grace it is judged.

The other process is a second runtime on the same database, with its own queue of
receipts and its own holds; its request still being judged is a receipt registered in its
queue, judged when the test says."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from tests.api.bidding_support import deadline, timed_lot_of_two
from tests.api.test_deadline_scheduling import _set_clock
from tests.api.test_receipts import GRACE, _sent, _status, _until
from tests.harness import Account, Stack, statements_matching
from wangua.bidding import service
from wangua.identity.service import actor_for_token
from wangua.kit.times import rfc3339
from wangua.runtime import Runtime
from wangua.scheduler import service as scheduler
from wangua.scheduler.holds import HORIZON, Holds
from wangua.scheduler.runner import one_pass
from wangua.scheduler.service import HELD_RETRY
from wangua.web import act_as


@pytest.fixture
def other(stack: Stack) -> Iterator[tuple[Runtime, Holds]]:
    """Another process serving the same database, with the timer grace several processes
    need (this one's is set once the lot is ready, `_grace`); holds are PostgreSQL's
    advisory locks."""
    if stack.backend != "postgresql":
        pytest.skip("several processes serve one PostgreSQL database")
    runtime = Runtime(stack.runtime.settings)
    runtime.timer_grace = GRACE
    holds = Holds(runtime)
    holds.start()
    try:
        yield runtime, holds
    finally:
        asyncio.run(holds.stop())
        runtime.close()


def _holds_observed() -> tuple[float, float]:
    """(holds, their total delay in seconds) in `wangua_lot_hold_seconds`."""
    count = REGISTRY.get_sample_value("wangua_lot_hold_seconds_count")
    total = REGISTRY.get_sample_value("wangua_lot_hold_seconds_sum")
    return count or 0.0, total or 0.0


def _grace(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stack.runtime, "timer_grace", GRACE)


def _place(runtime: Runtime, account: Account, lot_id: int, amount_fen: int, at: datetime) -> int:
    with runtime.read() as session:
        actor = actor_for_token(session, account.token)
    assert actor is not None
    with runtime.work(act_as(actor, ("bidder",))) as work:
        placed = service.place_quote(work, lot_id, amount_fen, "other-process", at)
    return placed.quote.amount_fen


def test_r25c_a_bid_another_process_received_before_the_countdown_ends_holds_it_past_the_grace(
    stack: Stack, staff: Account, other: tuple[Runtime, Holds], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other process received a bid half a second before the countdown's end and is
    still judging it three seconds after, past the grace: the countdown does not end (this
    process's scheduler leaves the lot, a bid received here then waits), and once judged
    the bid restarts the countdown (R-25a) and the bid received here meets it."""
    runtime, holds = other
    lot, a, b = timed_lot_of_two(stack, staff)
    _grace(stack, monkeypatch)
    ends = deadline(stack, lot)
    received = ends - timedelta(milliseconds=500)
    _set_clock(stack, received)
    holds_before = _holds_observed()
    receipt = runtime.receipts.arrive(lot["id"], received)
    _until(lambda: _holds_observed()[0] > holds_before[0], "the other process to hold the lot")
    assert holds.held == {lot["id"]: ends}
    assert _holds_observed() == (holds_before[0] + 1, holds_before[1])  # the clock stood still
    later = ends + GRACE + timedelta(seconds=1)
    _set_clock(stack, later)
    assert one_pass(stack.runtime) == HELD_RETRY  # this process tries the lot again shortly
    stack.runtime.receipts.close_at(None)  # (its scheduler loop would, at the next pass)
    assert _status(stack, lot) == "timed_bidding"
    with ThreadPoolExecutor(1) as pool:
        bid = _sent(pool, lambda: stack.quote(b, lot, "123000000.00"))
        time.sleep(0.3)
        assert not bid.done(), bid.result().text
        try:
            assert _place(runtime, a, lot["id"], 12_200_000_000, received) == 12_200_000_000
        finally:
            runtime.receipts.judged(receipt)
        _until(lambda: holds.held == {}, "the other process to let go")
        answer = bid.result(timeout=10)
    assert answer.status_code == 201, answer.text
    assert answer.json()["received_at"] == rfc3339(later)
    assert deadline(stack, lot) == later + timedelta(minutes=5)
    scheduler.fire_due(stack.runtime)
    assert _status(stack, lot) == "timed_bidding"


def test_r25c_requests_after_the_countdown_or_long_before_it_do_not_hold_the_lot(
    stack: Stack, staff: Account, other: tuple[Runtime, Holds], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request received after the closing timer waits for it, so it must not hold the
    lot, or the lot would never close; one received while the timer is further than
    HORIZON away needs no hold (it is judged long before), and costs no lock."""
    runtime, holds = other
    lot, _, _ = timed_lot_of_two(stack, staff)
    _grace(stack, monkeypatch)
    ends = deadline(stack, lot)
    early = ends - HORIZON - timedelta(seconds=1)
    _set_clock(stack, early)
    receipt = runtime.receipts.arrive(lot["id"], early)
    holds.update()
    runtime.receipts.judged(receipt)
    assert holds.held == {}
    receipt = runtime.receipts.arrive(lot["id"], ends + timedelta(milliseconds=1))
    try:
        _set_clock(stack, ends + GRACE + timedelta(seconds=1))
        holds.update()
        assert holds.held == {}
        scheduler.fire_due(stack.runtime)
        assert _status(stack, lot) == "sold"
    finally:
        runtime.receipts.judged(receipt)


def test_r25c_a_lot_far_from_its_deadline_is_looked_at_once_for_a_run_of_bids(
    stack: Stack, staff: Account, other: tuple[Runtime, Holds], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bids one after another to a lot whose countdown ends in more than HORIZON: the
    process reads the lot's closing timer once, not at each bid, and holds nothing."""
    runtime, holds = other
    lot, _, _ = timed_lot_of_two(stack, staff)
    _grace(stack, monkeypatch)
    at = deadline(stack, lot) - HORIZON - timedelta(minutes=1)
    with statements_matching("GROUP BY timers.lot_id") as reads:
        for _ in range(5):
            receipt = runtime.receipts.arrive(lot["id"], at)
            holds.update()
            runtime.receipts.judged(receipt)
            holds.update()
    assert holds.held == {}
    assert len(reads) == 1, reads
