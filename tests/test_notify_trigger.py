"""R-19c across processes: appending an event to a lot's log notifies every listening
process, at commit and only then (trigger lot_events_notify, PostgreSQL)."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text

from tests.api.bidding_support import listing_lot
from tests.harness import Account, Stack
from wangua.live.notify import CHANNEL

ANOTHER_EVENT = text(
    "INSERT INTO lot_events (lot_id, seq, name, data, at) "
    "SELECT id, event_seq + 1, 'warning', '{}', now() FROM lots WHERE id = :lot"
)


class _RolledBack(Exception):
    pass


def _heard(listener: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    return [note.payload for note in listener.notifies(timeout=0.5, stop_after=10)]


def test_r19c_an_accepted_quote_notifies_listeners_once_it_commits(
    stack: Stack, staff: Account
) -> None:
    if stack.backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    lot, (bidder,), _ = listing_lot(stack, staff, 1)
    conninfo = stack.runtime.db.url.set(drivername="postgresql").render_as_string(
        hide_password=False
    )
    with psycopg.connect(conninfo, autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")
        assert _heard(listener) == []
        assert stack.quote(bidder, lot, lot["start_price"]).status_code == 201
        assert _heard(listener) == [str(lot["id"])]
        with pytest.raises(_RolledBack), stack.runtime.db.write_session() as session:
            session.execute(ANOTHER_EVENT, {"lot": lot["id"]})
            raise _RolledBack
        assert _heard(listener) == []
