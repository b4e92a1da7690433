"""Server CPU per request of two versions side by side: a git revision's `src/` and the
working tree, each serving the same scratch database, requests alternated between them
one at a time. On a shared machine the load then weighs on both alike.

    .venv/bin/python -m benchmarks.ab REV [--requests 300]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import statistics
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import httpx
from tests.faults.servers import ServerProcess

from benchmarks.stats import process_cpu_seconds
from benchmarks.system import System, bench_installation, build

ROOT = Path(__file__).parent.parent
MIGRATIONS = Path("src/wangua/migrations/versions")


def export(rev: str, into: Path) -> Path:
    """`src/` of `rev`, with the working tree's migrations (the database is made by the
    working tree, so the revision must know every migration it has applied)."""
    archive = subprocess.run(
        ["git", "archive", rev, "src"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    shutil.copytree(ROOT / MIGRATIONS, into / MIGRATIONS, dirs_exist_ok=True)
    return into / "src"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ab", description=__doc__)
    parser.add_argument("rev", help="the git revision to compare the working tree with")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    name = f"wangua_bench_ab_{os.getpid()}"
    with (
        tempfile.TemporaryDirectory(prefix="wangua-ab-") as tmp,
        bench_installation(Path(tmp), name) as inst,
    ):
        base_src = export(args.rev, Path(tmp) / "rev")
        system = build(inst, bidders=2, many_lots=0, log=lambda _: None)
        inst.env["WANGUA_CLOCK"] = "system"
        old = dataclasses.replace(inst, env={**inst.env, "PYTHONPATH": str(base_src)})
        servers = {args.rev: ServerProcess(old), "working tree": ServerProcess(inst)}
        try:
            for process in servers.values():
                process.start()
            compare(servers, system, args.requests)
        finally:
            for process in servers.values():
                process.stop()


def compare(servers: dict[str, ServerProcess], system: System, n: int) -> None:
    lot = system.hot
    tokens = [b.token for b in system.bidders]
    clients = {
        label: [
            httpx.Client(base_url=s.url, headers={"Authorization": f"Bearer {t}"}) for t in tokens
        ]
        for label, s in servers.items()
    }
    state = {"fen": lot.start_fen, "quotes": 0}

    def accepted(label: str) -> None:
        amount = f"{state['fen'] // 100}.{state['fen'] % 100:02d}"
        state["quotes"] += 1
        answer = clients[label][state["quotes"] % 2].post(
            f"/api/v1/lots/{lot.id}/quotes", json={"amount": amount}
        )
        assert answer.status_code == 201, answer.text
        state["fen"] += lot.increment_fen

    def refused(label: str) -> None:  # a stale amount from the bidder who is not leading
        answer = clients[label][(state["quotes"] + 1) % 2].post(
            f"/api/v1/lots/{lot.id}/quotes", json={"amount": "1.00"}
        )
        assert answer.json()["code"] == "INCREMENT_TOO_SMALL", answer.text

    def view(label: str) -> None:
        clients[label][0].get(f"/api/v1/lots/{lot.id}").raise_for_status()

    kinds: dict[str, Callable[[str], None]] = {
        "POST quote, accepted": accepted,
        "POST quote, refused (INCREMENT_TOO_SMALL)": refused,
        "GET /api/v1/lots/{id} (bidder)": view,
    }
    for kind, call in kinds.items():
        cpu = dict.fromkeys(servers, 0.0)
        latency: dict[str, list[float]] = {label: [] for label in servers}
        for i in range(n + 10):
            for label, process in servers.items():
                assert process.proc is not None
                cpu0, began = process_cpu_seconds(process.proc.pid), time.perf_counter()
                call(label)
                if i >= 10:  # the first ten warm up
                    latency[label].append(1000 * (time.perf_counter() - began))
                    cpu[label] += process_cpu_seconds(process.proc.pid) - cpu0
        for label in servers:
            print(
                f"{kind:42} {label:14} server CPU {1000 * cpu[label] / n:5.2f} ms/request"
                f"   latency p50 {statistics.median(latency[label]):6.2f} ms",
                flush=True,
            )


if __name__ == "__main__":
    main()
