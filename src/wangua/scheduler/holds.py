"""A process's holds on lots it has requests for (R-25c, several processes).

Within a process, a lot's timers fire only up to the earliest request received for it and
not yet judged (bidding.receipts); other processes do not see that queue. So a process
holds each lot for which it has a request received before the lot's next closing timer
(the listing deadline, the inquiry's end, the countdown's end) and not yet judged: a
shared PostgreSQL advisory lock on the lot, on a connection of its own, taken by a thread
of its own as soon as the request has arrived and let go once every such request is
judged. Whoever fires a closing timer first takes the lot's lock exclusively for its
transaction, without waiting (scheduler.service): a lot held elsewhere is left for the
next try, and a lot being closed cannot be held meanwhile.

The timer grace (WANGUA_TIMER_GRACE_MS) then covers only the moment from a request's
arrival to its hold, not how long a burst keeps the request waiting for its judging: a
closing timer fires a grace after it is due, or, when a process holds its lot then,
once that process lets go. A request received after a closing timer never holds its lot
(it waits for the timer), and a lot is held only when its closing timer is near
(HORIZON), so the listing period's quotes cost no locks; its closing timer is read again
only RECHECK after the last look, so a run of bids costs one read.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from wangua.monitoring.metrics import LOT_HOLD_SECONDS
from wangua.runtime import Runtime
from wangua.scheduler.service import HOLD_KEY, closing_due

log = logging.getLogger(__name__)
HORIZON = timedelta(seconds=30)  # a lot is held only when its closing timer is this near
RECHECK = 0.25  # seconds between looks at a lot with requests here that it does not hold
IDLE = 1.0  # seconds between looks when nothing changes
_HOLD = (
    "SELECT lot_id FROM unnest(CAST(:lot_ids AS integer[])) AS lot_id"
    " WHERE pg_try_advisory_lock_shared(:key, lot_id)"
)
_LET_GO = (
    "SELECT pg_advisory_unlock_shared(:key, lot_id)"
    " FROM unnest(CAST(:lot_ids AS integer[])) AS lot_id"
)


class Holds:
    """This process's holds, each lot with the closing timer's due time it is held for."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._engine = create_engine(
            runtime.db.url,
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={"application_name": "wangua-holds"},
        )
        self._connection: Connection | None = None
        self._mutex = threading.Lock()
        self._held: dict[int, datetime] = {}
        self._looked: dict[int, float] = {}  # lot -> when it was last found to need no hold,
        # kept RECHECK seconds even when its requests are judged: a lot whose bids come one
        # after another is looked at once then, not at each bid
        self._changed = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="wangua-holds", daemon=True)

    @property
    def held(self) -> dict[int, datetime]:
        return dict(self._held)

    def start(self) -> None:
        self.runtime.receipts.on_change = self._changed.set
        self.runtime.let_go_holds = self.let_go
        self._thread.start()

    async def stop(self) -> None:
        self._stopping = True
        self._changed.set()
        await asyncio.to_thread(self._thread.join)
        self.runtime.receipts.on_change = lambda: None
        self.runtime.let_go_holds = lambda: None
        self.close()

    def close(self) -> None:
        with self._mutex:
            self._disconnect()
        self._engine.dispose()

    def _run(self) -> None:
        while not self._stopping:
            self._changed.clear()
            self.update()
            self._changed.wait(RECHECK if self._looked else IDLE)

    def update(self) -> None:
        """Hold each lot with a request here received before its next closing timer, due
        within HORIZON, and not yet judged; let go of the others."""
        self._apply(hold=True)

    def let_go(self) -> None:
        """Let go of the lots whose requests received before their closing timers are all
        judged, at once: this process is about to fire closing timers itself."""
        if self._held:
            self._apply(hold=False)

    def _apply(self, *, hold: bool) -> None:
        earliest = self.runtime.receipts.earliest_each()
        with self._mutex:
            try:
                self._let_go(earliest)
                if hold:
                    self._hold(earliest)
            except SQLAlchemyError:  # the server let go of them all with the connection
                log.exception("holding lots for their requests failed; connecting again")
                self._disconnect()

    def _let_go(self, earliest: dict[int, datetime]) -> None:
        done = [lot for lot, due in self._held.items() if not earliest.get(lot, due) < due]
        if done:
            self._lots(_LET_GO, done)
            for lot_id in done:
                del self._held[lot_id]
        now = time.monotonic()
        looked = self._looked
        for lot_id in [lot for lot, at in looked.items() if now - at >= RECHECK]:
            if lot_id not in earliest:
                del looked[lot_id]

    def _hold(self, earliest: dict[int, datetime]) -> None:
        now = time.monotonic()
        lots = [
            lot
            for lot in earliest
            if lot not in self._held and now - self._looked.get(lot, -RECHECK) >= RECHECK
        ]
        if not lots:
            return
        arrived = [lot for lot in lots if lot not in self._looked]  # since the last look
        due = closing_due(self._connect(), lots)
        near = self.runtime.now() + HORIZON
        wanted = [lot for lot in lots if lot in due and earliest[lot] < due[lot] <= near]
        held = set(self._lots(_HOLD, wanted)) if wanted else set()
        for lot_id in lots:
            if lot_id in held:
                self._held[lot_id] = due[lot_id]
            else:
                self._looked[lot_id] = now
        if held:  # how long after their arrival, on the server's clock: what the grace covers
            taken = self.runtime.now()
            for lot_id in held.intersection(arrived):
                LOT_HOLD_SECONDS.observe((taken - earliest[lot_id]).total_seconds())
        for lot_id in set(wanted) - held:
            log.warning(
                "lot %d is being closed by another process although this one has a request"
                " for it received before; raise WANGUA_TIMER_GRACE_MS",
                lot_id,
            )

    def _lots(self, statement: str, lot_ids: list[int]) -> list[int]:
        result = self._connect().execute(text(statement), {"lot_ids": lot_ids, "key": HOLD_KEY})
        return list(result.scalars())

    def _connect(self) -> Connection:
        if self._connection is None:
            self._connection = self._engine.connect()
        return self._connection

    def _disconnect(self) -> None:
        self._held.clear()
        self._looked.clear()
        if self._connection is not None:
            try:
                self._connection.close()
            except SQLAlchemyError:
                log.debug("closing the holds' connection failed", exc_info=True)
            self._connection = None
