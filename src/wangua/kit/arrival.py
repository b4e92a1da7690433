"""When a request has arrived (R-18), stamped by the HTTP protocol itself.

The application sees a request only when the event loop runs its task, and in a burst
the loop first reads every request that came in together and then runs the tasks one
by one, each as far as its first worker thread: the hundredth of a hundred bids sent
together would be stamped tens of milliseconds after it arrived. The protocol's
`data_received` runs for every connection with data before any task, so the stamp is
taken there, when the chunk that completes the request (its body included: nobody
holds a place with the headers and sends the amount later) is read off the socket.

The application may put a desk on its state (`app.state.arrival_desk`): it is shown each
complete request there and then, and may take the stamp itself, as the receipt of a bid
it enters in its lot's queue at that instant (bidding.submission.ReceiptDesk).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from wangua.kit.times import wall_now

RECEIVED_AT = "wangua.received_at"
Desk = Callable[[Any], float | None]
"""Shown a complete request's scope on arrival; returns the stamp it took, if it took one."""


class StampArrival:
    """Mixin for uvicorn's HTTP protocols: a complete request's scope state gets the wall
    time (`time.time()`) its last chunk was read, or the one its application's desk took
    then. Requests pipelined in one chunk before the last get none; their application
    stamps them itself."""

    cycle: Any
    app: Any

    def data_received(self, data: bytes) -> None:
        at = time.time()
        super().data_received(data)  # type: ignore[misc]
        cycle = self.cycle
        if cycle is None or cycle.more_body or RECEIVED_AT in cycle.scope["state"]:
            return
        desk = _desk(self.app)
        taken = None if desk is None else desk(cycle.scope)
        cycle.scope["state"][RECEIVED_AT] = at if taken is None else taken


def _desk(app: Any) -> Desk | None:
    """The desk of the application under uvicorn's wrappers, if it has one."""
    while not hasattr(app, "state") and hasattr(app, "app"):
        app = app.app
    return getattr(getattr(app, "state", None), "arrival_desk", None)


def arrived_at(scope: Any) -> float | None:
    """The stamp of a request's arrival, if its protocol took one."""
    state = scope.get("state")
    return None if state is None else state.get(RECEIVED_AT)


def arrival(scope: Any) -> datetime:
    """When the request arrived on the system clock: its stamp, else now (a request
    pipelined behind another, or one whose body is still to come, which then arrives
    later still)."""
    stamped = arrived_at(scope)
    return wall_now() if stamped is None else datetime.fromtimestamp(stamped, UTC)
