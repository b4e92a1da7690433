"""Several `wangua serve` processes on one PostgreSQL: a quote accepted by one reaches
watchers on the other, in order, within a fraction of a second (LISTEN/NOTIFY)."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.faults.servers import ServerProcess, installation, process_stack

pytestmark = pytest.mark.slow


def watch(
    url: str,
    lot_id: int,
    count: int,
    seen: list[tuple[float, dict[str, Any]]],
    ready: threading.Event,
) -> None:
    with (
        httpx.Client(base_url=url, timeout=30) as client,
        client.stream("GET", f"/api/v1/lots/{lot_id}/events") as response,
    ):
        ready.set()
        name = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: ") and name == "quote":
                seen.append((time.monotonic(), json.loads(line[6:])))
                if len(seen) == count:
                    return


def test_a_quote_on_one_process_reaches_watchers_on_another_postgresql(tmp_path: Path) -> None:
    with installation("postgresql", tmp_path) as inst:
        first, second = ServerProcess(inst), ServerProcess(inst)
        try:
            stack = process_stack(inst, first.start())
            other_url = second.start()
            staff = stack.account("staff", "xianning-city")
            lot = stack.published_lot(staff)
            a, b = stack.bidder(), stack.bidder()
            stack.qualified(a, lot)
            stack.qualified(b, lot)
            stack.advance_to(lot["listing_start"])
            seen: list[tuple[float, dict[str, Any]]] = []
            ready = threading.Event()
            watcher = threading.Thread(target=watch, args=(other_url, lot["id"], 4, seen, ready))
            watcher.start()
            assert ready.wait(10)
            time.sleep(0.5)  # the stream has read the (empty) log and waits
            sent: list[float] = []
            for i, (bidder, amount) in enumerate(
                [(a, "120000000.00"), (b, "121000000.00"), (a, "122000000.00"), (b, "123000000.00")]
            ):
                sent.append(time.monotonic())
                assert stack.quote(bidder, lot, amount).status_code == 201, i
                time.sleep(0.3)
            watcher.join(15)
            assert [data["amount"] for _, data in seen] == [
                "120000000.00",
                "121000000.00",
                "122000000.00",
                "123000000.00",
            ]
            delays = [arrived - sent_at for (arrived, _), sent_at in zip(seen, sent, strict=True)]
            assert max(delays) < 1.0, delays
        finally:
            first.stop()
            second.stop()


def test_serve_with_two_workers_runs_a_listing_postgresql(tmp_path: Path) -> None:
    """With the timer grace the deployment guide asks for, so each process holds the lots
    it has bids for near their deadlines (scheduler.holds)."""
    with installation("postgresql", tmp_path, WANGUA_TIMER_GRACE_MS="500") as inst:
        server = ServerProcess(inst, "--workers", "2")
        try:
            stack = process_stack(inst, server.start())
            staff = stack.account("staff", "xianning-city")
            lot = stack.published_lot(staff)
            a, b = stack.bidder(), stack.bidder()
            stack.qualified(a, lot)
            stack.qualified(b, lot)
            stack.advance_to(lot["listing_start"])
            seen: list[tuple[float, dict[str, Any]]] = []
            ready = threading.Event()
            watcher = threading.Thread(target=watch, args=(server.url, lot["id"], 6, seen, ready))
            watcher.start()
            assert ready.wait(10)
            amounts = [f"{120 + i}000000.00" for i in range(6)]
            for i, amount in enumerate(amounts):
                assert stack.quote((a, b)[i % 2], lot, amount).status_code == 201
            watcher.join(15)
            assert [data["amount"] for _, data in seen] == amounts
            listing_end = datetime.fromisoformat(lot["listing_end"])
            stack.advance_to(listing_end)
            assert stack.lot(lot["id"])["status"] == "listing"  # its grace is still running
            stack.advance_to(listing_end + timedelta(seconds=1))
            assert stack.lot(lot["id"])["status"] == "inquiry"
        finally:
            server.stop()
