"""Where one accepted quote spends its time inside the service layer: every SQL
statement of `bidding.service.place_quote` timed, in process, one transaction per
quote with durable commits, on a scratch PostgreSQL database.

    .venv/bin/python -m benchmarks.sqltrace [--quotes 300]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import event

from benchmarks.stats import percentile
from benchmarks.system import bench_installation, build


def trace(quotes: int) -> dict[str, Any]:
    from wangua.bidding import service
    from wangua.config import Settings
    from wangua.identity.service import actor_for_token
    from wangua.runtime import Runtime

    name = f"wangua_bench_trace_{os.getpid()}"
    with (
        tempfile.TemporaryDirectory(prefix="wangua-trace-") as tmp,
        bench_installation(Path(tmp), name) as inst,
    ):
        system = build(inst, bidders=2, many_lots=0, log=lambda _: None)
        env = {
            k[len("WANGUA_") :].lower(): v for k, v in inst.env.items() if k.startswith("WANGUA_")
        }
        env["clock"] = "system"
        env.pop("clock_start", None)
        runtime = Runtime(Settings(**env))
        statements: dict[str, list[float]] = defaultdict(list)
        started: dict[int, float] = {}

        @event.listens_for(runtime.db.write_engine, "before_cursor_execute")
        def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            started[id(cursor)] = time.perf_counter()

        @event.listens_for(runtime.db.write_engine, "after_cursor_execute")
        def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            began = started.pop(id(cursor), None)
            if began is not None:
                key = " ".join(statement.split())[:110]
                statements[key].append(1000 * (time.perf_counter() - began))

        @event.listens_for(runtime.db.write_engine, "commit")
        def commit(conn: Any) -> None:
            started[-1] = time.perf_counter()

        totals: list[float] = []
        commits: list[float] = []
        lot = system.hot
        try:
            with runtime.read() as session:
                actors = [actor_for_token(session, system.bidders[b].token) for b in (0, 1)]
            for i in range(quotes):
                actor = actors[i % 2]
                assert actor is not None
                began = time.perf_counter()
                with runtime.work(actor) as work:
                    amount = lot.start_fen + i * lot.increment_fen
                    service.place_quote(
                        work, lot.id, amount, str(uuid.uuid4()), work.clock.now(work.session)
                    )
                end = time.perf_counter()
                totals.append(1000 * (end - began))
                if -1 in started:
                    commits.append(1000 * (end - started.pop(-1)))
        finally:
            runtime.close()
    return {"totals": totals, "commits": commits, "statements": statements}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sqltrace")
    parser.add_argument("--quotes", type=int, default=300)
    args = parser.parse_args()
    out = trace(min(args.quotes, 5000))
    totals = out["totals"]
    print(
        f"{len(totals)} quotes, one transaction each: p50 {percentile(totals, 50):.2f} ms, "
        f"p99 {percentile(totals, 99):.2f} ms; commit p50 {percentile(out['commits'], 50):.2f} ms"
    )
    print(f"{'calls/quote':>11} {'p50 ms':>7} {'total ms/quote':>14}  statement")
    rows = sorted(out["statements"].items(), key=lambda kv: -sum(kv[1]))
    for statement, times in rows[:25]:
        print(
            f"{len(times) / len(totals):11.2f} {percentile(times, 50):7.2f} "
            f"{sum(times) / len(totals):14.2f}  {statement}"
        )


if __name__ == "__main__":
    main()
