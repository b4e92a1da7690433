"""Receipt at arrival (R-18, R-25c): a quote is received when it reaches the server.

Its turn at the lot's lock may come much later: in the burst of bids at a deadline every
request takes its share of one interpreter, and a bid that reached the server a few
milliseconds before the deadline used to be judged, and refused, seconds after it. So each
quote is stamped the moment it has arrived (by the HTTP protocol, kit.arrival) and keeps
its place in its lot's queue until it has been judged:

- the quotes to a lot are judged in the order they arrived: the locked judging of one
  waits until every quote that arrived before it has been judged (`Receipts.turn`), so a
  bid after the deadline is judged only after every bid before it, which may have
  restarted the countdown (R-25a), and receipt times rise with the quote sequence;
- the quotes waiting right behind the one whose turn has come may be judged with it, in
  one transaction, still in arrival order and each at its receipt time
  (`Receipts.take_along`, bidding.judging);
- a lot's timers fire only up to the earliest receipt still waiting
  (`scheduler.service.catch_up`), and the scheduler waits for the quotes received before
  a lot's timers are due (`Receipts.wait_judged`): a countdown never ends under a bid
  received before its end.

Writes received at or after the scheduler's next decisive moment (a countdown's end,
the listing deadline, the inquiry's end) wait, before anything else is done with them,
until the timers due then have fired (`Receipts.close_at`, `Receipts.after_closing`,
awaited by bidding.submission.ClosingHold).
None of them could be judged before those timers anyway, and with a burst of late bids
taking every turn at the interpreter each decision would otherwise wait for its share
between them: the results are out sooner, and the late bids to a decided lot are then
refused without its lock.

While the scheduler decides the lots due together that have no request to judge
(`Receipts.deciding`), no request starts its judging: the bids received just before a
common deadline for other lots would otherwise take most of the interpreter from the
decisions that every watcher of those lots waits for. They are judged right after, at
their receipt times, and the decisions wait for none of them.

The inquiry's answers (R-21, R-22) and proxy settings and cancellations (R-26) queue the
same way: the inquiry does not end under an answer received before its end, and a proxy
bids at its receipt.

A queue is the process's: quotes that reached different processes are ordered by the
lot's lock, and a process holds in the database each lot it has a request for received
before the lot's next closing timer, so no other process fires it meanwhile
(scheduler.holds).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from wangua.monitoring.metrics import QUOTES_WAITING

Waiters = list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]


@dataclass(eq=False)
class Receipt:
    """One quote received and not yet judged."""

    lot_id: int
    received_at: datetime
    judged: bool = False
    along: object | None = None
    """What the request asks to be judged by while it waits its turn, if the judging of
    the request before it may take it along (bidding.judging); None once taken."""
    _waiters: Waiters = field(default_factory=list)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _waiter(waiters: Waiters) -> asyncio.Future[None]:
    """A future of the running loop, added to `waiters` (under the caller's lock)."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    waiters.append((loop, future))
    return future


def _wake_all(waiters: Waiters) -> None:
    """Let every waiter go, from any thread (outside the caller's lock)."""
    for loop, future in waiters:
        if not loop.is_closed():
            loop.call_soon_threadsafe(_wake, future)


class Receipts:
    """The quotes this process has received, per lot, in arrival order, until judged."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._waiting: dict[int, list[Receipt]] = {}
        self._closing_at: datetime | None = None
        self._after_closing: Waiters = []
        self._deciding = False
        self._after_deciding: Waiters = []
        self.on_change: Callable[[], None] = lambda: None
        """Called when a request has arrived or been judged (scheduler.holds)."""

    def arrive(self, lot_id: int, received_at: datetime) -> Receipt:
        receipt = Receipt(lot_id, received_at)
        with self._changed:
            self._waiting.setdefault(lot_id, []).append(receipt)
        return self._arrived(receipt)

    def arrive_now(self, lot_id: int) -> Receipt:
        """A quote received now, on the system clock, read under the lock the scheduler
        reads the queues under: a quote received before a lot's timers were due is in the
        lot's queue by the time a pass looks whether it is settled (`settled`), since the
        pass read the time first."""
        with self._changed:
            receipt = Receipt(lot_id, datetime.fromtimestamp(time.time(), UTC))
            self._waiting.setdefault(lot_id, []).append(receipt)
        return self._arrived(receipt)

    def _arrived(self, receipt: Receipt) -> Receipt:
        QUOTES_WAITING.inc()
        self.on_change()
        return receipt

    def next_up(self, receipt: Receipt) -> bool:
        """Whether every quote to the lot that arrived before `receipt` is judged."""
        with self._changed:
            return self._waiting[receipt.lot_id][0] is receipt

    async def turn(self, receipt: Receipt) -> None:
        """Return once every quote to the lot that arrived before `receipt` is judged, or
        `receipt` itself is (taken along by an earlier one's judging, `take_along`)."""
        while True:
            with self._changed:
                if receipt.judged:
                    return
                ahead = self._waiting[receipt.lot_id][0]
                if ahead is receipt:
                    return
                future = _waiter(ahead._waiters)
            await future

    def take_along(self, receipt: Receipt, at_most: int) -> list[object]:
        """What the requests right behind `receipt` in its lot's queue, up to `at_most` of
        them, ask to be judged by (`Receipt.along`), in arrival order, up to the first
        that asks nothing; taken: the caller judges them, with `receipt`, which is
        next up."""
        with self._changed:
            queue = self._waiting[receipt.lot_id]
            assert queue[0] is receipt
            taken: list[object] = []
            for behind in queue[1 : at_most + 1]:
                if behind.along is None:
                    break
                taken.append(behind.along)
                behind.along = None
            return taken

    def judged(self, receipt: Receipt) -> None:
        """The quote is judged (or will never be: its request failed). Idempotent."""
        with self._changed:
            if receipt.judged:
                return
            receipt.judged = True
            queue = self._waiting[receipt.lot_id]
            queue.remove(receipt)
            if not queue:
                del self._waiting[receipt.lot_id]
            waiters, receipt._waiters = receipt._waiters, []
            self._changed.notify_all()
        QUOTES_WAITING.dec()
        self.on_change()
        _wake_all(waiters)

    def earliest(self, lot_id: int, besides: Collection[Receipt] = ()) -> datetime | None:
        """The earliest receipt time of a quote to the lot not yet judged, other than
        those `besides` (judged before it in one transaction, bidding.judging)."""
        with self._changed:
            times = [r.received_at for r in self._waiting.get(lot_id, ()) if r not in besides]
        return min(times, default=None)

    def earliest_each(self) -> dict[int, datetime]:
        """Each lot with a quote not yet judged, with the earliest receipt time of one."""
        with self._changed:
            return {
                lot_id: min(r.received_at for r in queue) for lot_id, queue in self._waiting.items()
            }

    def _settled(self, lot_id: int, before: datetime) -> bool:
        return all(r.received_at >= before for r in self._waiting.get(lot_id, ()))

    def settled(self, lot_id: int, before: datetime) -> bool:
        """Whether every quote to the lot received before `before` is judged."""
        with self._changed:
            return self._settled(lot_id, before)

    def wait_judged(self, lot_id: int, before: datetime, timeout: float) -> bool:
        """Block until every quote to the lot received before `before` is judged, or
        `timeout` seconds pass; say whether they all are."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._settled(lot_id, before):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def close_at(self, at: datetime | None) -> None:
        """The scheduler's next decisive moment: from `at` on, the timers that end a window
        of bidders' requests fire, and requests received at or after it wait
        (`after_closing`) until the pass that fires them calls `close_at` again. That pass
        waits only for requests received before its timers (`wait_judged`), never for
        these. None: nothing to wait for."""
        with self._changed:
            self._closing_at = at
            waiters, self._after_closing = self._after_closing, []
        _wake_all(waiters)

    async def after_closing(self, received_at: datetime) -> None:
        """Return at once, or, when a request received at `received_at` came at or after
        the scheduler's next decisive moment, once the timers due then have fired."""
        with self._changed:
            at = self._closing_at
            if at is None or received_at < at:
                return
            future = _waiter(self._after_closing)
        await future

    @contextmanager
    def deciding(self) -> Iterator[None]:
        """While the scheduler decides lots together, no request starts its judging
        (`not_deciding`): the requests' threads would take most of the interpreter from the
        decisions, which every watcher of those lots waits for. A request is judged at its
        receipt time whenever it is judged, and the decisions wait for none of them (they
        are of lots without requests to judge), so this changes no outcome."""
        with self._changed:
            self._deciding = True
        try:
            yield
        finally:
            with self._changed:
                self._deciding = False
                waiters, self._after_deciding = self._after_deciding, []
            _wake_all(waiters)

    async def not_deciding(self) -> None:
        """Return at once, or, while the scheduler decides lots together, once it has."""
        with self._changed:
            if not self._deciding:
                return
            future = _waiter(self._after_deciding)
        await future
