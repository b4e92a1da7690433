"""Server CPU per request of two versions side by side: a git revision's `src/` and the
working tree, each serving a scratch database made by its own migrations and filled the
same way, requests alternated between them one at a time. On a shared machine the load
then weighs on both alike.

    .venv/bin/python -m benchmarks.ab REV [--requests 300] [--lots 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from io import BytesIO
from pathlib import Path

import httpx
from tests.faults.servers import ServerProcess

from benchmarks.stats import process_cpu_seconds
from benchmarks.system import System, bench_installation, build

ROOT = Path(__file__).parent.parent


def export(rev: str, into: Path) -> Path:
    """`src/` of `rev`."""
    archive = subprocess.run(
        ["git", "archive", rev, "src"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ab", description=__doc__)
    parser.add_argument("rev", help="the git revision to compare the working tree with")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--lots", type=int, default=20, help="lots besides the hot one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wangua-ab-") as tmp, ExitStack() as stack:
        base = Path(tmp)
        code = {args.rev: {"PYTHONPATH": str(export(args.rev, base / "rev"))}, "working tree": {}}
        sides: dict[str, tuple[ServerProcess, System]] = {}
        for n, (label, env) in enumerate(code.items()):
            (base / str(n)).mkdir()
            inst = stack.enter_context(
                bench_installation(base / str(n), f"wangua_bench_ab_{os.getpid()}_{n}", **env)
            )
            system = build(inst, bidders=2, many_lots=args.lots, log=lambda _: None)
            inst.env["WANGUA_CLOCK"] = "system"
            process = ServerProcess(inst)
            stack.callback(process.stop)
            process.start()
            sides[label] = (process, system)
        compare(sides, args.requests)


def compare(sides: dict[str, tuple[ServerProcess, System]], n: int) -> None:
    clients = {
        label: [
            httpx.Client(base_url=process.url, headers={"Authorization": f"Bearer {b.token}"})
            for b in system.bidders
        ]
        for label, (process, system) in sides.items()
    }
    lots = {label: system.hot for label, (_, system) in sides.items()}
    state = {label: {"fen": lot.start_fen, "quotes": 0} for label, lot in lots.items()}

    def accepted(label: str) -> None:
        lot, at = lots[label], state[label]
        amount = f"{at['fen'] // 100}.{at['fen'] % 100:02d}"
        at["quotes"] += 1
        answer = clients[label][at["quotes"] % 2].post(
            f"/api/v1/lots/{lot.id}/quotes", json={"amount": amount}
        )
        assert answer.status_code == 201, answer.text
        at["fen"] += lot.increment_fen

    def refused(label: str) -> None:  # a stale amount from the bidder who is not leading
        answer = clients[label][(state[label]["quotes"] + 1) % 2].post(
            f"/api/v1/lots/{lots[label].id}/quotes", json={"amount": "1.00"}
        )
        assert answer.json()["code"] == "INCREMENT_TOO_SMALL", answer.text

    def view(label: str) -> None:
        clients[label][0].get(f"/api/v1/lots/{lots[label].id}").raise_for_status()

    def listed(label: str) -> None:
        response = clients[label][0].get("/api/v1/lots", params={"limit": 100})
        assert len(response.raise_for_status().json()) == len(sides[label][1].many) + 3

    kinds: dict[str, Callable[[str], None]] = {
        "POST quote, accepted": accepted,
        "POST quote, refused (INCREMENT_TOO_SMALL)": refused,
        "GET /api/v1/lots/{id} (bidder)": view,
        "GET /api/v1/lots?limit=100 (bidder)": listed,
    }
    for kind, call in kinds.items():
        cpu = dict.fromkeys(sides, 0.0)
        latency: dict[str, list[float]] = {label: [] for label in sides}
        for i in range(n + 10):
            for label, (process, _) in sides.items():
                assert process.proc is not None
                cpu0, began = process_cpu_seconds(process.proc.pid), time.perf_counter()
                call(label)
                if i >= 10:  # the first ten warm up
                    latency[label].append(1000 * (time.perf_counter() - began))
                    cpu[label] += process_cpu_seconds(process.proc.pid) - cpu0
        for label in sides:
            print(
                f"{kind:42} {label:14} server CPU {1000 * cpu[label] / n:5.2f} ms/request"
                f"   latency p50 {statistics.median(latency[label]):6.2f} ms",
                flush=True,
            )


if __name__ == "__main__":
    main()
