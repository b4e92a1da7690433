"""R-19c: the events a process has just committed reach its watchers without a read of the
log (live.recent), framed exactly as the log's read frames them; a refused request hands
over none of its own."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.api.bidding_support import deadline, listing_lot, result, timed_lot_of_two
from tests.harness import Account, Stack, running_stack
from tests.test_live_tail import _last_event, _wait_for_streams, _watch
from wangua.kit.problems import Problem
from wangua.live import api, recent, tail
from wangua.live.events import emit_all
from wangua.live.recent import Committed, RecentEvents
from wangua.live.tail import Frames, Position
from wangua.lots.repository import try_lock_lots
from wangua.runtime import SYSTEM, Runtime, Work


@pytest.fixture
def primary(tmp_path: Path) -> Iterator[Stack]:
    with running_stack("sqlite", tmp_path) as stack:
        yield stack


def test_r19c_a_lots_events_just_committed_are_framed_as_the_log_reads_them(
    stack: Stack, staff: Account
) -> None:
    """Quotes in the listing period and in timed bidding, the phase changes, the
    countdown's warnings and the result: each frame from what the commits handed over is
    byte for byte the frame read from the log."""
    lot, a, _ = timed_lot_of_two(stack, staff)
    assert stack.quote(a, lot, "122000000.00").status_code == 201
    stack.advance_to(deadline(stack, lot) + timedelta(seconds=1))
    assert result(stack, lot)["outcome"] == "sold"
    rt = stack.runtime
    (logged,) = api.read_frames(rt, [Position(lot["id"], None, 0)], 500)
    handed_over = rt.recent_events.after(lot["id"], 0)
    assert {"quote", "phase", "warning", "result"} <= {e.name for e in handed_over}
    assert api.render(handed_over, None) == logged


@pytest.mark.parametrize("way", ["alone", "together"])
def test_r19c_a_refusal_after_a_catch_up_hands_over_only_the_catch_ups_events(
    stack: Stack, staff: Account, way: str
) -> None:
    """A request refused after it caught its lot's timers up keeps what they changed and
    nothing of its own (`Work.refused_after_catch_up`): the events handed to the live
    streams are those the log keeps, and the next commit's follow them without a gap."""
    lot_id = stack.published_lot(staff)["id"]
    rt = stack.runtime
    last = _last_event(stack, lot_id)

    def refused(work: Work) -> None:
        (locked,) = try_lock_lots(work, [lot_id])
        emit_all(work, [(locked, "warning", {"by": "the timers"})])
        work.caught_up()
        emit_all(work, [(locked, "warning", {"by": "the refused request"})])
        raise Problem(409, "REFUSED_FOR_THE_TEST", "测试用的拒绝")

    if way == "alone":
        with pytest.raises(Problem), rt.work() as work:
            refused(work)
    else:  # the transaction goes on and commits, as bidding.judging's does
        with rt.together() as together, pytest.raises(Problem), together.work(SYSTEM) as work:
            refused(work)
    assert [e.data["by"] for e in rt.recent_events.after(lot_id, last)] == ["the timers"]
    with rt.work() as work:
        emit_all(work, [(try_lock_lots(work, [lot_id])[0], "warning", {"by": "the next"})])

    (logged,) = api.read_frames(rt, [Position(lot_id, None, last)], 500)
    handed_over = rt.recent_events.after(lot_id, last)
    assert [e.data["by"] for e in handed_over] == ["the timers", "the next"]
    assert api.render(handed_over, None) == logged


Read = Callable[[Runtime, Sequence[Position], int], list[Frames]]


def _watching_two_quotes(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, lot_id: int, read: Read
) -> tuple[list[int], threading.Thread]:
    """A watcher of the lot's next two quotes (the seqs it gets, its thread), its follower
    reading the log by `read`; once the follower has read the log once and waits."""
    last_event = _last_event(stack, lot_id)
    monkeypatch.setattr(
        tail.tails(stack.runtime, api.EVENTS), "feed", replace(api.EVENTS, read=read)
    )
    seen: list[int] = []
    watcher = threading.Thread(
        target=_watch, args=(stack.url, lot_id, last_event, 2, seen), daemon=True
    )
    watcher.start()
    _wait_for_streams(stack, 1)
    time.sleep(0.3)
    return seen, watcher


def _until(condition: Callable[[], bool]) -> None:
    waited = time.monotonic() + 10
    while not condition() and time.monotonic() < waited:
        time.sleep(0.02)


def _quote(stack: Stack, lot: dict[str, Any], bidder: Account, increments: int) -> None:
    """An accepted quote `increments` increments above the lot's start price."""
    start = stack.lot(lot["id"])
    step = int(start["increment"].split(".")[0])
    amount = int(start["start_price"].split(".")[0]) + increments * step
    assert stack.quote(bidder, lot, f"{amount}.00").status_code == 201


def test_r19c_a_watcher_gets_what_this_process_committed_while_the_log_read_waits(
    primary: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every read of the log held back, a watcher still gets the quotes this process
    accepts, at once; once the reads go on, it gets nothing twice."""
    lot, (first, second), _ = listing_lot(primary, primary.account("staff", "xianning-city"), 2)
    reads_go = threading.Event()
    reads_go.set()

    def held_back(rt: Runtime, positions: Sequence[Position], limit: int) -> list[Frames]:
        assert reads_go.wait(30)
        return api.read_frames(rt, positions, limit)

    seen, watcher = _watching_two_quotes(primary, monkeypatch, lot["id"], held_back)
    reads_go.clear()
    try:
        _quote(primary, lot, first, 0)
        _until(lambda: bool(seen))
        assert len(seen) == 1, "the quote waited for the log to be read"
    finally:
        reads_go.set()
    _quote(primary, lot, second, 1)
    watcher.join(30)
    assert not watcher.is_alive()
    assert seen == sorted(set(seen)) and len(seen) == 2


def test_r19c_a_notification_ahead_of_this_processs_commit_waits_for_its_events(
    primary: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL may deliver a commit's notification before the committing thread has
    handed its events over. A stream woken for a lot while a commit of this process is
    under way reads no log then (it would read without those events, which then came
    after that read); it takes them once they are here, and reads the log once the lot
    has no commit under way."""
    lot, (first, second), _ = listing_lot(primary, primary.account("staff", "xianning-city"), 2)
    rt = primary.runtime
    reads: list[int] = []

    def counted(rt: Runtime, positions: Sequence[Position], limit: int) -> list[Frames]:
        reads.extend(p.lot_id for p in positions)
        return api.read_frames(rt, positions, limit)

    seen, watcher = _watching_two_quotes(primary, monkeypatch, lot["id"], counted)
    reads.clear()
    rt.recent_events.committing([lot["id"]])  # a commit under way …
    rt.broadcaster.publish(lot["id"])  # … whose notification came first
    time.sleep(0.3)
    assert reads == []
    _quote(primary, lot, first, 0)
    _until(lambda: bool(seen))
    assert len(seen) == 1 and reads == []
    rt.recent_events.abandon([lot["id"]])
    rt.broadcaster.publish(lot["id"])
    _until(lambda: bool(reads))
    assert reads == [lot["id"]]
    _quote(primary, lot, second, 1)
    watcher.join(10)
    assert len(seen) == 2


def test_r19c_a_lot_is_committing_until_each_of_its_commits_is_done_or_abandoned() -> None:
    events = RecentEvents()
    events.committing([1, 2])
    events.committing([1])
    events.add([_event(1, 1)], [1])
    assert events.is_committing(1) and events.is_committing(2)
    events.abandon([1])
    events.add([], [2])
    assert not events.is_committing(1) and not events.is_committing(2)
    assert [e.seq for e in events.after(1, 0)] == [1]


def _event(lot_id: int, seq: int) -> Committed:
    return Committed(lot_id, seq, "quote", {}, datetime(2026, 11, 30, tzinfo=UTC))


def test_r19c_only_an_unbroken_run_after_the_newest_is_handed_over() -> None:
    """A follower takes events only from the one right after its newest on, as far as they
    run unbroken: one committed out of order, or from another process, is left to the
    log."""
    events = RecentEvents()
    events.add([_event(1, 3), _event(1, 4), _event(1, 6)], [])
    assert [e.seq for e in events.after(1, 2)] == [3, 4]
    assert events.after(1, 1) == []
    assert events.after(1, 4) == []
    events.add([_event(1, 5)], [])
    assert [e.seq for e in events.after(1, 4)] == [5, 6]
    assert events.after(2, 0) == []


def test_r19c_recent_events_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """At most PER_LOT events per lot (the oldest go) and LOTS lots (the least recently
    committed to go)."""
    monkeypatch.setattr(recent, "LOTS", 3)
    events = RecentEvents()
    events.add((_event(1, seq) for seq in range(1, recent.PER_LOT + 11)), [])
    assert [e.seq for e in events.after(1, 10)] == list(range(11, recent.PER_LOT + 11))
    assert events.after(1, 9) == []
    events.add([_event(2, 1), _event(3, 1), _event(1, recent.PER_LOT + 11), _event(4, 1)], [])
    assert events.after(2, 0) == []
    assert [len(events.after(lot, 0)) for lot in (3, 4)] == [1, 1]
    assert len(events.after(1, 11)) == recent.PER_LOT
