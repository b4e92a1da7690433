"""The scheduler loop of a serving process (system clock).

It sleeps until the next due timer (at most a second, so timers set by other
processes are seen), wakes early when this process changes a timer, and
catches up every lot with a due timer. Several processes may run it: the lot
lock with SKIP LOCKED makes exactly one of them fire each timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from wangua.kit.lanes import TIMERS
from wangua.runtime import Runtime
from wangua.scheduler.service import fire_due, next_closing, next_due

log = logging.getLogger(__name__)
MAX_SLEEP = 1.0
# A pass runs at least every MAX_SLEEP, so a closing timer further ahead than this is
# armed by a later pass.
ARMING = timedelta(seconds=2 * MAX_SLEEP)


def one_pass(runtime: Runtime) -> float:
    """Fire what is due and say how long to sleep: one worker-thread hand-off a pass.
    Then hold the requests that will arrive at or after the next closing timer, if it is
    near, until the pass that fires it (Receipts.close_at)."""
    try:
        fire_due(runtime)
    finally:
        runtime.receipts.close_at(None)
    runtime.receipts.close_at(next_closing(runtime, ARMING))
    due = next_due(runtime)
    if due is None:
        return MAX_SLEEP
    return min(MAX_SLEEP, max(0.0, (due - runtime.now()).total_seconds()))


class SchedulerLoop:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        loop = asyncio.get_running_loop()

        def wake() -> None:
            loop.call_soon_threadsafe(self._wake.set)

        self.runtime.on_timers_changed = wake
        self._task = asyncio.create_task(self._run(), name="wangua-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.runtime.receipts.close_at(None)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                delay = await TIMERS.run(one_pass, self.runtime)
            except Exception:
                log.exception("scheduler pass failed; retrying")
                delay = MAX_SLEEP
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
