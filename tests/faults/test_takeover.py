"""Two `wangua serve` processes on one PostgreSQL, with the system clock, in the last
seconds of a timed bidding's countdown.

Timers are rows that every process's scheduler loop claims with SKIP LOCKED; no
process owns one. When one of two processes dies, the other fires the rest of the
countdown on time: its last warning (R-25b) and its end (R-25c), deciding the lot
exactly once, and its watchers see it. The system never stopped serving, so R-37c
does not apply: nothing is suspended and no outage is recorded, neither when a
process dies nor when one stalls for longer than a heartbeat's grace while the other
serves.

The countdown needs the system clock, and a lot's listing lasts weeks: the lot is
taken to timed bidding with the simulated clock set weeks back, its last bid placed so
that the countdown ends `LEAD` seconds from now; the system-clock processes start
while the simulated one still serves (so that no moment is without a serving process)
and it then stops.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.faults.servers import (
    Installation,
    ServerProcess,
    at,
    installation,
    process_stack,
)
from tests.harness import Stack

pytestmark = pytest.mark.slow

COUNTDOWN = timedelta(minutes=5)
ON_TIME = 5.0
"""Seconds after a timer's due time by which its event must have reached a watcher
(the loop wakes at least every second; the rest is a loaded machine's slack)."""
SYSTEM_CLOCK = {"WANGUA_CLOCK": "system"}
BID = "122000000.00"


@dataclass(frozen=True)
class Seen:
    wall: float
    id: int
    event: str
    data: dict[str, Any]


class Watcher(threading.Thread):
    """A browser's live board: the lot's event stream from `after` on, with the wall
    time each event arrived; it stops at the result, or when its server goes away."""

    def __init__(self, url: str, lot_id: int, after: int = 0) -> None:
        super().__init__(name=f"watcher-{url}", daemon=True)
        self.url, self.lot_id, self.after = url, lot_id, after
        self.seen: list[Seen] = []
        self.broken: str | None = None
        self.lock = threading.Lock()

    def run(self) -> None:
        current: dict[str, Any] = {}
        try:
            with (
                httpx.Client(base_url=self.url, timeout=httpx.Timeout(5.0, read=60.0)) as client,
                client.stream(
                    "GET",
                    f"/api/v1/lots/{self.lot_id}/events",
                    headers={"Last-Event-ID": str(self.after)},
                ) as response,
            ):
                assert response.status_code == 200, response.status_code
                for line in response.iter_lines():
                    if line.startswith("id: "):
                        current["id"] = int(line[4:])
                    elif line.startswith("event: "):
                        current["event"] = line[7:]
                    elif line.startswith("data: "):
                        current["data"] = json.loads(line[6:])
                    elif line == "" and "event" in current:
                        seen = Seen(time.time(), current["id"], current["event"], current["data"])
                        with self.lock:
                            self.seen.append(seen)
                        current = {}
                        if seen.event == "result":
                            return
        except (httpx.TransportError, httpx.StreamError) as exc:
            self.broken = repr(exc)

    def events(self) -> list[Seen]:
        with self.lock:
            return list(self.seen)

    def has(self, check: Callable[[Seen], bool]) -> bool:
        return any(check(s) for s in self.events())


def wait_until(what: str, check: Callable[[], bool], ceiling: float) -> None:
    deadline = time.monotonic() + ceiling
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {ceiling:.0f} s"
        time.sleep(0.05)


def wall_now() -> datetime:
    return datetime.now(UTC)


def database(inst: Installation) -> psycopg.Connection[Any]:
    return psycopg.connect(inst.env["WANGUA_DATABASE_URL"], autocommit=True)


@dataclass
class Countdown:
    inst: Installation
    stack: Stack
    lot: dict[str, Any]
    deadline: datetime
    leader: str
    first: ServerProcess
    second: ServerProcess


@contextmanager
def countdown_on_two_processes(tmp_path: Path, lead: float) -> Iterator[Countdown]:
    """A lot in timed bidding whose countdown ends `lead` seconds from now, served by
    two system-clock processes (and no other)."""
    began = wall_now()
    # lot_body: the listing starts 21 days after publication and lasts 10; the inquiry
    # then lasts 5 minutes. So the timed bidding opens 5 minutes before the test began,
    # and its countdown still runs when the last bid is placed, below.
    clock_start = began - timedelta(days=31, minutes=10)
    with installation("postgresql", tmp_path, WANGUA_CLOCK_START=clock_start.isoformat()) as inst:
        simulated = ServerProcess(inst)
        first = ServerProcess(inst, env=SYSTEM_CLOCK)
        second = ServerProcess(inst, env=SYSTEM_CLOCK)
        try:
            first.preload()  # they import while the lot is set up
            second.preload()
            stack = process_stack(inst, simulated.start())
            staff = stack.account("staff", "xianning-city")
            lot = stack.published_lot(staff)
            a, b = stack.bidder(), stack.bidder()
            leader = stack.qualified(a, lot)["bidder_number"]
            stack.qualified(b, lot)
            stack.advance_to(lot["listing_start"])
            assert stack.quote(a, lot, "120000000.00").status_code == 201
            assert stack.quote(b, lot, "121000000.00").status_code == 201
            stack.advance_to(lot["listing_end"])
            for bidder in (a, b):
                joined = bidder.http.post(f"/api/v1/lots/{lot['id']}/inquiry", json={"join": True})
                assert joined.status_code == 200, joined.text
            stack.advance_to(stack.lot(lot["id"])["inquiry_end"])
            assert stack.lot(lot["id"])["status"] == "timed_bidding"

            # the last bid, at the simulated time that makes the countdown end `lead`
            # seconds from now (the simulated clock stays behind the real one)
            bid_at = wall_now() + timedelta(seconds=lead) - COUNTDOWN
            assert stack.now() <= bid_at, "the set-up took longer than the countdown lasts"
            stack.advance_to(bid_at)
            assert stack.quote(a, lot, BID).status_code == 201
            deadline = at(stack.lot(lot["id"])["timed_deadline"])
            assert deadline == bid_at + COUNTDOWN

            # the system-clock processes take over from the simulated one, which stops
            starters = [threading.Thread(target=p.start) for p in (first, second)]
            for starter in starters:
                starter.start()
            for starter in starters:
                starter.join(60)
            assert first.proc and second.proc and first.port and second.port
            simulated.stop()
            stack.url = first.url
            print(
                f"\ntwo processes serving {(deadline - wall_now()).total_seconds():.1f} s before "
                f"the countdown ends (set up in {(wall_now() - began).total_seconds():.0f} s; "
                f"starts {first.started_in:.2f} s and {second.started_in:.2f} s)"
            )
            yield Countdown(inst, stack, lot, deadline, leader, first, second)
        finally:
            for server in (simulated, first, second):
                server.stop()


def check_decided_once(
    inst_db: psycopg.Connection[Any], full: list[Seen], countdown: Countdown
) -> dict[str, Any]:
    """The lot's whole event log: gap-free, each warning and the result exactly once, no
    suspension; one decision in the audit record; no outage recorded."""
    lot_id = countdown.lot["id"]
    assert [s.id for s in full] == list(range(1, len(full) + 1)), [s.id for s in full]
    names = Counter(s.event for s in full)
    assert names["result"] == 1, names
    assert "suspended" not in names, names
    warnings = [s.data["seconds_left"] for s in full if s.event == "warning"]
    assert warnings == [60, 30, 10], warnings
    result = next(s for s in full if s.event == "result").data
    assert (result["outcome"], result["price"], result["rule"]) == ("sold", BID, "R-23")
    assert result["bidder_number"] == countdown.leader
    assert at(result["decided_at"]) == countdown.deadline, (result, countdown.deadline)
    decided = inst_db.execute(
        "SELECT count(*) FROM audit_entries WHERE action = 'lot.decided' AND object_id = %s",
        (str(lot_id),),
    ).fetchone()
    assert decided == (1,), decided
    # the decision's settlement is a follow-up the scheduler fires right after it
    settled_by = time.monotonic() + 15
    while True:
        pending = inst_db.execute(
            "SELECT kind FROM timers WHERE lot_id = %s AND fired_at IS NULL", (lot_id,)
        ).fetchall()
        if not pending or time.monotonic() > settled_by:
            break
        time.sleep(0.1)
    assert not pending, f"timers of the decided lot still pending: {pending}"
    outages = inst_db.execute("SELECT started_at, ended_at, detected_by FROM outages").fetchall()
    assert not outages, f"an outage was recorded while a process served: {outages}"
    return result


@pytest.mark.timeout(180)
def test_r25c_r37c_when_one_of_two_processes_dies_the_other_ends_the_countdown_on_time_once(
    tmp_path: Path,
) -> None:
    lead = 30.0
    with countdown_on_two_processes(tmp_path, lead) as countdown:
        lot_id, deadline = countdown.lot["id"], countdown.deadline
        doomed, survivor = countdown.first, countdown.second
        on_doomed = Watcher(doomed.url, lot_id)
        on_survivor = Watcher(survivor.url, lot_id)
        for watcher in (on_doomed, on_survivor):
            watcher.start()

        # both watchers have the log so far, the bid and the warnings already due
        def caught_up(watcher: Watcher) -> bool:
            return watcher.has(lambda s: s.event == "quote" and s.data["amount"] == BID)

        wait_until(
            "both watchers caught up", lambda: all(map(caught_up, (on_doomed, on_survivor))), 15
        )
        left = (deadline - wall_now()).total_seconds()
        assert left > 10 + 1, (
            f"too slow to test a takeover: the kill would come {11 - left:.1f} s after the "
            "last warning's due time"
        )
        killed_at = time.time()
        doomed.kill9()
        print(f"killed one process {left:.1f} s before the countdown's end")

        # the survivor fires the last warning and the end, on time
        on_survivor.join(timeout=lead + ON_TIME + 5)
        assert not on_survivor.is_alive(), "no result reached the survivor's watcher"
        assert on_survivor.broken is None, on_survivor.broken
        seen = on_survivor.events()
        warning = next(s for s in seen if s.event == "warning" and s.data["seconds_left"] == 10)
        result = next(s for s in seen if s.event == "result")
        warning_due = (deadline - timedelta(seconds=10)).timestamp()
        assert warning_due <= warning.wall < warning_due + ON_TIME, warning.wall - warning_due
        assert deadline.timestamp() <= result.wall < deadline.timestamp() + ON_TIME, (
            result.wall - deadline.timestamp()
        )

        # the killed process's watcher lost its stream; it resumes on the survivor
        on_doomed.join(timeout=10)
        assert on_doomed.broken is not None or not on_doomed.is_alive()
        before_kill = on_doomed.events()
        assert before_kill and all(s.wall <= killed_at + 1 for s in before_kill)
        resumed = Watcher(survivor.url, lot_id, after=before_kill[-1].id)
        resumed.start()
        resumed.join(timeout=15)
        full = Watcher(survivor.url, lot_id)
        full.start()
        full.join(timeout=15)
        assert [s.id for s in before_kill + resumed.events()] == [s.id for s in full.events()]

        stack = countdown.stack
        stack.url = survivor.url
        view = stack.lot(lot_id)
        assert view["status"] == "sold", view
        answer = stack.anonymous().get(f"/api/v1/lots/{lot_id}/result")
        assert answer.status_code == 200, answer.text
        assert answer.json()["price"] == BID
        with database(countdown.inst) as db:
            check_decided_once(db, full.events(), countdown)
        verified = countdown.inst.cli("audit", "verify")
        assert verified.stdout.startswith("ok "), verified.stdout
        print(
            f"the survivor's watcher saw the 10-second warning "
            f"{warning.wall - warning_due:.2f} s after its due time and the result "
            f"{result.wall - deadline.timestamp():.2f} s after the countdown's end"
        )


STALL = 12.0
"""Seconds a process is stopped (SIGSTOP): longer than a heartbeat's grace
(availability.service.ALIVE, 10 s), after which its own heartbeats show a gap."""


@pytest.mark.timeout(180)
def test_r37c_a_process_stalled_while_the_other_serves_is_no_outage(tmp_path: Path) -> None:
    lead = STALL + 25.0
    with countdown_on_two_processes(tmp_path, lead) as countdown:
        lot_id, deadline = countdown.lot["id"], countdown.deadline
        stalled, serving = countdown.first, countdown.second
        assert stalled.proc is not None
        stack = countdown.stack
        stack.url = serving.url
        with database(countdown.inst) as db:

            def session(pid: int) -> tuple[datetime, datetime, datetime]:
                """started_at, last_beat, last_beat_wall of the process's serving session."""
                row = db.execute(
                    "SELECT started_at, last_beat, last_beat_wall FROM serving_sessions "
                    "WHERE pid = %s AND stopped_at IS NULL ORDER BY id DESC LIMIT 1",
                    (pid,),
                ).fetchone()
                assert row is not None, f"process {pid} has no serving session"
                return row  # type: ignore[no-any-return]

            def last_beat_wall() -> datetime:
                return session(stalled.proc.pid)[2]  # type: ignore[union-attr]

            # the stall begins while the other process serves: after a heartbeat of the
            # stalled one that came once the other had started (a gap that begins before
            # any other process served is an outage)
            assert serving.proc is not None
            other_started = session(serving.proc.pid)[0]
            wait_until(
                "a heartbeat once both serve",
                lambda: session(stalled.proc.pid)[1] >= other_started,  # type: ignore[union-attr]
                15,
            )
            os.killpg(stalled.proc.pid, signal.SIGSTOP)
            stopped_at = wall_now()
            try:
                watcher = Watcher(serving.url, lot_id)
                watcher.start()
                time.sleep(STALL)  # the fault: the process does nothing for this long
            finally:
                os.killpg(stalled.proc.pid, signal.SIGCONT)
            resumed_at = wall_now()
            # its next heartbeat sees the gap in its own beats; the other process served
            wait_until("the stalled process beats again", lambda: last_beat_wall() > resumed_at, 15)
            left = (deadline - wall_now()).total_seconds()
            assert left > 0, "too slow: the countdown ended before the stalled process woke"
            outages = db.execute("SELECT started_at, ended_at, detected_by FROM outages").fetchall()
            assert not outages, (
                f"a stalled process recorded an outage while another served: {outages}"
            )
            assert stack.lot(lot_id)["status"] == "timed_bidding"

            watcher.join(timeout=left + ON_TIME + 5)
            assert not watcher.is_alive(), "no result reached the watcher"
            result = next(s for s in watcher.events() if s.event == "result")
            assert deadline.timestamp() <= result.wall < deadline.timestamp() + ON_TIME
            check_decided_once(db, watcher.events(), countdown)
        print(
            f"stalled one process for {(resumed_at - stopped_at).total_seconds():.1f} s; "
            f"no outage; the result reached the watcher "
            f"{result.wall - deadline.timestamp():.2f} s after the countdown's end"
        )
