"""Server CPU per request, one request at a time, for a few request kinds.

.venv/bin/python -m benchmarks.probe
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from benchmarks.stats import postgres_cpu, postgres_cpu_delta, process_cpu_seconds
from benchmarks.system import bench_installation, build, server


def main() -> None:
    name = f"wangua_bench_probe_{os.getpid()}"
    with (
        tempfile.TemporaryDirectory(prefix="wangua-probe-") as tmp,
        bench_installation(Path(tmp), name) as inst,
    ):
        system = build(inst, bidders=2, many_lots=0, log=lambda _: None)
        with server(inst, "system") as process:
            assert process.proc is not None
            pid, lot = process.proc.pid, system.hot
            bidders = [
                httpx.Client(base_url=process.url, headers={"Authorization": f"Bearer {b.token}"})
                for b in system.bidders
            ]
            anonymous = httpx.Client(base_url=process.url)

            def measure(label: str, call: Callable[[int], None], n: int = 100) -> None:
                times = []
                cpu0, pg0 = process_cpu_seconds(pid), postgres_cpu()
                for i in range(n):
                    began = time.perf_counter()
                    call(i)
                    times.append(1000 * (time.perf_counter() - began))
                cpu = 1000 * (process_cpu_seconds(pid) - cpu0) / n
                pg = 1000 * postgres_cpu_delta(pg0, postgres_cpu()) / n
                print(
                    f"{label:34} latency p50 {statistics.median(times):6.2f} ms   "
                    f"server CPU {cpu:5.2f} ms/request   PostgreSQL CPU {pg:5.2f} ms/request"
                )

            price = {"fen": lot.start_fen}

            def accepted(i: int) -> None:
                amount = f"{price['fen'] // 100}.{price['fen'] % 100:02d}"
                answer = bidders[i % 2].post(
                    f"/api/v1/lots/{lot.id}/quotes", json={"amount": amount}
                )
                assert answer.status_code == 201, answer.text
                price["fen"] += lot.increment_fen

            def refused(_: int) -> None:
                answer = bidders[0].post(f"/api/v1/lots/{lot.id}/quotes", json={"amount": "1.00"})
                assert answer.status_code in (409, 422), answer.text

            measure("GET /healthz", lambda _: anonymous.get("/healthz").raise_for_status())
            measure(
                "GET /api/v1/lots/{id} (anonymous)",
                lambda _: anonymous.get(f"/api/v1/lots/{lot.id}").raise_for_status(),
            )
            measure(
                "GET /api/v1/lots/{id} (bidder)",
                lambda _: bidders[0].get(f"/api/v1/lots/{lot.id}").raise_for_status(),
            )
            measure("POST quote, accepted", accepted, 200)
            measure("POST quote, refused", refused)
            for client in [*bidders, anonymous]:
                client.close()


if __name__ == "__main__":
    main()
