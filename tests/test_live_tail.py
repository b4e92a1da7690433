"""The shared tail of the event log: many SSE watchers of one lot get every event, in
order, exactly once, and a publish costs one read of the log per process, not one per
watcher; a watcher resuming from further back still gets everything."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Hashable, Iterator, Sequence
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.bidding_support import listing_lot
from tests.harness import Stack, captured_logs, running_stack
from wangua.kit import direct_body
from wangua.live import api, tail
from wangua.live.events import emit_all
from wangua.live.recent import Committed
from wangua.live.tail import Feed, Frames, Position
from wangua.lots.repository import try_lock_lots
from wangua.runtime import Runtime

WATCHERS = 12
QUOTES = 6


@pytest.fixture
def primary(tmp_path: Path) -> Iterator[Stack]:
    with running_stack("sqlite", tmp_path) as stack:
        yield stack


def _count_reads(
    monkeypatch: pytest.MonkeyPatch, module: Any, feed: str
) -> list[tuple[Hashable, int]]:
    """Swap the module's feed for one whose reader records (view, after) of each read."""
    shown: Feed = getattr(module, feed)
    reads: list[tuple[Hashable, int]] = []

    def counting(rt: Runtime, positions: Sequence[Position], limit: int) -> list[Frames]:
        reads.extend((p.view, p.after) for p in positions)
        return shown.read(rt, positions, limit)

    monkeypatch.setattr(module, feed, replace(shown, read=counting))
    return reads


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
    """On `wangua serve`'s protocol the tail writes each event to every connection itself
    (kit.direct_body)."""
    _many_watchers_share_one_read_per_publish(primary, monkeypatch)


def test_served_without_direct_body_watchers_get_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Served by plain uvicorn (as behind TLS with client certificates), each response
    sends what the tail gives it through ASGI: the same frames, in order, as shared."""
    with running_stack("sqlite", tmp_path, http="httptools") as plain:
        _many_watchers_share_one_read_per_publish(plain, monkeypatch)


def _many_watchers_share_one_read_per_publish(
    primary: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    lot, (first, second), _ = listing_lot(primary, primary.account("staff", "xianning-city"), 2)
    start = primary.lot(lot["id"])
    reads = _count_reads(monkeypatch, api, "EVENTS")
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


def test_r19c_a_watcher_that_stops_reading_is_let_go_and_resumes(
    primary: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A watcher whose connection holds more than LAG_LIMIT unsent bytes is dropped, not
    buffered without end; the others get every event, and a watcher resuming from where
    the dropped one was misses nothing."""
    monkeypatch.setattr(direct_body, "LAG_LIMIT", 64 * 1024)
    shown = api.EVENTS

    def padded(rt: Runtime, positions: Sequence[Position], limit: int) -> list[Frames]:
        """Each event followed by a 1 MiB comment: a few fill the sockets' buffers (about
        3 MB on loopback), then the connection's own."""
        return [
            [(seq, text + ": " + "x" * (1 << 20) + "\n\n") for seq, text in frames]
            for frames in shown.read(rt, positions, limit)
        ]

    def padded_render(events: Sequence[Committed], view: Hashable) -> Frames:
        assert shown.render is not None
        return [
            (seq, text + ": " + "x" * (1 << 20) + "\n\n")
            for seq, text in shown.render(events, view)
        ]

    monkeypatch.setattr(api, "EVENTS", replace(shown, read=padded, render=padded_render))
    lot, (first, second), _ = listing_lot(primary, primary.account("staff", "xianning-city"), 2)
    start = primary.lot(lot["id"])
    last_event = _last_event(primary, lot["id"])
    port = int(primary.url.rsplit(":", 1)[1])
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(("127.0.0.1", port))
    stalled.sendall(
        f"GET /api/v1/lots/{lot['id']}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Last-Event-ID: {last_event}\r\n\r\n".encode()
    )
    reading: list[int] = []
    reader = threading.Thread(
        target=_watch, args=(primary.url, lot["id"], last_event, QUOTES, reading), daemon=True
    )
    reader.start()
    _wait_for_streams(primary, 2)
    amount = int(start["start_price"].split(".")[0])
    increment = int(start["increment"].split(".")[0])
    for i in range(QUOTES):
        bidder = first if i % 2 == 0 else second
        assert primary.quote(bidder, lot, f"{amount + i * increment}.00").status_code == 201
    reader.join(30)
    assert len(reading) == QUOTES

    shared = tail.tails(primary.runtime, api.EVENTS)
    deadline = time.monotonic() + 10
    while shared.watchers > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert shared.watchers == 0, "the stalled watcher is still held"
    stalled.settimeout(10)  # a connection still held would time out here
    with suppress(ConnectionResetError):
        while stalled.recv(1 << 16):
            pass
    stalled.close()

    resumed: list[int] = []
    _watch(primary.url, lot["id"], last_event, QUOTES, resumed)
    assert resumed == reading


def _last_event(stack: Stack, lot_id: int) -> int:
    with stack.runtime.read() as session:
        from sqlalchemy import func, select

        from wangua.live.models import LotEvent

        return int(
            session.scalar(select(func.max(LotEvent.seq)).where(LotEvent.lot_id == lot_id)) or 0
        )


def _wait_for_streams(stack: Stack, count: int) -> None:
    deadline = time.monotonic() + 20
    shared = tail.tails(stack.runtime, api.EVENTS)
    while time.monotonic() < deadline:
        if shared.watchers >= count:
            return
        time.sleep(0.05)
    raise AssertionError("the watchers did not connect")


def test_an_idle_lot_keeps_its_watchers_alive(
    primary: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With nothing published, the lot's heartbeat (one timer per lot, not per stream)
    makes every stream send a keep-alive comment, so proxies keep the connection."""
    monkeypatch.setattr(api, "EVENTS", replace(api.EVENTS, heartbeat=0.2))
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


def _watch_board(client: httpx.Client, lot_id: int, after: int, want: int, out: list[str]) -> None:
    """The HTML board stream: collects each quote row until `want` arrived."""
    headers = {"Last-Event-ID": str(after)}
    with client.stream("GET", f"/lots/{lot_id}/live", headers=headers, timeout=30) as response:
        name, data = "", []
        for line in response.iter_lines():
            if line.startswith("event: "):
                name, data = line[7:], []
            elif line.startswith("data: "):
                data.append(line[6:])
            elif line == "" and name == "quote":
                out.append("\n".join(data))
                name = ""
                if len(out) == want:
                    return


def test_r19c_board_watchers_share_one_rendering_per_language_and_bidder(
    primary: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The browser's board (HTML fragments) is rendered once per publish for all who read
    the same language and are not bidders of the lot; a bidder's own rows are marked in
    that bidder's stream only, and an English reader gets English."""
    from tests.pages.support import browser, signed_in, text_of
    from wangua.pages import board

    lot, (first, second), _ = listing_lot(primary, primary.account("staff", "xianning-city"), 2)
    start = primary.lot(lot["id"])
    reads = _count_reads(monkeypatch, board, "BOARD")
    english = browser(primary)
    english.cookies.set("lang", "en")
    clients = [browser(primary) for _ in range(WATCHERS)] + [english, signed_in(primary, first)]
    rows: list[list[str]] = [[] for _ in clients]
    last_event = _last_event(primary, lot["id"])
    threads = [
        threading.Thread(
            target=_watch_board, args=(c, lot["id"], last_event, QUOTES, rows[i]), daemon=True
        )
        for i, c in enumerate(clients)
    ]
    for t in threads:
        t.start()
    shared = tail.tails(primary.runtime, board.BOARD)
    deadline = time.monotonic() + 20
    while shared.watchers < len(clients) and time.monotonic() < deadline:
        time.sleep(0.05)
    amount = int(start["start_price"].split(".")[0])
    increment = int(start["increment"].split(".")[0])
    for i in range(QUOTES):
        response = primary.quote(
            first if i % 2 == 0 else second, lot, f"{amount + i * increment}.00"
        )
        assert response.status_code == 201, response.text
    for t in threads:
        t.join(30)
        assert not t.is_alive()
    public, own = rows[0], rows[-1]
    assert len(public) == QUOTES and all(r == public for r in rows[:WATCHERS])
    assert not any('class="mine"' in row for row in public)
    assert [('class="mine"' in row) for row in own] == [i % 2 == 0 for i in range(QUOTES)]
    assert "挂牌报价" in text_of(public[0])
    assert "Listing quote" in text_of(rows[WATCHERS][0])
    # one read per publish (plus the first) for each of the three views, never per watcher
    assert len({view for view, _ in reads}) == 3
    assert len(reads) <= 3 * 2 * (QUOTES + 1) < WATCHERS * QUOTES


def _watch_for(url: str, lot_id: int, after: int, name: str, out: dict[int, int]) -> None:
    """Record the `lot` field of the lot's first event named `name` after `after`."""
    with (
        httpx.Client(base_url=url, timeout=httpx.Timeout(5, read=30)) as client,
        client.stream(
            "GET", f"/api/v1/lots/{lot_id}/events", headers={"Last-Event-ID": str(after)}
        ) as response,
    ):
        seen = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                seen = line[7:]
            elif line.startswith("data: ") and seen == name:
                out[lot_id] = json.loads(line[6:])["lot"]
                return


def _published_together(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, lots: int, failing: int | None = None
) -> tuple[list[int], dict[int, int], list[list[int]]]:
    """Watch `lots` lots, then append a warning to each in one transaction, as to lots
    decided together by another process: its events are known here only by reading the
    log (live.recent holds this process's own). Returns the lots, what their watchers got
    (each warning's `lot`), and the lots of each read of the log after the watchers caught
    up; every read that includes the lot at index `failing` raises."""
    staff = stack.account("staff", "xianning-city")
    lot_ids = [stack.published_lot(staff)["id"] for _ in range(lots)]
    afters = {lot_id: _last_event(stack, lot_id) for lot_id in lot_ids}
    unreadable = None if failing is None else lot_ids[failing]
    shown = api.EVENTS
    reads: list[list[int]] = []

    def recorded(rt: Runtime, positions: Sequence[Position], limit: int) -> list[Frames]:
        reads.append([p.lot_id for p in positions])
        if unreadable in reads[-1]:
            raise RuntimeError("the log cannot be read for this lot")
        return shown.read(rt, positions, limit)

    got: dict[int, int] = {}
    threads = [
        threading.Thread(
            target=_watch_for, args=(stack.url, lot_id, afters[lot_id], "warning", got), daemon=True
        )
        for lot_id in lot_ids
    ]
    for t in threads:
        t.start()
    _wait_for_streams(stack, lots)
    time.sleep(0.3)  # every follower has read its lot's log once and waits
    shared = tail.tails(stack.runtime, api.EVENTS)
    monkeypatch.setattr(shared, "feed", replace(shown, read=recorded, render=None))
    with stack.runtime.work() as work:
        locked = try_lock_lots(work, lot_ids)
        emit_all(work, [(lot, "warning", {"lot": lot.id}) for lot in locked])
    for lot_id, t in zip(lot_ids, threads, strict=True):
        t.join(3 if lot_id == unreadable else 30)
    return lot_ids, got, reads


def test_r19c_lots_published_together_are_read_together(
    primary: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight lots' events committed in one transaction reach each lot's watchers, and the
    eight followers' reads of the log are answered together (in one read, or a few when
    publishes reach the event loop while a read is under way), not one by one."""
    lot_ids, got, reads = _published_together(primary, monkeypatch, 8)
    assert got == {lot_id: lot_id for lot_id in lot_ids}
    assert sorted(lot for read in reads for lot in read) == sorted(lot_ids)
    assert len(reads) <= 3, reads


def test_r19c_a_lot_whose_log_cannot_be_read_does_not_hold_up_the_others(
    primary: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the read of lots published together fails, each lot is read alone: the
    others' watchers get their events, the lot whose read fails is logged and retried."""
    with captured_logs() as logs:
        lot_ids, got, reads = _published_together(primary, monkeypatch, 4, failing=2)
    assert got == {lot_id: lot_id for lot_id in lot_ids if lot_id != lot_ids[2]}
    assert any(len(read) > 1 and lot_ids[2] in read for read in reads), reads
    assert [lot_ids[2]] in reads
    assert any(f"reading lot {lot_ids[2]}'s events failed" in line for line in logs)
