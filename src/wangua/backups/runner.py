"""The record keeper of a serving process: signed audit checkpoints every few
minutes (R-32a) and, with the system clock, the daily backup (R-32c)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from starlette.concurrency import run_in_threadpool

from wangua.audit.checkpoints import checkpoint
from wangua.backups.daily import take_daily
from wangua.runtime import Runtime

log = logging.getLogger(__name__)
TICK = 30.0


class RecordKeeper:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.interval = runtime.settings.audit_checkpoint_minutes * 60
        self.daily = runtime.clock.mode == "system"
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="wangua-record-keeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        next_checkpoint = time.monotonic()
        while True:
            if time.monotonic() >= next_checkpoint:
                try:
                    await run_in_threadpool(checkpoint, self.runtime)
                    next_checkpoint = time.monotonic() + self.interval
                except Exception:
                    log.exception("audit checkpoint failed; retrying")
                    next_checkpoint = time.monotonic() + TICK
            if self.daily:
                try:
                    await run_in_threadpool(take_daily, self.runtime)
                except Exception:
                    log.exception("daily backup failed; retrying")
            await asyncio.sleep(min(TICK, max(0.0, next_checkpoint - time.monotonic())))
