"""The newest events of each watched lot, read and rendered once per publish for every
stream of the process that shows them alike (R-19c at scale).

Without it, each SSE stream read the log itself after every wake: N watchers cost N
reads per event. Here one follower task per watched lot and view (the API's JSON, or the
board's HTML in one locale for one kind of viewer) waits for the lot's publishes, reads
what is new, renders it once and only then wakes the streams, which take the same
frames: a publish costs one read, one rendering and one wake per stream, however many
watchers. A stream that resumes from further back than the tail holds reads the log
itself, through the same reader.

Streams are sinks: the follower writes what it has read to every stream of the tail
in one loop (with the server's direct body, kit.direct_body, straight to each
connection), so a publish wakes no task per watcher.

Reads are asked of one reader per feed, which reads everything asked meanwhile in one go
(`Feed.read` takes many positions): when a hundred lots are decided in one transaction,
their followers' reads are one or two trips to the log, not a hundred queued in the
lane. If such a read fails, each position is read again alone, so one lot's fault stays
its own.

Events this process has just committed come with its wake-up (live.recent): the
follower delivers those that follow its newest at once, before it reads the log, which
it then reads as always for anything else (another process's events).

Freshness is by the broadcaster's generation: the follower takes its waiter before it
reads, so a publish during the read (a commit the read may not see) sets the waiter and
is read next. When nothing is published for a heartbeat the follower writes the feed's
keep-alive to every stream: one timer per lot and view instead of one per stream.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import weakref
from collections.abc import AsyncIterator, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from wangua.kit.lanes import LIVE
from wangua.live.recent import Committed
from wangua.lots.repository import get_lot
from wangua.runtime import Runtime

KEEP = 256  # frames kept per tail; a stream further behind reads the log itself
READ_LIMIT = 500  # events per read
RETRY_SECONDS = 1.0  # after a failed read (the database away)
COMMENT = b": keep-alive\n\n"
log = logging.getLogger(__name__)

Frames = list[tuple[int, str]]  # (seq, SSE text) as a feed renders them
Encoded = list[tuple[int, bytes]]  # as the tail keeps them: encoded once, not per stream


class Position(NamedTuple):
    """Where a read starts: the lot's events after `after`, shown in `view`."""

    lot_id: int
    view: Hashable
    after: int


@dataclass(frozen=True)
class Feed:
    """What a kind of stream shows. `read(rt, positions, limit)` returns, for each
    position, one frame (seq, text) per event of the lot after `after`,
    at most `limit`; `keep_alive(rt, view)`, if given, renders what an idle stream sends
    at each heartbeat (else a comment); `render(events, view)`, if given, the frames of
    events just committed, exactly as `read` would return them, without the database."""

    read: Callable[[Runtime, Sequence[Position], int], list[Frames]]
    heartbeat: float
    keep_alive: Callable[[Runtime, Hashable], str] | None = None
    render: Callable[[Sequence[Committed], Hashable], Frames] | None = None


class Sink(Protocol):
    """Where a stream's frames go."""

    def write(self, data: bytes) -> bool:
        """Take `data`; False if the stream is gone (it is then written to no more)."""
        ...


@dataclass(eq=False)
class Tail:
    lot_id: int
    view: Hashable
    base: int  # the tail holds every event with seq > base up to its newest read
    frames: Encoded = field(default_factory=list)
    read_generation: int = -1  # the broadcaster generation when its newest read began
    users: int = 0
    sinks: dict[Sink, int] = field(default_factory=dict)  # each caught-up stream's last seq
    keep_alive: bytes = COMMENT
    follower: asyncio.Task[None] | None = None

    @property
    def last(self) -> int:
        return self.frames[-1][0] if self.frames else self.base

    def after(self, seq: int) -> Encoded:
        return self.frames[bisect.bisect_right(self.frames, seq, key=_seq) :]

    def deliver(self, frames: Encoded) -> None:
        """Write new frames to every caught-up stream: the same bytes to all of them, but
        to a stream that has some already (it resumed from an id beyond them)."""
        shared = b"".join(f for _, f in frames)
        first, last = frames[0][0], frames[-1][0]
        for sink, after in list(self.sinks.items()):
            data = shared if after < first else b"".join(f for s, f in frames if s > after)
            if data:
                self.sinks[sink] = last
                self._write(sink, data)

    def beat(self) -> None:
        """The heartbeat: every stream gets the keep-alive."""
        for sink in list(self.sinks):
            self._write(sink, self.keep_alive)

    def _write(self, sink: Sink, data: bytes) -> None:
        if not sink.write(data):
            self.sinks.pop(sink, None)


def _seq(frame: tuple[int, bytes]) -> int:
    return frame[0]


def _encoded(
    read: Callable[[Runtime, Sequence[Position], int], list[Frames]],
    rt: Runtime,
    positions: Sequence[Position],
) -> list[Encoded]:
    return [
        [(seq, text.encode()) for seq, text in frames] for frames in read(rt, positions, READ_LIMIT)
    ]


@dataclass(eq=False)
class _Asked:
    position: Position
    answer: asyncio.Future[Encoded]


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
        self._asked: list[_Asked] = []
        self._reader: asyncio.Task[None] | None = None

    @property
    def watchers(self) -> int:
        return sum(t.users for t in self._tails.values())

    async def require_lot(self, lot_id: int) -> None:
        """404 LOT_NOT_FOUND unless the lot exists; asked of the database once per lot, so
        a storm of watchers connecting costs no read each."""
        if lot_id not in self._known:
            await LIVE.run(_require_lot, self.rt, lot_id)
            self._known.add(lot_id)

    @asynccontextmanager
    async def watching(
        self, sink: Sink, lot_id: int, after: int, view: Hashable = None, first: str = ""
    ) -> AsyncIterator[None]:
        """While open, `sink` gets `first`, then the lot's frames after `after` as they
        come, and the keep-alive when idle. A stream from further back than the tail holds
        reads the log itself until it has caught up with the tail."""
        tail = self._open(lot_id, after, view)
        try:
            if first:
                sink.write(first.encode())
            while after < tail.base:
                frames = await self._read(Position(tail.lot_id, tail.view, after))
                if not frames:
                    break
                sink.write(b"".join(f for _, f in frames))
                after = frames[-1][0]
            frames = tail.after(after)  # from here to joining the tail, nothing awaits
            if frames:
                sink.write(b"".join(f for _, f in frames))
                after = frames[-1][0]
            tail.sinks[sink] = after
            yield
        finally:
            tail.sinks.pop(sink, None)
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

    async def _read(self, position: Position) -> Encoded:
        """The frames after a position, read with every other position asked meanwhile."""
        answer: asyncio.Future[Encoded] = asyncio.get_running_loop().create_future()
        self._asked.append(_Asked(position, answer))
        if self._reader is None:
            self._reader = asyncio.get_running_loop().create_task(
                self._read_asked(), name="wangua-tail-reader"
            )
        return await answer

    async def _read_asked(self) -> None:
        try:
            while self._asked:
                asked, self._asked = self._asked, []
                await self._answer([one for one in asked if not one.answer.done()])
        finally:
            self._reader = None

    async def _answer(self, asked: list[_Asked]) -> None:
        """Read the positions in one go; if that fails, each alone, so a failure is
        answered only to the positions it belongs to."""
        if not asked:
            return
        try:
            read = await LIVE.run(_encoded, self.feed.read, self.rt, [a.position for a in asked])
        except Exception as failure:
            if len(asked) > 1:
                for one in asked:
                    await self._answer([one])
            elif not asked[0].answer.done():
                asked[0].answer.set_exception(failure)
            return
        for one, frames in zip(asked, read, strict=True):
            if not one.answer.done():  # else its stream has gone meanwhile
                one.answer.set_result(frames)

    async def _follow(self, tail: Tail) -> None:
        broadcaster, recent = self.rt.broadcaster, self.rt.recent_events
        while True:
            waiter = broadcaster.waiter(tail.lot_id)  # before the read: a publish counts
            started = broadcaster.generation(tail.lot_id)
            if tail.read_generation < started:
                self._take(tail, self._just_committed(tail))
            # a commit of this process under way publishes once its events are here
            if tail.read_generation < started and not recent.is_committing(tail.lot_id):
                try:
                    frames = await self._read(Position(tail.lot_id, tail.view, tail.last))
                except Exception:
                    log.exception("reading lot %s's events failed; retrying", tail.lot_id)
                    tail.beat()  # the streams keep their connections alive meanwhile
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                self._take(tail, frames)
                # a full page may leave more behind: read again at once
                tail.read_generation = started if len(frames) < READ_LIMIT else -1
                continue
            try:
                async with asyncio.timeout(self.feed.heartbeat):
                    await waiter.wait()
            except TimeoutError:
                await self._renew_keep_alive(tail)
                tail.beat()

    def _just_committed(self, tail: Tail) -> Encoded:
        """The frames of the events this process committed right after the tail's newest."""
        if self.feed.render is None:
            return []
        events = self.rt.recent_events.after(tail.lot_id, tail.last)
        return [(seq, text.encode()) for seq, text in self.feed.render(events, tail.view)]

    @staticmethod
    def _take(tail: Tail, frames: Encoded) -> None:
        """Keep the frames that follow the tail's newest and write them to its streams."""
        if not frames:
            return
        tail.frames.extend(frames)
        if len(tail.frames) > KEEP:
            tail.base = tail.frames[-KEEP - 1][0]
            del tail.frames[:-KEEP]
        tail.deliver(frames)

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
