"""The newest events of each watched lot, read and rendered once per publish for every
stream of the process that shows them alike (R-19c at scale).

Without it, each SSE stream read the log itself after every wake: N watchers cost N
reads per event. Here one follower task per watched lot and view (the API's JSON, or the
board's HTML in one locale for one kind of viewer) waits for the lot's publishes, reads
what is new, renders it once and only then wakes the streams, which take the same
frames: a publish costs one read, one rendering and one wake per stream, however many
watchers. A stream that resumes from further back than the tail holds reads the log
itself, through the same reader.

Freshness is by the broadcaster's generation: the follower takes its waiter before it
reads, so a publish during the read (a commit the read may not see) sets the waiter and
is read next. When nothing is published for a heartbeat the follower wakes the streams
anyway, and each sends the feed's keep-alive: one timer per lot and view instead of one
per stream.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import weakref
from collections.abc import AsyncIterator, Callable, Hashable
from dataclasses import dataclass, field

from wangua.kit.lanes import LIVE
from wangua.lots.repository import get_lot
from wangua.runtime import Runtime

KEEP = 256  # frames kept per tail; a stream further behind reads the log itself
READ_LIMIT = 500  # events per read
RETRY_SECONDS = 1.0  # after a failed read (the database away)
COMMENT = b": keep-alive\n\n"
log = logging.getLogger(__name__)

Frames = list[tuple[int, str]]  # (seq, SSE text) as a feed renders them
Encoded = list[tuple[int, bytes]]  # as the tail keeps them: encoded once, not per stream


@dataclass(frozen=True)
class Feed:
    """What a kind of stream shows. `read(rt, lot_id, view, after, limit)` returns one
    frame (seq, text) per event after `after`, at most `limit`; `keep_alive(rt, view)`,
    if given, renders what an idle stream sends at each heartbeat (else a comment)."""

    read: Callable[[Runtime, int, Hashable, int, int], Frames]
    heartbeat: float
    keep_alive: Callable[[Runtime, Hashable], str] | None = None


@dataclass(eq=False)
class Tail:
    lot_id: int
    view: Hashable
    base: int  # the tail holds every event with seq > base up to its newest read
    frames: Encoded = field(default_factory=list)
    read_generation: int = -1  # the broadcaster generation when its newest read began
    users: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)  # set at the next pulse
    keep_alive: bytes = COMMENT
    follower: asyncio.Task[None] | None = None

    @property
    def last(self) -> int:
        return self.frames[-1][0] if self.frames else self.base

    def after(self, seq: int) -> Encoded:
        return self.frames[bisect.bisect_right(self.frames, seq, key=_seq) :]

    def pulse(self) -> None:
        """Wake every stream waiting on the tail: new frames, or a heartbeat."""
        changed, self.changed = self.changed, asyncio.Event()
        changed.set()


def _seq(frame: tuple[int, bytes]) -> int:
    return frame[0]


def _encoded(
    read: Callable[[Runtime, int, Hashable, int, int], Frames],
    rt: Runtime,
    lot_id: int,
    view: Hashable,
    after: int,
) -> Encoded:
    return [(seq, text.encode()) for seq, text in read(rt, lot_id, view, after, READ_LIMIT)]


def _require_lot(rt: Runtime, lot_id: int) -> None:
    with rt.read() as session:
        get_lot(session, lot_id)


class Tails:
    """One per runtime and feed, used on the event loop only."""

    def __init__(self, rt: Runtime, feed: Feed) -> None:
        self.rt = rt
        self.feed = feed
        self._tails: dict[tuple[int, Hashable], Tail] = {}
        self._known: set[int] = set()  # lots found to exist (a lot is never deleted)

    @property
    def watchers(self) -> int:
        return sum(t.users for t in self._tails.values())

    async def require_lot(self, lot_id: int) -> None:
        """404 LOT_NOT_FOUND unless the lot exists; asked of the database once per lot, so
        a storm of watchers connecting costs no read each."""
        if lot_id not in self._known:
            await LIVE.run(_require_lot, self.rt, lot_id)
            self._known.add(lot_id)

    async def stream(
        self, lot_id: int, after: int, view: Hashable = None, first: str = ""
    ) -> AsyncIterator[bytes]:
        """`first`, then the lot's frames after `after` as they come, and the keep-alive
        when idle.

        No polling for a disconnect: the response's own listener cancels the generator
        when the client leaves (or, on servers of ASGI spec 2.4, the next send fails)."""
        tail = self._open(lot_id, after, view)
        try:
            if first:
                yield first.encode()
            woken = False
            while True:
                changed = tail.changed  # before looking: a pulse after the look still wakes us
                frames = await self._frames_after(tail, after)
                if frames:
                    after = frames[-1][0]
                    yield frames[0][1] if len(frames) == 1 else b"".join(f for _, f in frames)
                elif woken:  # the tail's heartbeat
                    yield tail.keep_alive
                await changed.wait()
                woken = True
        finally:
            self._close(tail)

    def _open(self, lot_id: int, after: int, view: Hashable) -> Tail:
        """A stream starts at `after`; the first one of the lot and view starts the follower."""
        tail = self._tails.get((lot_id, view))
        if tail is None:
            tail = self._tails[lot_id, view] = Tail(lot_id, view, base=after)
            tail.follower = asyncio.get_running_loop().create_task(
                self._follow(tail), name=f"wangua-tail-{lot_id}"
            )
        tail.users += 1
        return tail

    def _close(self, tail: Tail) -> None:
        tail.users -= 1
        if tail.users <= 0:
            del self._tails[tail.lot_id, tail.view]
            if tail.follower is not None:
                tail.follower.cancel()

    async def _frames_after(self, tail: Tail, after: int) -> Encoded:
        """The frames after `after` the tail has read; from the log itself when `after` is
        behind what the tail keeps."""
        if after < tail.base:
            return await self._read(tail, after)
        return tail.after(after)

    async def _read(self, tail: Tail, after: int) -> Encoded:
        return await LIVE.run(_encoded, self.feed.read, self.rt, tail.lot_id, tail.view, after)

    async def _follow(self, tail: Tail) -> None:
        broadcaster = self.rt.broadcaster
        while True:
            waiter = broadcaster.waiter(tail.lot_id)  # before the read: a publish counts
            started = broadcaster.generation(tail.lot_id)
            if tail.read_generation < started:
                try:
                    frames = await self._read(tail, tail.last)
                except Exception:
                    log.exception("reading lot %s's events failed; retrying", tail.lot_id)
                    tail.pulse()  # the streams keep their connections alive meanwhile
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                if frames:
                    tail.frames.extend(frames)
                    if len(tail.frames) > KEEP:
                        tail.base = tail.frames[-KEEP - 1][0]
                        del tail.frames[:-KEEP]
                    tail.pulse()
                # a full page may leave more behind: read again at once
                tail.read_generation = started if len(frames) < READ_LIMIT else -1
                continue
            try:
                async with asyncio.timeout(self.feed.heartbeat):
                    await waiter.wait()
            except TimeoutError:
                await self._renew_keep_alive(tail)
                tail.pulse()

    async def _renew_keep_alive(self, tail: Tail) -> None:
        if self.feed.keep_alive is None:
            return
        try:
            text = await LIVE.run(self.feed.keep_alive, self.rt, tail.view)
            tail.keep_alive = text.encode()
        except Exception:
            log.exception("rendering lot %s's keep-alive failed", tail.lot_id)
            tail.keep_alive = COMMENT


_registry: weakref.WeakKeyDictionary[Runtime, dict[Feed, Tails]] = weakref.WeakKeyDictionary()


def tails(rt: Runtime, feed: Feed) -> Tails:
    """The process's shared tails of a feed."""
    shared = _registry.setdefault(rt, {})
    found = shared.get(feed)
    if found is None:
        found = shared[feed] = Tails(rt, feed)
    return found
