"""The events this process has just committed, for its live streams to take without
reading the log (R-19c).

A follower (live/tail.py) woken by a commit of this process read that commit's events
back from the log before its streams saw them. When a hundred lots are decided together,
that read shares the interpreter with the deadline's burst of late bids, and the results
reached their watchers long after the commit. Now the commit hands its events here before
it wakes the followers, and a follower delivers the events that follow its newest ones
at once, then reads the log as before: the log stays the truth for what another process
wrote, and a run of events here is only ever taken from the one right after the
follower's newest, so nothing is skipped, twice sent or sent out of order. On PostgreSQL
the commit's own notification can wake the follower before the events are here; the lots
of a commit under way are marked (`committing`), and their followers wait for its publish
rather than read the log without them.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

PER_LOT = 64  # a follower further behind reads the log
LOTS = 4096  # lots remembered, the least recently committed to forgotten first


class Committed(NamedTuple):
    """An event as its transaction appended it to the lot's log (live.events)."""

    lot_id: int
    seq: int
    name: str
    data: dict[str, Any]
    at: datetime


class RecentEvents:
    """Safe to use from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lots: OrderedDict[int, dict[int, Committed]] = OrderedDict()
        self._committing: Counter[int] = Counter()

    def committing(self, lot_ids: Iterable[int]) -> None:
        """A transaction of this process that appended events to the lots commits now.
        PostgreSQL may deliver its notification to this process before the transaction
        has handed its events over (`add`); a stream woken by it waits for them
        (`is_committing`) instead of reading the log without them."""
        with self._lock:
            self._committing.update(lot_ids)

    def add(self, events: Iterable[Committed], lot_ids: Iterable[int]) -> None:
        """The events of a transaction that has committed, before its publish; the lots it
        marked as committing (`committing`) are no longer."""
        with self._lock:
            try:
                for event in events:
                    self._keep(event)
            finally:
                self._committed(lot_ids)

    def abandon(self, lot_ids: Iterable[int]) -> None:
        """The transaction that marked the lots as committing did not commit."""
        with self._lock:
            self._committed(lot_ids)

    def is_committing(self, lot_id: int) -> bool:
        with self._lock:
            return lot_id in self._committing

    def after(self, lot_id: int, seq: int) -> list[Committed]:
        """The lot's events seq + 1, seq + 2, … as far as they run unbroken here."""
        with self._lock:
            kept = self._lots.get(lot_id)
            found: list[Committed] = []
            while kept is not None and (event := kept.get(seq + len(found) + 1)) is not None:
                found.append(event)
            return found

    def _committed(self, lot_ids: Iterable[int]) -> None:
        self._committing.subtract(lot_ids)
        self._committing = +self._committing  # drops the lots at zero

    def _keep(self, event: Committed) -> None:
        kept = self._lots.get(event.lot_id)
        if kept is None:
            kept = self._lots[event.lot_id] = {}
            if len(self._lots) > LOTS:
                self._lots.popitem(last=False)
        else:
            self._lots.move_to_end(event.lot_id)
        kept[event.seq] = event
        if len(kept) > PER_LOT:
            del kept[min(kept)]
