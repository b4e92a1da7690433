"""The newest events of each watched lot, read once per publish for every stream of the
process (R-19c at scale).

Without it, each SSE stream read the log itself after every wake: N watchers cost N
reads per event. Here one follower task per watched lot waits for the lot's publishes,
reads what is new, renders it once and only then wakes the lot's streams, which take the
same frames: a publish costs one read, one serialisation and one wake per stream, however
many watchers. A stream that resumes from further back than the tail holds reads the log
itself, as before.

Freshness is by the broadcaster's generation: the follower takes its waiter before it
reads, so a publish during the read (a commit the read may not see) sets the waiter and
is read next. When nothing is published for a heartbeat the follower wakes the streams
anyway, and each sends a keep-alive: one timer per lot instead of one per stream.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from wangua.kit.lanes import LIVE
from wangua.live.events import events_after
from wangua.live.models import LotEvent
from wangua.lots.repository import get_lot
from wangua.runtime import Runtime

KEEP = 256  # frames kept per lot; a stream further behind reads the log itself
READ_LIMIT = 500  # events_after's page size
RETRY_SECONDS = 1.0  # after a failed read (the database away)
log = logging.getLogger(__name__)


@dataclass
class Tail:
    base: int  # the tail holds every event with seq > base up to its newest read
    frames: list[tuple[int, str]] = field(default_factory=list)
    read_generation: int = -1  # the broadcaster generation when its newest read began
    users: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)  # set at the next pulse
    follower: asyncio.Task[None] | None = None

    @property
    def last(self) -> int:
        return self.frames[-1][0] if self.frames else self.base

    def after(self, seq: int) -> list[tuple[int, str]]:
        return self.frames[bisect.bisect_right(self.frames, seq, key=_seq) :]

    def pulse(self) -> None:
        """Wake every stream waiting on the tail: new frames, or a heartbeat."""
        changed, self.changed = self.changed, asyncio.Event()
        changed.set()


def _seq(frame: tuple[int, str]) -> int:
    return frame[0]


def _read(rt: Runtime, lot_id: int, after: int) -> list[LotEvent]:
    with rt.read() as session:
        return events_after(session, lot_id, after, READ_LIMIT)


def _require_lot(rt: Runtime, lot_id: int) -> None:
    with rt.read() as session:
        get_lot(session, lot_id)


class Tails:
    """One per runtime, used on the event loop only."""

    def __init__(self, rt: Runtime, render: Callable[[LotEvent], str], heartbeat: float) -> None:
        self.rt = rt
        self.render = render
        self.heartbeat = heartbeat
        self._tails: dict[int, Tail] = {}
        self._known: set[int] = set()  # lots found to exist (a lot is never deleted)

    async def require_lot(self, lot_id: int) -> None:
        """404 LOT_NOT_FOUND unless the lot exists; asked of the database once per lot, so
        a storm of watchers connecting costs no read each."""
        if lot_id not in self._known:
            await LIVE.run(_require_lot, self.rt, lot_id)
            self._known.add(lot_id)

    def open(self, lot_id: int, after: int) -> Tail:
        """A stream of the lot starts at `after`; the first one starts the lot's follower."""
        tail = self._tails.get(lot_id)
        if tail is None:
            tail = self._tails[lot_id] = Tail(base=after)
            tail.follower = asyncio.get_running_loop().create_task(
                self._follow(lot_id, tail), name=f"wangua-tail-{lot_id}"
            )
        tail.users += 1
        return tail

    def close(self, lot_id: int) -> None:
        tail = self._tails.get(lot_id)
        if tail is not None:
            tail.users -= 1
            if tail.users <= 0:
                del self._tails[lot_id]
                if tail.follower is not None:
                    tail.follower.cancel()

    async def frames_after(self, tail: Tail, lot_id: int, after: int) -> list[tuple[int, str]]:
        """Frames (seq, text) of the events after `after` that the tail has read; from the
        log itself when `after` is behind what the tail keeps."""
        if after < tail.base:
            events = await LIVE.run(_read, self.rt, lot_id, after)
            return [(e.seq, self.render(e)) for e in events]
        return tail.after(after)

    async def _follow(self, lot_id: int, tail: Tail) -> None:
        broadcaster = self.rt.broadcaster
        while True:
            waiter = broadcaster.waiter(lot_id)  # before the read: a publish during it counts
            started = broadcaster.generation(lot_id)
            if tail.read_generation < started:
                try:
                    events = await LIVE.run(_read, self.rt, lot_id, tail.last)
                except Exception:
                    log.exception("reading lot %s's events failed; retrying", lot_id)
                    tail.pulse()  # the streams keep their connections alive meanwhile
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                if events:
                    tail.frames.extend((e.seq, self.render(e)) for e in events)
                    if len(tail.frames) > KEEP:
                        tail.base = tail.frames[-KEEP - 1][0]
                        del tail.frames[:-KEEP]
                    tail.pulse()
                # a full page may leave more behind: read again at once
                tail.read_generation = started if len(events) < READ_LIMIT else -1
                continue
            try:
                async with asyncio.timeout(self.heartbeat):
                    await waiter.wait()
            except TimeoutError:
                tail.pulse()
