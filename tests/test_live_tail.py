"""The shared tail of the event log: many SSE watchers of one lot get every event, in
order, exactly once, and a publish costs one read of the log per process, not one per
watcher; a watcher resuming from further back still gets everything."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import Stack, running_stack
from wangua.live import tail

WATCHERS = 12
QUOTES = 6


@pytest.fixture
def primary(tmp_path: Path) -> Iterator[Stack]:
    with running_stack("sqlite", tmp_path) as stack:
        yield stack


def _watch(url: str, lot_id: int, after: int, want: int, out: list[int]) -> None:
    headers = {"Last-Event-ID": str(after)}
    with (
        httpx.Client(base_url=url, timeout=httpx.Timeout(5, read=30)) as client,
        client.stream("GET", f"/api/v1/lots/{lot_id}/events", headers=headers) as response,
    ):
        name, seq = "", 0
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("id: "):
                seq = int(line[4:])
            elif line.startswith("data: ") and name == "quote":
                out.append(seq)
                if len(out) == want:
                    return


def test_many_watchers_share_one_read_per_publish(
    primary: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = primary.account("staff", "xianning-city")
    lot = primary.published_lot(staff)
    first, second = primary.bidder(), primary.bidder()
    primary.qualified(first, lot)
    primary.qualified(second, lot)
    primary.advance_to(lot["listing_start"])
    start = primary.lot(lot["id"])
    reads: list[int] = []
    original = tail._read

    def counting(rt: object, lot_id: int, since: int) -> object:
        reads.append(since)
        return original(rt, lot_id, since)  # type: ignore[arg-type]

    monkeypatch.setattr(tail, "_read", counting)
    seen: list[list[int]] = [[] for _ in range(WATCHERS + 1)]
    last_event = _last_event(primary, lot["id"])
    threads = [
        threading.Thread(
            target=_watch, args=(primary.url, lot["id"], last_event, QUOTES, seen[i]), daemon=True
        )
        for i in range(WATCHERS)
    ]
    for t in threads:
        t.start()
    _wait_for_streams(primary, WATCHERS)
    amount = int(start["start_price"].split(".")[0])
    increment = int(start["increment"].split(".")[0])
    for i in range(QUOTES):
        bidder = first if i % 2 == 0 else second
        response = primary.quote(bidder, lot, f"{amount + i * increment}.00")
        assert response.status_code == 201, response.text
    for t in threads:
        t.join(30)
        assert not t.is_alive()
    quote_seqs = seen[0]
    assert len(quote_seqs) == QUOTES and quote_seqs == sorted(quote_seqs)
    assert all(s == quote_seqs for s in seen[:WATCHERS])
    # one read per publish (plus the first), shared by every watcher; never one per watcher
    assert len(reads) <= 2 * (QUOTES + 1) < WATCHERS * QUOTES

    # A watcher from the very beginning, behind anything the tail keeps, misses nothing.
    _watch(primary.url, lot["id"], 0, QUOTES, seen[WATCHERS])
    assert seen[WATCHERS] == quote_seqs


def _last_event(stack: Stack, lot_id: int) -> int:
    with stack.runtime.read() as session:
        from sqlalchemy import func, select

        from wangua.live.models import LotEvent

        return int(
            session.scalar(select(func.max(LotEvent.seq)).where(LotEvent.lot_id == lot_id)) or 0
        )


def _wait_for_streams(stack: Stack, count: int) -> None:
    import time

    from wangua.live.api import tails

    deadline = time.monotonic() + 20
    shared = tails(stack.runtime)
    while time.monotonic() < deadline:
        if sum(t.users for t in shared._tails.values()) >= count:
            return
        time.sleep(0.05)
    raise AssertionError("the watchers did not connect")


def test_an_idle_lot_keeps_its_watchers_alive(
    primary: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With nothing published, the lot's heartbeat (one timer per lot, not per stream)
    makes every stream send a keep-alive comment, so proxies keep the connection."""
    from wangua.live import api

    monkeypatch.setattr(api, "HEARTBEAT_SECONDS", 0.2)
    staff = primary.account("staff", "xianning-city")
    lot = primary.published_lot(staff)
    kept: list[int] = []

    def watch(i: int) -> None:
        with (
            httpx.Client(base_url=primary.url, timeout=httpx.Timeout(5, read=10)) as client,
            client.stream("GET", f"/api/v1/lots/{lot['id']}/events") as response,
        ):
            seen = 0
            for line in response.iter_lines():
                if line == ": keep-alive":
                    seen += 1
                    if seen == 2:
                        kept.append(i)
                        return

    threads = [threading.Thread(target=watch, args=(i,), daemon=True) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert sorted(kept) == [0, 1, 2]
