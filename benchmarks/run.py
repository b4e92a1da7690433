"""Quote throughput and latency of a real `wangua serve` on PostgreSQL, each figure
beside the raw-SQL floor (pgbench) measured in the same run.

    .venv/bin/python -m benchmarks.run [--quick] [--write-doc] [--no-profile]

Traffic goes only to 127.0.0.1. Scratch databases are named wangua_bench_* and
are dropped, and the server stopped, however the run ends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import uvloop
from tests.harness import PG_ADMIN_URL, drop_postgres_database, fresh_postgres_database

from benchmarks import deadlines, fanout, idle, pgfloor, profile, report
from benchmarks.load import Load, LotState, Result, Stream, as_dict
from benchmarks.system import Lot, System, bench_installation, build, seed_quotes, server

HOT_LEVELS = (1, 4, 16, 64)
BIDDERS = 64
MANY_LOTS = 100
RESULTS = Path(__file__).parent / "results"
PARTS = ("quotes", "fanout", "deadlines", "idle")  # --only: "quotes" is floor, HTTP and profile


@dataclass(frozen=True)
class Plan:
    quick: bool
    warmup: float
    seconds: float  # per measured HTTP level
    floor_seconds: float  # per pgbench level
    growth_seconds: float
    profile_seconds: float

    @classmethod
    def make(cls, quick: bool) -> Plan:
        if quick:
            return cls(True, 1.0, 5.0, 3.0, 4.0, 5.0)
        return cls(False, 2.0, 15.0, 8.0, 10.0, 10.0)


def log(message: str) -> None:
    print(message, flush=True)


def database_settings() -> dict[str, str]:
    names = (
        "fsync",
        "synchronous_commit",
        "wal_sync_method",
        "full_page_writes",
        "shared_buffers",
        "max_connections",
        "server_version",
    )
    with psycopg.connect(PG_ADMIN_URL) as conn:
        return {n: str(conn.execute(f"SHOW {n}").fetchone()[0]) for n in names}  # type: ignore[index]


def measure_floors(plan: Plan) -> dict[str, Any]:
    pgbench = pgfloor.pgbench_path()
    if pgbench is None:
        log("pgbench not found: the raw-SQL floor cannot be measured")
        return {}
    name = f"wangua_bench_raw_{os.getpid()}"
    url = fresh_postgres_database(name)
    floors: dict[str, Any] = {}
    try:
        pgfloor.prepare(url, lots=MANY_LOTS)
        shapes = [
            (script, 1, c) for script in ("quote_floor.sql", "quote_full.sql") for c in HOT_LEVELS
        ]
        shapes += [("quote_floor.sql", MANY_LOTS, BIDDERS), ("quote_full.sql", MANY_LOTS, BIDDERS)]
        for script, lots, clients in shapes:
            pgfloor.reset(url)
            floor = pgfloor.run_pgbench(
                pgbench, name, script, lots=lots, clients=clients, seconds=plan.floor_seconds
            )
            floors[f"{script}:{lots}:{clients}"] = asdict(floor)
            log(
                f"  pgbench {script:16} lots={lots:<3} clients={clients:<3} "
                f"{floor.tps:8.0f} tx/s  p50 {floor.p50_ms:6.2f} ms  p99 {floor.p99_ms:6.2f} ms"
            )
    finally:
        drop_postgres_database(name)
    return floors


def lot_states(lots: list[Lot]) -> dict[int, LotState]:
    return {lot.id: LotState(lot.id, lot.start_fen, lot.increment_fen) for lot in lots}


async def _current(url: str, lots: dict[int, LotState]) -> None:
    """The prices as the server has them (the measured runs start from there)."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        for state in lots.values():
            view = (await client.get(f"/api/v1/lots/{state.id}")).json()
            if view.get("current_price") is not None:
                whole, _, cents = view["current_price"].partition(".")
                state.price_fen = int(whole) * 100 + int((cents + "00")[:2])


def measure_http(
    system: System,
    url: str,
    pid: int,
    plan: Plan,
    parts: tuple[str, ...] = ("hot", "many", "growth"),
) -> dict[str, Any]:
    tokens = {i: b.token for i, b in enumerate(system.bidders)}
    qualified: dict[int, set[int]] = {i: set() for i in tokens}
    for lot in [system.hot, *system.many, *system.growth.values()]:
        for b in lot.bidders:
            qualified[b].add(lot.id)
    out: dict[str, Any] = {"hot": {}, "growth": {}}

    def run(
        name: str,
        lots: list[Lot],
        streams: list[Stream],
        seconds: float,
        watch_lot: int | None = None,
        ordered: bool = False,
    ) -> Result:
        states = lot_states(lots)

        async def go() -> Result:
            await _current(url, states)
            watch = None
            if watch_lot is not None:
                async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                    view = (await client.get(f"/api/v1/lots/{watch_lot}")).json()
                watch = (watch_lot, int(view["quote_count"]))
            load = Load(url, tokens, states, qualified, ordered=ordered)
            return await load.run(
                name, streams, warmup=plan.warmup, seconds=seconds, server_pid=pid, watch=watch
            )

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            result = runner.run(go())
        log(report.result_line(result))
        return result

    hot = system.hot
    out["hot_racing"] = {}
    for level in HOT_LEVELS if "hot" in parts else ():
        if level == 1:  # one request in flight: two accounts take turns, so each is valid
            streams = [Stream(hot.bidders[:2], [hot.id])]
        else:
            streams = [Stream([b], [hot.id]) for b in hot.bidders[:level]]
        out["hot"][level] = as_dict(
            run(
                f"hot lot, {level} bidders, ordered",
                [hot],
                streams,
                plan.seconds,
                watch_lot=hot.id,
                ordered=True,
            )
        )
        if level > 1:  # with one request in flight there is no race
            out["hot_racing"][level] = as_dict(
                run(f"hot lot, {level} bidders, racing", [hot], streams, plan.seconds)
            )
    if "many" in parts:
        mine: dict[int, list[int]] = {}
        for lot in system.many:
            for b in lot.bidders:
                mine.setdefault(b, []).append(lot.id)
        streams = [Stream([b], lots) for b, lots in sorted(mine.items())]
        out["many"] = as_dict(
            run(
                f"{MANY_LOTS} lots, {len(streams)} bidders, ordered",
                system.many,
                streams,
                plan.seconds,
                ordered=True,
            )
        )
    for size, lot in sorted(system.growth.items()) if "growth" in parts else ():
        out["growth"][size] = as_dict(
            run(
                f"growth: {size} quotes before",
                [lot],
                [Stream(lot.bidders[:2], [lot.id])],
                plan.growth_seconds,
            )
        )
    return out


def measure_profile(system: System, url: str, pid: int, plan: Plan) -> dict[str, Any]:
    """py-spy on the server during a 16-bidder hot-lot run."""
    RESULTS.mkdir(exist_ok=True)
    raw = RESULTS / "profile-hot16.txt"
    raw.unlink(missing_ok=True)
    tokens = {i: b.token for i, b in enumerate(system.bidders)}
    qualified = {i: {system.hot.id} for i in tokens}
    states = lot_states([system.hot])
    streams = [Stream([b], [system.hot.id]) for b in system.hot.bidders[:16]]
    error: list[str | None] = []

    async def go() -> Result:
        await _current(url, states)
        load = Load(url, tokens, states, qualified)
        task = asyncio.create_task(
            load.run(
                "profiled: hot lot, 16 bidders",
                streams,
                warmup=1.0,
                seconds=plan.profile_seconds + 2,
                server_pid=pid,
            )
        )
        await asyncio.sleep(1.5)
        error.append(await asyncio.to_thread(profile.record, pid, plan.profile_seconds, raw))
        return await task

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        result = runner.run(go())
    log(report.result_line(result))
    if error[0] is not None:
        log(f"  profile: {error[0]}")
        return {"error": error[0]}
    summary = profile.summarise(raw)
    summary["rate"] = result.rate
    summary["seconds"] = plan.profile_seconds
    summary["file"] = str(raw.relative_to(Path(__file__).parent.parent))
    return summary


def measure_system(plan: Plan, with_profile: bool, workers: int = 1) -> dict[str, Any]:
    name = f"wangua_bench_app_{os.getpid()}"
    with (
        tempfile.TemporaryDirectory(prefix="wangua-bench-") as tmp,
        bench_installation(Path(tmp), name) as inst,
    ):
        began = time.monotonic()
        system = build(inst, bidders=BIDDERS, many_lots=MANY_LOTS, log=log)
        log(f"  setup through the API: {time.monotonic() - began:.0f} s")
        seeded = {}
        for size, lot in sorted(system.growth.items()):
            seeded[size] = seed_quotes(inst, system, lot, size)
            log(f"  seeded {size} quotes on lot {lot.id} in {seeded[size]:.1f} s")
        with server(inst, "system", workers) as process:
            assert process.proc is not None
            out = measure_http(system, process.url, process.proc.pid, plan)
            if with_profile:
                out["profile"] = measure_profile(system, process.url, process.proc.pid, plan)
        if workers == 1:  # scale-out on the same machine: two processes on one port
            inst.env["WANGUA_TIMER_GRACE_MS"] = str(deadlines.GRACE_MS)  # docs/deployment.md
            with server(inst, "system", 2) as process:
                assert process.proc is not None
                pid = process.proc.pid
                many = measure_http(system, process.url, pid, plan, ("many",))["many"]
                out["many_workers"] = {**many, "timer_grace_ms": deadlines.GRACE_MS}
        out["seed_seconds"] = seeded
        return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs (about 3 minutes)")
    parser.add_argument("--write-doc", action="store_true", help="regenerate docs/performance.md")
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profile")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="serve with N worker processes (server CPU columns then count "
        "the parent process only)",
    )
    parser.add_argument(
        "--from-results",
        type=Path,
        help="only rewrite docs/performance.md from a saved results file",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=PARTS,
        help="run only these parts (repeatable); the others' figures are kept from the "
        "last results file",
    )
    args = parser.parse_args(argv)
    parts = set(args.only or PARTS)
    if args.from_results is not None:
        log(f"wrote {report.write_doc(json.loads(args.from_results.read_text()))}")
        return 0
    plan = Plan.make(args.quick)
    began = time.monotonic()
    results: dict[str, Any] = {"plan": asdict(plan), "machine": report.machine()}
    results["database"] = database_settings()
    log(report.header(results))
    if results["database"]["fsync"] != "on" or results["database"]["synchronous_commit"] != "on":
        log("WARNING: commits are not durable on this server; figures are not comparable")
    saved = RESULTS / ("quick.json" if plan.quick else "full.json")
    if parts != set(PARTS) and saved.exists():  # keep the parts not run this time
        earlier = json.loads(saved.read_text())
        machines = {**earlier.get("rerun_machines", {}), **dict.fromkeys(parts, results["machine"])}
        results = {**earlier, **results, "machine": earlier["machine"], "rerun_machines": machines}
    if "quotes" in parts:
        log("\nraw-SQL floor (pgbench, prepared statements)")
        results["floors"] = measure_floors(plan)
        log("\nwangua serve (HTTP API, system clock)")
        results.update(measure_system(plan, with_profile=not args.no_profile, workers=args.workers))
    for part, module in (("fanout", fanout), ("deadlines", deadlines), ("idle", idle)):
        if part in parts:
            log(f"\n{part}")
            part_began = time.monotonic()
            results[part] = module.measure(plan, log)
            results[part]["elapsed_seconds"] = time.monotonic() - part_began
    elapsed = time.monotonic() - began
    if parts == set(PARTS):
        results["elapsed_seconds"] = elapsed
        results.pop("reruns", None)
    else:  # the page says which parts were measured again, and when
        results["reruns"] = {**results.get("reruns", {}), **dict.fromkeys(sorted(parts), elapsed)}
        results.setdefault("elapsed_seconds", elapsed)
    elapsed_total = results["elapsed_seconds"]
    results = json.loads(json.dumps(results, default=str))
    log("\n" + report.summary(results))
    RESULTS.mkdir(exist_ok=True)
    saved.write_text(json.dumps(results, indent=2, default=str))
    if args.write_doc:
        path = report.write_doc(results)
        log(f"wrote {path}")
    log(f"total {elapsed:.0f} s (the results' full run: {elapsed_total:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
