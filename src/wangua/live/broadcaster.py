"""Tells listeners that a lot has new events; the event log itself is the truth.

`LocalBroadcaster` serves one process. A listener takes `waiter(lot_id)` BEFORE
reading the log, so a publish between its read and its wait is never missed.
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class Broadcaster(Protocol):
    def bind(self, loop: asyncio.AbstractEventLoop) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def publish(self, lot_id: int) -> None: ...

    def waiter(self, lot_id: int) -> asyncio.Event: ...

    def generation(self, lot_id: int) -> int: ...


class LocalBroadcaster:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._events: dict[int, asyncio.Event] = {}
        self._generations: dict[int, int] = {}

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def start(self) -> None:
        """Nothing to start: one process hears its own commits."""

    def stop(self) -> None:
        """Nothing to stop."""

    def publish(self, lot_id: int) -> None:
        """Safe to call from any thread, after the transaction committed."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake, lot_id)

    def publish_all(self) -> None:
        """Wake every watcher to re-read its log: after notifications may have been missed."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake_all)

    def waiter(self, lot_id: int) -> asyncio.Event:
        """Call on the event loop; the event is set at the next publish for the lot."""
        event = self._events.get(lot_id)
        if event is None:
            event = self._events[lot_id] = asyncio.Event()
        return event

    def generation(self, lot_id: int) -> int:
        """How many publishes for the lot this loop has seen: a read of the log that starts
        at generation g sees every event whose publish was among the first g."""
        return self._generations.get(lot_id, 0)

    def _wake_all(self) -> None:
        for lot_id in list(self._events):
            self._wake(lot_id)

    def _wake(self, lot_id: int) -> None:
        self._generations[lot_id] = self._generations.get(lot_id, 0) + 1
        event = self._events.pop(lot_id, None)
        if event is not None:
            event.set()
