"""R-25c, R-27: with the system clock the scheduler's passes run on a thread of their own,
woken by its own timeout: an event loop held busy (as by a burst of bids read at a
deadline) does not hold the timers back, and stopping the loop ends the passes."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from wangua.config import Settings
from wangua.runtime import Runtime
from wangua.scheduler.runner import MAX_SLEEP, SchedulerLoop
from wangua.serving import migrate

BUSY = 2.5 * MAX_SLEEP


def test_r25c_the_scheduler_passes_while_the_event_loop_is_busy(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, clock="system")
    migrate(settings)
    runtime = Runtime(settings)
    reads: list[float] = []  # when the passes read the pending timers

    def seen(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if "FROM timers" in statement:
            reads.append(time.monotonic())

    async def scenario() -> tuple[float, float]:
        loop = SchedulerLoop(runtime)
        loop.start()
        began = time.monotonic()
        time.sleep(BUSY)  # holds the event loop, as a burst being read does
        await loop.stop()
        return began, time.monotonic()

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        began, stopped = asyncio.run(scenario())
        time.sleep(1.5 * MAX_SLEEP)
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
        runtime.close()
    while_busy = [t - began for t in reads if began <= t <= began + BUSY]
    assert any(t >= 0.9 * MAX_SLEEP for t in while_busy), while_busy  # woke by itself
    assert not [t for t in reads if t > stopped]
