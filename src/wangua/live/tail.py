"""The newest events of each watched lot, read once per publish for every stream of the
process (R-19c at scale).

Without it, each SSE stream read the log itself after every wake: N watchers cost N
reads per event. Here the first stream woken for a lot reads what is new and the others
take the same frames, so a publish costs one read and one serialisation per process,
however many watchers. A stream that resumes from further back than the tail holds reads
the log itself, as before. Freshness is by the broadcaster's generation: a stream that
took its waiter at generation g needs a read that started at g or later (every commit
published by then is visible to it), and a later publish sets the waiter.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool

from wangua.live.events import events_after
from wangua.live.models import LotEvent
from wangua.runtime import Runtime

KEEP = 256  # frames kept per lot; a stream further behind reads the log itself
READ_LIMIT = 500  # events_after's page size


@dataclass
class Tail:
    base: int  # the tail holds every event with seq > base up to its newest read
    frames: list[tuple[int, str]] = field(default_factory=list)
    read_generation: int = -1  # the broadcaster generation when its newest read began
    users: int = 0
    reading: asyncio.Future[None] | None = None  # the read under way, if any

    @property
    def last(self) -> int:
        return self.frames[-1][0] if self.frames else self.base

    def after(self, seq: int) -> list[tuple[int, str]]:
        return self.frames[bisect.bisect_right(self.frames, seq, key=_seq) :]


def _seq(frame: tuple[int, str]) -> int:
    return frame[0]


def _read(rt: Runtime, lot_id: int, after: int) -> list[LotEvent]:
    with rt.read() as session:
        return events_after(session, lot_id, after, READ_LIMIT)


class Tails:
    """One per runtime, used on the event loop only."""

    def __init__(self, rt: Runtime, render: Callable[[LotEvent], str]) -> None:
        self.rt = rt
        self.render = render
        self._tails: dict[int, Tail] = {}

    def open(self, lot_id: int, after: int) -> None:
        tail = self._tails.get(lot_id)
        if tail is None:
            tail = self._tails[lot_id] = Tail(base=after)
        tail.users += 1

    def close(self, lot_id: int) -> None:
        tail = self._tails.get(lot_id)
        if tail is not None:
            tail.users -= 1
            if tail.users <= 0:
                del self._tails[lot_id]

    async def frames_after(self, lot_id: int, after: int, generation: int) -> list[tuple[int, str]]:
        """Frames (seq, text) of the events after `after`, at least as fresh as a read
        started at `generation`. Call open() first."""
        tail = self._tails[lot_id]
        if after < tail.base:  # behind the tail: read the log directly
            events = await run_in_threadpool(_read, self.rt, lot_id, after)
            return [(e.seq, self.render(e)) for e in events]
        while tail.read_generation < generation:
            if tail.reading is not None:  # a read is under way: every waiter wakes with it
                await asyncio.shield(tail.reading)
                continue
            tail.reading = asyncio.get_running_loop().create_future()
            started = self.rt.broadcaster.generation(lot_id)
            try:
                events = await run_in_threadpool(_read, self.rt, lot_id, tail.last)
                tail.frames.extend((e.seq, self.render(e)) for e in events)
                if len(tail.frames) > KEEP:
                    tail.base = tail.frames[-KEEP - 1][0]
                    del tail.frames[:-KEEP]
                # a full page may leave more behind: read again next time
                tail.read_generation = started if len(events) < READ_LIMIT else -1
            finally:
                tail.reading.set_result(None)
                tail.reading = None
            if tail.read_generation < 0:
                break
        if after < tail.base:
            return await self.frames_after(lot_id, after, generation)
        return tail.after(after)
