"""Fan-out across processes: PostgreSQL LISTEN/NOTIFY behind the Broadcaster.

Appending an event to a lot's log sends `NOTIFY wangua_lot, '<lot id>'` (the database's
trigger lot_events_notify, so no writer can forget it and it costs no round trip of its
own); PostgreSQL delivers it when, and only if, the transaction commits, once per lot and
transaction. Each serving process listens on one connection and wakes its own SSE
streams, which then read the event log as usual, so order and gap-free resume come from
the log, never from the notification.
"""

from __future__ import annotations

import logging
import threading
import time

import psycopg

from wangua.live.broadcaster import LocalBroadcaster

CHANNEL = "wangua_lot"
LISTENER = "wangua-listen"
log = logging.getLogger(__name__)


class PostgresBroadcaster(LocalBroadcaster):
    """The local broadcaster, also woken by other processes' commits."""

    def __init__(self, conninfo: str) -> None:
        super().__init__()
        self.conninfo = conninfo
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._listen, name="wangua-listen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self.conninfo, autocommit=True, application_name=LISTENER
                ) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.publish_all()  # commits while no connection listened went unheard
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            if note.payload.isdigit():
                                self.publish(int(note.payload))
            except psycopg.Error:
                log.exception("LISTEN connection lost; reconnecting")
                time.sleep(1.0)
