"""The delivery worker of a serving process: sends due deliveries, retries with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx
from starlette.concurrency import run_in_threadpool

from wangua.publishing.service import claim_due, deliver
from wangua.runtime import Runtime

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0


class DeliveryWorker:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._task: asyncio.Task[None] | None = None
        self._client = httpx.Client(timeout=10.0, follow_redirects=False)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="wangua-deliveries")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._client.close()

    def _pass(self) -> int:
        claimed = claim_due(self.runtime)
        for delivery_id in claimed:
            deliver(self.runtime, delivery_id, self._client)
        return len(claimed)

    async def _run(self) -> None:
        while True:
            try:
                busy = await run_in_threadpool(self._pass)
            except Exception:
                log.exception("delivery pass failed; retrying")
                busy = 0
            if not busy:
                await asyncio.sleep(POLL_SECONDS)
