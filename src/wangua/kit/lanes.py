"""Worker threads apart from the requests' pool, for work that must not queue behind a
flood of requests: the one read per publish that feeds every live stream of the process
(R-19c). (The scheduler's passes have a thread of their own, scheduler/runner.py.)

Starlette runs each synchronous endpoint on anyio's default limiter (WANGUA_REQUEST_THREADS
threads, see `limit_request_threads`). When a burst of bids arrives at a deadline the
limiter's queue holds the whole burst, and a stream's read waiting there would wait for
all of it: a lot's result would reach its watchers seconds late. A lane has its own
limiter, so its work waits only for its own kind and shares nothing but the interpreter.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from functools import partial
from typing import ParamSpec, TypeVar

from anyio import CapacityLimiter, to_thread

P = ParamSpec("P")
T = TypeVar("T")


class Lane:
    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = (
            weakref.WeakKeyDictionary()
        )

    async def run(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `func` in a worker thread of this lane (one limiter per event loop)."""
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            limiter = self._limiters[loop] = CapacityLimiter(self.threads)
        return await to_thread.run_sync(partial(func, *args, **kwargs), limiter=limiter)


LIVE = Lane(4)  # the shared tails' reads of the event log


def limit_request_threads(threads: int) -> None:
    """Bound the threads that run requests (anyio's default limiter; 40 unless set).

    Requests are Python, so more threads than a few per core add no throughput: they
    only take turns at the interpreter lock, and every other thread (a lane's, the event
    loop's) then waits behind all of them. Requests beyond the bound wait in the
    limiter's queue, in order, holding nothing. WANGUA_REQUEST_THREADS.
    """
    to_thread.current_default_thread_limiter().total_tokens = threads
