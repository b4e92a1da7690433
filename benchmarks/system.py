"""A real `wangua serve` on a scratch PostgreSQL database, with bidders and lots.

Setup runs on the simulated clock, started so that the lots' listing begins a
few minutes before the real time; the measured server then runs on the system
clock, as in production, with every lot already listing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.faults.servers import (
    Installation,
    ServerProcess,
    _environment,
    process_stack,
    provision,
)
from tests.harness import Account, Stack, drop_postgres_database, fresh_postgres_database

LEAD = timedelta(minutes=5)  # the lots' listing starts this long before the measured run


@dataclass
class Lot:
    id: int
    start_fen: int
    increment_fen: int
    bidders: list[int] = field(default_factory=list)  # indexes into System.bidders


@dataclass
class System:
    inst: Installation
    stack: Stack
    bidders: list[Account]
    hot: Lot
    many: list[Lot]
    growth: dict[int, Lot]


def fen(amount: str) -> int:
    yuan, _, cents = amount.partition(".")
    return int(yuan) * 100 + int((cents + "00")[:2])


@contextmanager
def bench_installation(base: Path, name: str, **extra_env: str) -> Iterator[Installation]:
    """A scratch database `name` with the schema, a CA and an administrator (via the CLI);
    `extra_env` for every command and server (PYTHONPATH: another version's code)."""
    url = fresh_postgres_database(name)
    try:
        ca_dir = base / "ca"
        env = {**_environment(base, url, ca_dir), **extra_env}
        start = datetime.now(UTC) - timedelta(days=21) - LEAD
        env["WANGUA_CLOCK_START"] = start.isoformat()
        inst = Installation(
            "postgresql", base, env, ca_dir, base / "admin.key.pem", base / "admin.crt.pem"
        )
        provision(inst)
        yield inst
    finally:
        drop_postgres_database(name)


@contextmanager
def server(inst: Installation, clock: str, workers: int = 1) -> Iterator[ServerProcess]:
    inst.env["WANGUA_CLOCK"] = clock
    process = ServerProcess(inst, *(["--workers", str(workers)] if workers > 1 else []))
    try:
        process.start()
        yield process
    finally:
        process.stop()
        with suppress(Exception):
            if process.proc is not None and process.proc.poll() is None:
                process.kill9()


def _lot(stack: Stack, staff: Account) -> Lot:
    view = stack.published_lot(staff)
    return Lot(view["id"], fen(view["start_price"]), fen(view["increment"]))


def build(inst: Installation, *, bidders: int, many_lots: int, log: Any = print) -> System:
    """Accounts, lots and qualifications through the HTTP API, on the simulated clock;
    returns with the clock at the lots' listing start."""
    with server(inst, "simulated") as process:
        stack = process_stack(inst, process.url)
        staff = stack.account("staff", "xianning-city")
        hot = _lot(stack, staff)
        many = [_lot(stack, staff) for _ in range(many_lots)]
        growth = {size: _lot(stack, staff) for size in (10, 10_000)}
        with ThreadPoolExecutor(max_workers=4) as pool:
            accounts = list(pool.map(lambda _: stack.bidder(), range(bidders)))
        log(f"  {bidders} bidders registered; qualifying them")
        wanted: list[tuple[int, Lot]] = [(b, hot) for b in range(bidders)]
        pairs = bidders // 2
        for index, lot in enumerate(many):  # two bidders per lot, 3-4 lots per bidder
            wanted += [(index % pairs, lot), (index % pairs + pairs, lot)]
        for lot in growth.values():
            wanted += [(0, lot), (1, lot)]
        view = stack.lot(hot.id)

        def qualify(item: tuple[int, Lot]) -> None:
            b, lot = item
            stack.qualified(accounts[b], {"id": lot.id})
            lot.bidders.append(b)

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(qualify, wanted))
        for lot in [hot, *many, *growth.values()]:
            lot.bidders.sort()
        stack.advance_to(view["listing_start"])
        assert stack.lot(hot.id)["status"] == "listing", stack.lot(hot.id)
        stack.close()
    return System(inst, stack, accounts, hot, many, growth)


def seed_quotes(inst: Installation, system: System, lot: Lot, count: int) -> float:
    """`count` quotes through the service layer, two bidders alternating, 500 per
    transaction, with asynchronous commit (seeding is not what is measured).
    Runs while no server is up. Returns the seconds it took."""
    from wangua.bidding import service
    from wangua.config import Settings
    from wangua.identity.service import actor_for_token
    from wangua.runtime import Runtime, Work

    env = {k[len("WANGUA_") :].lower(): v for k, v in inst.env.items() if k.startswith("WANGUA_")}
    env["clock"] = "system"
    env["database_url"] += "?options=-c%20synchronous_commit%3Doff"
    env.pop("clock_start", None)
    settings = Settings(**env)
    runtime = Runtime(settings)
    began = time.monotonic()
    try:
        with runtime.read() as session:
            actors = [actor_for_token(session, system.bidders[b].token) for b in lot.bidders[:2]]
        assert all(actors), "a seeding bidder's token is not valid"
        done = 0
        while done < count:
            with runtime.db.write_session() as session:
                for _ in range(min(500, count - done)):
                    actor = actors[done % 2]
                    assert actor is not None
                    work = Work(
                        session,
                        runtime.clock,
                        actor,
                        runtime.db.is_postgres,
                        runtime.sealing_key,
                        runtime.publish_targets,
                    )
                    amount = lot.start_fen + done * lot.increment_fen
                    service.place_quote(
                        work, lot.id, amount, str(uuid.uuid4()), work.clock.now(work.session)
                    )
                    done += 1
    finally:
        runtime.close()
    return time.monotonic() - began
