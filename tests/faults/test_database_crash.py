"""Nothing lost (DESIGN.md): PostgreSQL crashes (`pg_ctl stop -m immediate`) while
bidders quote, and comes back.

A private PostgreSQL server (tests/faults/postgres.py: never the shared cluster) serves
one `wangua serve`. Four bidders quote without pause; PostgreSQL is crash-stopped under
them, stays down for a few seconds and is started again, recovering from its WAL. While
it is down every request is answered with a 5xx problem+json, never an
acknowledgement; the same wangua process then accepts quotes again by itself, without
a restart. Every acknowledged quote is in the ledger exactly once; a quote in the
ledger that nobody saw acknowledged is one whose answer was an error (its commit
reached the disk as PostgreSQL died), and the client's retry with the same request id
tells which.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.faults.postgres import private_postgres
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

pytestmark = pytest.mark.slow

BIDDERS = 4
LOAD_BEFORE = 1.5
"""Seconds of quoting before PostgreSQL is crashed."""
DOWN_FOR = 3.0
"""Seconds PostgreSQL stays down, quoting going on."""
LOAD_AFTER = 1.5
"""Seconds of quoting once a quote was acknowledged again."""
RECOVERY_CEILING = 30.0
"""Seconds after PostgreSQL is back by which wangua must acknowledge a quote again."""


@dataclass(frozen=True)
class Outcome:
    """One quote request and its answer, with when it was sent and answered."""

    lot_id: int
    amount: str
    bidder: int
    request_id: str
    sent: float
    answered: float
    status: int  # 0: no HTTP answer
    content_type: str
    body: str


@dataclass
class Record:
    outcomes: list[Outcome] = field(default_factory=list)
    crashed: list[str] = field(default_factory=list)
    reads: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)


def quoter(
    index: int,
    stack: Stack,
    account: Account,
    lot_ids: list[int],
    stop: threading.Event,
    record: Record,
) -> None:
    """Read the price and quote one increment above it, whatever the answers, until told
    to stop. When the price cannot be read, quote above the last price seen, like a
    bidder whose page shows it; after an error, pause briefly, like a client's retry."""
    client = bidder_client(stack, account, timeout=15.0)
    seen: dict[int, dict[str, Any]] = {}
    turn = index
    try:
        while not stop.is_set():
            lot_id = lot_ids[turn % len(lot_ids)]
            turn += 1
            try:
                view = client.get(f"/api/v1/lots/{lot_id}")
                record.reads[view.status_code] += 1
                if view.status_code == 200:
                    seen[lot_id] = view.json()
            except httpx.TransportError:
                record.reads[0] += 1
            if lot_id not in seen:
                time.sleep(0.05)
                continue
            amount = next_amount(seen[lot_id])
            request_id = str(uuid.uuid4())
            sent = time.monotonic()
            try:
                response = client.post(
                    f"/api/v1/lots/{lot_id}/quotes",
                    json={"amount": amount, "request_id": request_id},
                )
                status, content_type, body = (
                    response.status_code,
                    response.headers.get("content-type", ""),
                    response.text,
                )
            except httpx.TransportError as exc:
                status, content_type, body = 0, "", repr(exc)
            record.add(
                Outcome(
                    lot_id,
                    amount,
                    index,
                    request_id,
                    sent,
                    time.monotonic(),
                    status,
                    content_type,
                    body,
                )
            )
            if status == 0 or status >= 500:
                time.sleep(0.05)
    except Exception as exc:
        record.crashed.append(repr(exc))
    finally:
        client.close()


def wait_until(what: str, check: Callable[[], bool], ceiling: float) -> float:
    """Poll `check()` until it is true; the seconds it took. Fails after `ceiling`."""
    began = time.monotonic()
    while not check():
        assert time.monotonic() - began < ceiling, f"{what}: not within {ceiling:.0f} s"
        time.sleep(0.05)
    return time.monotonic() - began


@pytest.mark.timeout(240)
def test_nothing_lost_when_postgresql_crashes_under_load_and_comes_back(tmp_path: Path) -> None:
    with private_postgres() as pg:
        url = pg.create_database("wangua")
        with (
            installation("postgresql", tmp_path, database_url=url) as inst,
            serving(inst) as server,
        ):
            stack = process_stack(inst, server.start())
            staff = stack.account("staff", "xianning-city")
            lots = [stack.published_lot(staff) for _ in range(2)]
            lot_ids = [lot["id"] for lot in lots]
            bidders = [stack.bidder() for _ in range(BIDDERS)]
            numbers = [{lot["id"]: stack.qualified(b, lot)["bidder_number"] for lot in lots}
                       for b in bidders]  # fmt: skip
            stack.advance_to(lots[0]["listing_start"])
            stack.advance(60)
            assert all(stack.lot(i)["status"] == "listing" for i in lot_ids)
            serving_pid = server.proc.pid if server.proc else None

            record = Record()
            stop = threading.Event()
            threads = [
                threading.Thread(
                    target=quoter,
                    args=(i, stack, b, lot_ids, stop, record),
                    name=f"quoter-{i}",
                    daemon=True,
                )
                for i, b in enumerate(bidders)
            ]
            health = httpx.Client(base_url=stack.url, timeout=10)
            try:
                for thread in threads:
                    thread.start()
                time.sleep(LOAD_BEFORE)

                crash_began = time.monotonic()
                pg.crash()
                down_at = time.monotonic()  # pg_ctl waited: no PostgreSQL process is left
                unhealthy_in = wait_until(
                    "healthz answers 503 while PostgreSQL is down",
                    lambda: health.get("/healthz").status_code == 503,
                    10,
                )
                time.sleep(max(0.0, DOWN_FOR - (time.monotonic() - down_at)))

                restart_began = time.monotonic()
                pg.start()
                up_at = time.monotonic()  # pg_ctl waited: it accepts connections again

                def acknowledged_since_up() -> bool:
                    with record.lock:
                        return any(o.sent >= up_at and o.status == 201 for o in record.outcomes)

                recovered_in = wait_until(
                    "a quote acknowledged again after PostgreSQL came back",
                    acknowledged_since_up,
                    RECOVERY_CEILING,
                )
                time.sleep(LOAD_AFTER)
            finally:
                stop.set()
                for thread in threads:
                    thread.join(timeout=30)
            assert not [t.name for t in threads if t.is_alive()], "a quoting thread did not stop"
            assert not record.crashed, record.crashed
            assert health.get("/healthz").status_code == 200
            health.close()

            # the same process served throughout: it recovered by itself
            assert server.proc is not None and server.proc.pid == serving_pid
            assert server.proc.poll() is None, "wangua serve died with its database"

            outcomes = record.outcomes
            acked_outcomes = [o for o in outcomes if o.status in (200, 201)]
            errors = [o for o in outcomes if o.status == 0 or o.status >= 500]
            during = [o for o in outcomes if o.sent >= down_at and o.answered <= restart_began]
            statuses = Counter(o.status for o in outcomes)

            # while PostgreSQL was down: errors as problem+json, never an acknowledgement
            assert during, "no quote was sent while PostgreSQL was down"
            for o in during:
                assert o.status >= 500, f"answered {o.status} while PostgreSQL was down: {o}"
                assert o.content_type.startswith("application/problem+json"), o
            assert all(o.status == 0 or o.content_type.startswith("application/problem+json")
                       for o in errors), [o for o in errors if o.status][:3]  # fmt: skip
            assert not [o for o in errors if o.status == 0], "a request got no HTTP answer"

            # every acknowledged quote is there once; anything else there was answered
            # with an error, and the retry with its request id says whether it was stored
            acked = [Acked(o.lot_id, *quote_of(o), o.request_id, o.bidder) for o in acked_outcomes]
            ledgers = {lot_id: check_ledger(stack, lot_id, acked) for lot_id in lot_ids}
            known = {(a.lot_id, a.seq) for a in acked}
            failed: dict[tuple[int, str, str], list[Outcome]] = defaultdict(list)
            for o in errors:
                failed[(o.lot_id, o.amount, numbers[o.bidder][o.lot_id])].append(o)
            unacknowledged: dict[tuple[int, str, str], dict[str, object]] = {}
            for lot_id, quotes in ledgers.items():
                for quote in quotes:
                    if (lot_id, quote["seq"]) in known:
                        continue
                    key = (lot_id, quote["amount"], quote["bidder_number"])
                    assert key in failed, (
                        f"lot {lot_id}: quote {quote} was stored but its request was neither "
                        f"acknowledged nor answered with an error"
                    )
                    unacknowledged[key] = quote
            retried = Counter[str]()
            for key, attempts in failed.items():
                stored = unacknowledged.get(key)
                replayed = []
                for o in attempts:
                    again = stack.quote(bidders[o.bidder], {"id": o.lot_id}, o.amount, o.request_id)
                    assert again.status_code < 500, again.text
                    if again.status_code == 200:
                        assert stored is not None, f"replayed a quote not stored: {again.text}"
                        assert again.json()["seq"] == stored["seq"], again.text
                        replayed.append(o)
                    retried[f"{'stored' if stored else 'not stored'} → {again.status_code}"] += 1
                # a quote stored after an error answer is exactly one of those requests
                assert len(replayed) == (1 if stored else 0), (key, stored, replayed)
            verified = inst.cli("audit", "verify")
            assert verified.stdout.startswith("ok "), verified.stdout
            stack.close()
            print(
                f"PostgreSQL crash-stop in {down_at - crash_began:.2f} s; healthz 503 after "
                f"{unhealthy_in:.2f} s; down {restart_began - down_at:.1f} s; start with WAL "
                f"recovery {up_at - restart_began:.2f} s; first acknowledgement "
                f"{recovered_in:.2f} s after it accepted connections. Quote answers "
                f"{dict(sorted(statuses.items()))} (0: none), {len(during)} of them sent "
                f"and answered while it was down; reads {dict(sorted(record.reads.items()))}; "
                f"{len(acked)} acknowledged, all stored once; errors retried: {dict(retried)}; "
                f"ledgers {[len(ledgers[i]) for i in lot_ids]}; audit {verified.stdout.strip()}"
            )


def quote_of(outcome: Outcome) -> tuple[int, str, str]:
    body = json.loads(outcome.body)
    return body["seq"], body["amount"], body["bidder_number"]
