"""The scheduler loop of a serving process (system clock).

It sleeps until the next due timer (at most a second, so timers set by other
processes are seen), wakes early when this process changes a timer, and
catches up every lot with a due timer. Several processes may run it: the lot
lock with SKIP LOCKED makes exactly one of them fire each timer.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import timedelta

from wangua.runtime import Runtime
from wangua.scheduler.service import HELD_RETRY, LOTS_PER_PASS, fire_due, next_closing, next_due

log = logging.getLogger(__name__)
MAX_SLEEP = 1.0
# A pass runs at least every MAX_SLEEP, so a closing timer further ahead than this is
# armed by a later pass.
ARMING = timedelta(seconds=2 * MAX_SLEEP)


def one_pass(runtime: Runtime) -> float:
    """Fire what is due and say how long to sleep. Then hold the requests that will
    arrive at or after the next closing timer, if it is near, until the pass that fires it
    (Receipts.close_at). A lot the pass left due (another process holds it or fires it)
    is tried again HELD_RETRY later; more lots than a pass takes, at once."""
    try:
        seen = fire_due(runtime)
    finally:
        runtime.receipts.close_at(None)
    runtime.receipts.close_at(next_closing(runtime, ARMING))
    due = next_due(runtime)
    if due is None:
        return MAX_SLEEP
    wait = (due - runtime.now()).total_seconds()
    if wait <= 0 and 0 < seen < LOTS_PER_PASS:
        return HELD_RETRY
    return min(MAX_SLEEP, max(0.0, wait))


class SchedulerLoop:
    """The passes on a thread of their own, which sleeps until its timeout or until this
    process changes a timer. Not a task of the event loop: in a burst of bids at a
    deadline the event loop is busy reading them, and a wake-up it timed came half a second
    after the deadline; the thread needs only its turn at the interpreter."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="wangua-scheduler", daemon=True)

    def start(self) -> None:
        self.runtime.on_timers_changed = self._wake.set
        self._thread.start()

    async def stop(self) -> None:
        """After the pass under way, if any; then no request waits for a pass."""
        self._stopping = True
        self._wake.set()
        await asyncio.to_thread(self._thread.join)
        self.runtime.receipts.close_at(None)

    def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                delay = one_pass(self.runtime)
            except Exception:
                log.exception("scheduler pass failed; retrying")
                delay = MAX_SLEEP
            if delay > 0:
                self._wake.wait(delay)
