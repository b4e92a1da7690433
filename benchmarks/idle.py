"""Growth in active lots: acceptance time with 10 and with 10,000 listing lots whose
timers are live, and the server's CPU while idle with them scheduled.

The 10 lots are made through the API; the other 9,990 are copies of one of them (its
`lots` row and its pending `timers` rows, due times spread over the next day so they are
not one instant) inserted with SQL while the server is stopped: creating 10,000 lots
through the API would take most of an hour here, and what is measured is the scheduler
and the quote path with that many lots on record, not lot creation.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
import uvloop
from tests.faults.servers import process_stack

from benchmarks.load import Load, LotState, Stream, as_dict
from benchmarks.stats import postgres_cpu, postgres_cpu_delta, process_cpu_seconds
from benchmarks.system import bench_installation, fen, server

SMALL, LARGE = 10, 10_000


def _seed(url: str, template: int, count: int) -> float:
    began = time.monotonic()
    with psycopg.connect(url) as conn:
        columns = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'lots' AND column_name NOT IN ('id', 'code')"
            )
        ]
        listed = ", ".join(columns)
        conn.execute(
            f"INSERT INTO lots (code, {listed}) "  # noqa: S608  (column names from the catalog)
            f"SELECT code || '-copy-' || g, {listed} FROM lots, generate_series(1, %s) g "
            "WHERE id = %s",
            (count, template),
        )
        conn.execute(
            "INSERT INTO timers (lot_id, kind, due_at, fired_at) "
            "SELECT l.id, t.kind, t.due_at + make_interval(secs => l.id %% 86400), NULL "
            "FROM lots l JOIN timers t ON t.lot_id = %s AND t.fired_at IS NULL "
            "WHERE l.code LIKE (SELECT code FROM lots WHERE id = %s) || '-copy-%%'",
            (template, template),
        )
        conn.execute("ANALYZE lots; ANALYZE timers")
    return time.monotonic() - began


def _idle(pid: int, seconds: float) -> dict[str, float]:
    pg0, cpu0 = postgres_cpu(), process_cpu_seconds(pid)
    time.sleep(seconds)
    pg, cpu = postgres_cpu_delta(pg0, postgres_cpu()), process_cpu_seconds(pid) - cpu0
    return {"seconds": seconds, "server_share": cpu / seconds, "postgres_share": pg / seconds}


def measure(plan: Any, log: Any = print) -> dict[str, Any]:
    name = f"wangua_bench_idle_{os.getpid()}"
    idle_seconds = 15.0 if plan.quick else 60.0
    out: dict[str, Any] = {"levels": {}}
    with (
        tempfile.TemporaryDirectory(prefix="wangua-idle-") as tmp,
        bench_installation(Path(tmp), name) as inst,
    ):
        with server(inst, "simulated") as sim:
            stack = process_stack(inst, sim.url)
            staff = stack.account("staff", "xianning-city")
            lots = [stack.published_lot(staff) for _ in range(SMALL)]
            bidders = [stack.bidder(), stack.bidder()]
            for b in bidders:
                stack.qualified(b, lots[0])
            stack.advance_to(lots[0]["listing_start"])
            stack.close()
        measured = lots[0]
        tokens = {i: b.token for i, b in enumerate(bidders)}
        for active in (SMALL, LARGE):
            if active == LARGE:
                out["seed_seconds"] = _seed(
                    inst.env["WANGUA_DATABASE_URL"], lots[1]["id"], LARGE - SMALL
                )
                log(f"  seeded {LARGE - SMALL:,} lots with SQL in {out['seed_seconds']:.1f} s")
            with server(inst, "system") as live:
                assert live.proc is not None
                pid = live.proc.pid
                time.sleep(3.0)  # start-up work (checkpoint, first scheduler pass) settles
                idle = _idle(pid, idle_seconds)
                state = LotState(
                    measured["id"], fen(measured["start_price"]), fen(measured["increment"])
                )

                async def go(
                    state: LotState = state,
                    url: str = live.url,
                    active: int = active,
                    pid: int = pid,
                ) -> Any:
                    from benchmarks.run import _current

                    await _current(url, {state.id: state})
                    load = Load(url, tokens, {state.id: state}, {0: {state.id}, 1: {state.id}})
                    return await load.run(
                        f"{active:,} active lots",
                        [Stream([0, 1], [state.id])],
                        warmup=plan.warmup,
                        seconds=plan.growth_seconds,
                        server_pid=pid,
                    )

                with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                    result = runner.run(go())
            level = {"idle": idle, "quotes": as_dict(result)}
            out["levels"][active] = level
            log(
                f"  {active:>6,} active lots: idle CPU server {idle['server_share']:.2%} "
                f"PostgreSQL (cluster) {idle['postgres_share']:.2%} over {idle_seconds:.0f} s; "
                f"{result.rate:.0f} accepted/s, ack p50 {result.p50_ms:.1f} ms "
                f"p99 {result.p99_ms:.1f} ms"
            )
    return out
