"""Across processes (PostgreSQL LISTEN/NOTIFY): when the listening connection is lost,
commits made meanwhile are never heard; after reconnecting, every watcher re-reads its
lot's log so none waits for the next event to catch up (R-19c)."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from tests.harness import PG_ADMIN_URL, postgres_available
from wangua.live.notify import LISTENER, PostgresBroadcaster


def _listener_pids() -> list[int]:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (LISTENER,)
        ).fetchall()
    return [row[0] for row in rows]


async def _until(condition: object, seconds: float) -> bool:
    for _ in range(int(seconds / 0.05)):
        if callable(condition) and condition():
            return True
        await asyncio.sleep(0.05)
    return False


def test_r19c_watchers_re_read_after_the_listen_connection_comes_back() -> None:
    if not postgres_available():
        pytest.skip("PostgreSQL is not reachable here")

    async def scenario() -> None:
        broadcaster = PostgresBroadcaster(PG_ADMIN_URL)
        broadcaster.bind(asyncio.get_running_loop())
        before = set(_listener_pids())
        broadcaster.start()
        try:
            assert await _until(lambda: set(_listener_pids()) - before, 10)
            mine = set(_listener_pids()) - before
            await asyncio.sleep(0.5)  # past the first connection's own wake-up
            waiter = broadcaster.waiter(7)
            await asyncio.sleep(0.2)
            assert not waiter.is_set(), "nothing was published"
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                for pid in mine:
                    conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
            assert await _until(waiter.is_set, 10), "woken after the reconnect"
            assert broadcaster.generation(7) == 1
        finally:
            broadcaster.stop()

    asyncio.run(scenario())
