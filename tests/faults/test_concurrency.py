"""32 bidders quote the same lot at the same moment, against a real server process.

Every bidder reads the price and quotes one increment above it, round after
round; the lot's single writer must accept each quote once, in order, and
refuse the rest cleanly: never a 5xx, never a lost or doubled quote.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.faults.servers import (
    Acked,
    bidder_client,
    check_ledger,
    installation,
    next_amount,
    process_stack,
    serving,
)
from tests.harness import Account, Stack

BIDDERS = 32
EXPECTED_REFUSALS = {"INCREMENT_TOO_SMALL", "ALREADY_HIGHEST"}
THREAD_DEADLINE = 60.0


@dataclass
class Outcomes:
    acked: list[Acked] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, status: int, code: str | None = None) -> None:
        with self.lock:
            self.statuses[status] += 1
            if code is not None:
                self.refusals[code] += 1


def bidder_rounds(
    index: int,
    stack: Stack,
    account: Account,
    lot_id: int,
    rounds: int,
    start: threading.Barrier,
    out: Outcomes,
) -> None:
    client = bidder_client(stack, account, timeout=30.0)
    try:
        start.wait(timeout=60)
        deadline = time.monotonic() + THREAD_DEADLINE
        for _ in range(rounds):
            if time.monotonic() > deadline:
                out.failures.append(f"bidder {index}: out of time")
                return
            view = client.get(f"/api/v1/lots/{lot_id}")
            if view.status_code != 200:
                out.failures.append(f"GET lot {view.status_code}: {view.text[:300]}")
                continue
            request_id = str(uuid.uuid4())
            response = client.post(
                f"/api/v1/lots/{lot_id}/quotes",
                json={"amount": next_amount(view.json()), "request_id": request_id},
            )
            if response.status_code == 201:
                body = response.json()
                out.count(201)
                out.acked.append(
                    Acked(
                        lot_id,
                        body["seq"],
                        body["amount"],
                        body["bidder_number"],
                        request_id,
                        index,
                    )
                )
            elif response.status_code >= 500:
                out.count(response.status_code)
                out.failures.append(f"quote {response.status_code}: {response.text[:300]}")
            else:
                out.count(response.status_code, str(response.json().get("code")))
    except (httpx.TransportError, threading.BrokenBarrierError) as exc:
        out.failures.append(f"bidder {index}: {exc!r}")
    finally:
        client.close()


def run_32_bidders(backend: str, base: Path, rounds: int) -> None:
    with installation(backend, base) as inst, serving(inst) as server:
        stack = process_stack(inst, server.start())
        staff = stack.account("staff", "xianning-city")
        lot = stack.published_lot(staff)
        with ThreadPoolExecutor(max_workers=4) as pool:
            bidders = list(pool.map(lambda _: stack.bidder(), range(BIDDERS)))
            numbers = list(pool.map(lambda b: stack.qualified(b, lot)["bidder_number"], bidders))
        assert len(set(numbers)) == BIDDERS, "two bidders share a bidder number"
        stack.advance_to(lot["listing_start"])
        assert stack.lot(lot["id"])["status"] == "listing"

        out = Outcomes()
        start = threading.Barrier(BIDDERS + 1)
        threads = [
            threading.Thread(
                target=bidder_rounds,
                args=(i, stack, b, lot["id"], rounds, start, out),
                name=f"bidder-{i}",
                daemon=True,
            )
            for i, b in enumerate(bidders)
        ]
        began = time.monotonic()
        try:
            for thread in threads:
                thread.start()
            start.wait(timeout=60)
        finally:
            for thread in threads:
                thread.join(timeout=THREAD_DEADLINE + 10)
        elapsed = time.monotonic() - began
        assert not [t.name for t in threads if t.is_alive()], "a bidder thread did not finish"

        assert not out.failures, out.failures[:10]
        assert not [s for s in out.statuses if s >= 500], out.statuses
        assert set(out.statuses) <= {201, 409, 422}, out.statuses
        assert set(out.refusals) <= EXPECTED_REFUSALS, out.refusals
        assert sum(out.statuses.values()) == BIDDERS * rounds

        quotes = check_ledger(stack, lot["id"], out.acked)
        assert len(quotes) == out.statuses[201] == len(out.acked), (
            f"{out.statuses[201]} quotes acknowledged, {len(quotes)} in the ledger"
        )
        assert {q["bidder_number"] for q in quotes} <= set(numbers)
        stack.close()
        print(
            f"[{backend}] {BIDDERS} bidders x {rounds} rounds in {elapsed:.1f} s: "
            f"accepted {out.statuses[201]}, refused {dict(out.refusals)}, "
            f"distinct leaders {len({q['bidder_number'] for q in quotes})}"
        )


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_32_bidders_quote_at_once_postgresql(tmp_path: Path) -> None:
    run_32_bidders("postgresql", tmp_path, rounds=10)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_32_bidders_quote_at_once_sqlite(tmp_path: Path) -> None:
    run_32_bidders("sqlite", tmp_path, rounds=10)
