"""The serving process's heartbeat (R-37c)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.concurrency import run_in_threadpool

from wangua.availability.service import BEAT, beat, start_serving, stop_serving
from wangua.runtime import Runtime

log = logging.getLogger(__name__)


class Heartbeat:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.session_id: int | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Register before any timer fires, so that an outage suspends before it decides."""
        self.session_id = await run_in_threadpool(start_serving, self.runtime)
        self._task = asyncio.create_task(self._run(), name="wangua-heartbeat")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.session_id is not None:
            await run_in_threadpool(stop_serving, self.runtime, self.session_id)

    async def _run(self) -> None:
        assert self.session_id is not None
        while True:
            await asyncio.sleep(BEAT.total_seconds())
            try:
                await run_in_threadpool(beat, self.runtime, self.session_id)
            except Exception:
                log.exception("heartbeat failed; the gap will count as an outage")
