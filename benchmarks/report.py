"""Printing the figures and writing docs/performance.md."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks import scale_report
from benchmarks.load import Result

ROOT = Path(__file__).parent.parent
DOC = ROOT / "docs" / "performance.md"
ANALYSIS = Path(__file__).parent / "analysis.md"
PACKAGES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "pydantic",
    "SQLAlchemy",
    "psycopg",
    "httpx",
    "uvloop",
    "httptools",
)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    pgbench = subprocess.run(
        ["/usr/lib/postgresql/15/bin/pgbench", "--version"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "nproc": len(__import__("os").sched_getaffinity(0)),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "packages": versions,
        "pgbench": pgbench,
    }


def header(results: dict[str, Any]) -> str:
    m, db = results["machine"], results["database"]
    return (
        f"machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']} GiB; Python {m['python']}\n"
        f"PostgreSQL {db['server_version']}: fsync={db['fsync']} "
        f"synchronous_commit={db['synchronous_commit']} wal_sync_method={db['wal_sync_method']} "
        f"full_page_writes={db['full_page_writes']} shared_buffers={db['shared_buffers']}\n"
        f"plan: {'quick' if results['plan']['quick'] else 'full'}, "
        f"{results['plan']['seconds']:.0f} s per HTTP level after "
        f"{results['plan']['warmup']:.1f} s warm-up, {results['plan']['floor_seconds']:.0f} s "
        f"per pgbench level"
    )


def result_line(r: Result) -> str:
    refused = ", ".join(f"{k} {v}" for k, v in r.refused.most_common()) or "none"
    errors = ", ".join(f"{k} {v}" for k, v in r.errors.most_common()) or "none"
    sse = ""
    if r.sse_frames is not None:
        sse = f"; SSE frames {r.sse_frames}/{r.accepted}, lag p50 {r.sse_lag_p50_ms:.1f} ms"
    use = f"CPU server {r.server_cpu / r.seconds:.0%} pg {r.postgres_cpu / r.seconds:.0%}"
    return (
        f"  {r.name:30} {use} {r.rate:7.0f} accepted/s  ack p50 {r.p50_ms:6.1f} ms  "
        f"p99 {r.p99_ms:6.1f} ms  | refused: {refused} | errors: {errors}{sse}"
    )


def _floor(results: dict[str, Any], script: str, lots: int, clients: int) -> float | None:
    floor = results.get("floors", {}).get(f"{script}:{lots}:{clients}")
    return None if floor is None else float(floor["tps"])


def _ratio(value: float, base: float | None) -> str:
    return "n/a" if not base else f"{value / base:.1%}"


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def _table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def hot_table(results: dict[str, Any], key: str = "hot") -> str:
    rows = [
        [
            "bidders",
            "accepted/s",
            "refused/s",
            "ack p50 ms",
            "ack p99 ms",
            "all answers p99 ms",
            "floor tx/s (pgbench)",
            "ours / floor",
            "full write set tx/s",
            "server CPU ms/accepted",
            "server CPU ms/answer",
            "CPU use: server / PostgreSQL (cluster) / client",
            "SSE frames / accepted",
        ]
    ]
    for level, r in results.get(key, {}).items():
        floor = _floor(results, "quote_floor.sql", 1, int(level))
        full = _floor(results, "quote_full.sql", 1, int(level))
        rate = r["accepted"] / r["seconds"]
        refused = sum(r["refused"].values()) / r["seconds"]
        cpu = 1000 * r["server_cpu"] / r["accepted"] if r["accepted"] else float("nan")
        answers = r["accepted"] + sum(r["refused"].values())
        per_answer = 1000 * r["server_cpu"] / answers if answers else float("nan")
        use = "/".join(
            f"{r[k] / r['seconds']:.0%}" for k in ("server_cpu", "postgres_cpu", "client_cpu")
        )
        rows.append(
            [
                str(level),
                f"{rate:.0f}",
                f"{refused:.0f}",
                f"{r['p50_ms']:.1f}",
                f"{r['p99_ms']:.1f}",
                f"{r['p99_all_ms']:.1f}",
                f"{floor:.0f}" if floor else "n/a",
                _ratio(rate, floor),
                f"{full:.0f}" if full else "n/a",
                f"{cpu:.2f}",
                f"{per_answer:.2f}",
                use,
                "n/a" if r["sse_frames"] is None else f"{r['sse_frames']}/{r['accepted']}",
            ]
        )
    return _table(rows)


def targets(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    hot = results["hot"]
    r16, r64 = hot.get("16") or hot.get(16), hot.get("64") or hot.get(64)
    rate16 = r16["accepted"] / r16["seconds"]
    rate64 = r64["accepted"] / r64["seconds"]
    floor16 = _floor(results, "quote_floor.sql", 1, 16)
    many_rate, processes = max(
        (r["accepted"] / r["seconds"], n)
        for r, n in ((results.get("many"), 1), (results.get("many_workers"), 2))
        if r is not None
    )
    return [
        (
            "hot lot, 16 bidders: ≥ 50 % of the raw rate",
            f"{_ratio(rate16, floor16)} ({rate16:.0f} of {floor16 or 0:.0f}/s)",
            _verdict(None if not floor16 else rate16 >= 0.5 * floor16),
        ),
        (
            "hot lot, 16 bidders: ack p99 ≤ 50 ms",
            f"{r16['p99_ms']:.1f} ms",
            _verdict(r16["p99_ms"] <= 50),
        ),
        (
            "hot lot: rate at 64 ≥ 80 % of rate at 16",
            f"{_ratio(rate64, rate16)}",
            _verdict(rate64 >= 0.8 * rate16),
        ),
        (
            "100 lots, 64 bidders: ≥ 3,000 accepted/s",
            f"{many_rate:.0f}/s ({processes} server process{'es' if processes > 1 else ''})",
            _verdict(many_rate >= 3000),
        ),
    ]


def many_table(results: dict[str, Any]) -> str:
    floor = _floor(results, "quote_floor.sql", 100, 64)
    full = _floor(results, "quote_full.sql", 100, 64)
    rows = [
        [
            "lots",
            "server processes",
            "bidders",
            "accepted/s",
            "refused/s",
            "ack p50 ms",
            "ack p99 ms",
            "floor tx/s",
            "ours / floor",
            "full write set tx/s",
            "server CPU ms/accepted",
            "PostgreSQL (cluster) CPU ms/accepted",
            "client CPU ms/accepted",
        ]
    ]
    for key, count in (("many", 1), ("many_workers", 2)):
        r = results.get(key)
        if r is None:
            continue
        grace = r.get("timer_grace_ms")
        processes = str(count) if grace is None else f"{count} (grace {grace} ms)"
        rate = r["accepted"] / r["seconds"]
        cpu = 1000 * r["server_cpu"] / r["accepted"] if r["accepted"] else float("nan")
        pg_cpu = 1000 * r["postgres_cpu"] / r["accepted"] if r["accepted"] else float("nan")
        rows.append(
            [
                "100",
                processes,
                str(r["streams"]),
                f"{rate:.0f}",
                f"{sum(r['refused'].values()) / r['seconds']:.0f}",
                f"{r['p50_ms']:.1f}",
                f"{r['p99_ms']:.1f}",
                f"{floor:.0f}" if floor else "n/a",
                _ratio(rate, floor),
                f"{full:.0f}" if full else "n/a",
                f"{cpu:.2f}",
                f"{pg_cpu:.2f}",
                f"{1000 * r['client_cpu'] / max(1, r['accepted']):.2f}",
            ]
        )
    return _table(rows)


def growth_table(results: dict[str, Any]) -> str:
    rows = [
        [
            "quotes already on the lot",
            "accepted/s (1 in flight)",
            "ack p50 ms",
            "ack p99 ms",
            "server CPU ms/accepted",
        ]
    ]
    for size, r in results["growth"].items():
        rate = r["accepted"] / r["seconds"]
        cpu = 1000 * r["server_cpu"] / r["accepted"] if r["accepted"] else float("nan")
        rows.append(
            [
                f"{int(size):,}",
                f"{rate:.0f}",
                f"{r['p50_ms']:.2f}",
                f"{r['p99_ms']:.2f}",
                f"{cpu:.2f}",
            ]
        )
    return _table(rows)


def summary(results: dict[str, Any]) -> str:
    if "hot" not in results:  # only the fan-out, deadline and idle parts were run
        return scale_report.summary(results)
    parts = [
        "hot lot (one lot, N concurrent bidders, ordered amounts)",
        hot_table(results),
        "",
        "hot lot, racing (every bidder quotes the current price plus one increment)",
        hot_table(results, "hot_racing"),
        "",
        "many lots",
        many_table(results),
        "",
        "growth",
        growth_table(results),
        "",
        "targets",
    ]
    parts += [f"  {verdict:4}  {name}: {value}" for name, value, verdict in targets(results)]
    return "\n".join(parts) + "\n\n" + scale_report.summary(results)


def profile_section(results: dict[str, Any]) -> str:
    prof = results.get("profile")
    if not prof:
        return "Not profiled in this run (`--no-profile`)."
    if "error" in prof:
        return f"The profile could not be taken: {prof['error']}"
    layers = [["layer (inclusive: a sample counts for every layer on its stack)", "share"]]
    layers += [[k, f"{v:.1%}"] for k, v in prof["layers"].items()]
    leaves = [["leaf function (where the sampled thread was)", "share"]]
    leaves += [[f"`{k}`", f"{v:.1%}"] for k, v in prof["leaves"]]
    busy = prof["samples"] / (250 * prof["seconds"])
    return (
        f"py-spy `--gil` (only samples where a thread holds the GIL), 250 Hz, non-blocking, "
        f"on the `wangua serve` process during a 16-bidder hot-lot run, racing load "
        f"({prof['rate']:.0f} accepted/s while sampled): {prof['samples']:,} samples in "
        f"{prof['seconds']:.0f} s, so the GIL was held {busy:.0%} of the time. "
        f"Raw stacks in `{prof['file']}`.\n\n"
        f"{_table(layers)}\n\n{_table(leaves)}"
    )


def _reruns(results: dict[str, Any]) -> str:
    """Parts measured again alone after the full run (`--only`), with their run's length
    and, when it differs from the full run's, the machine's CPU."""
    reruns = results.get("reruns") or {}
    if not reruns:
        return ""
    machines = results.get("rerun_machines") or {}

    def where(part: str) -> str:
        cpu = machines.get(part, results["machine"])["cpu"]
        return "" if cpu == results["machine"]["cpu"] else f", on {cpu}"

    return "; measured again alone afterwards: " + ", ".join(
        f"{part} ({seconds:.0f} s{where(part)})" for part, seconds in sorted(reruns.items())
    )


def write_doc(results: dict[str, Any]) -> Path:
    m, db, plan = results["machine"], results["database"], results["plan"]
    packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    mode = "quick" if plan["quick"] else "full"
    target_rows = [["target", "measured", "verdict"]]
    target_rows += [[n, v, d] for n, v, d in targets(results)]
    analysis = ANALYSIS.read_text() if ANALYSIS.exists() else ""
    durability = ", ".join(
        f"{k}={db[k]}"
        for k in ("fsync", "synchronous_commit", "wal_sync_method", "full_page_writes")
    )
    text = f"""# Performance

Quote throughput and latency of a real `wangua serve` process on PostgreSQL, each
figure beside the raw-SQL floor measured in the same run. Generated by
`benchmarks/run.py --write-doc` ({mode} run, {results["elapsed_seconds"]:.0f} s{_reruns(results)});
the analysis at the end is `benchmarks/analysis.md`.

## Commands

```sh
.venv/bin/python -m benchmarks.run --quick       # short levels, a few minutes
.venv/bin/python -m benchmarks.run --write-doc   # full run, rewrites this page
.venv/bin/python -m benchmarks.run --no-profile  # without py-spy
.venv/bin/python -m benchmarks.run --from-results benchmarks/results/full.json  # page only
.venv/bin/python -m benchmarks.run --only fanout --only deadlines --only idle --write-doc
    # only those parts (quotes, fanout, deadlines, idle); the others' figures are kept
    # from the last results file
.venv/bin/python -m benchmarks.probe             # server CPU per request, one at a time
.venv/bin/python -m benchmarks.sqltrace          # each SQL statement of place_quote, timed
.venv/bin/python -m benchmarks.ab REV            # server CPU per request: REV's src/ against
    # the working tree, requests alternated between the two servers
.venv/bin/python -m benchmarks.decisions         # CPU per decision and settlement, lots due
    # together, in-process; --tree DIR measures another checkout (git worktree)
```

py-spy comes from `.venv/bin/python -m pip install py-spy`; without it the run
reports that the profile could not be taken.

Raw results are written to `benchmarks/results/{{quick,full}}.json`.

## Machine and versions

| | |
|---|---|
| CPUs (`nproc`) | {m["nproc"]} |
| CPU model | {m["cpu"]} |
| memory | {m["memory_gib"]} GiB |
| kernel | {m["kernel"]} |
| Python | {m["python"]} |
| PostgreSQL | {db["server_version"]} on 127.0.0.1, same machine |
| pgbench | {m["pgbench"]} |
| packages | {packages} |
| durability | {durability} |
| PostgreSQL memory | shared_buffers={db["shared_buffers"]} |
| connections | max_connections={db["max_connections"]} |

Client, server and PostgreSQL share the same {m["nproc"]} cores, so every
figure includes the load generator's own CPU use.

## How it is measured

- **Server:** `wangua serve` (one uvicorn process, as shipped) on a scratch
  database `wangua_bench_app_<pid>` made with the CLI (`db upgrade`, `ca init`,
  `user add`). Accounts, lots and qualifications are made through the HTTP API
  (`tests/faults/servers.py`, `tests/harness.py`) on the simulated clock, which is
  then stopped at the lots' listing start; the measured server runs on the
  **system clock**, as in production. The many-lots load runs a second time against
  `wangua serve --workers 2` (two processes on one port, the scale-out of
  docs/deployment.md, with the timer grace it asks for, so each process holds the lots
  it has bids for near their deadlines); its server CPU is both workers' and their
  parent's.
- **Bidders:** one `httpx.AsyncClient` (one keep-alive connection) per bidder
  account, all on one uvloop event loop, each quoting only when it is not leading;
  the bidders share what their own answers tell them. Two loads (R-19b accepts any
  amount at least one increment above the highest):
  - *ordered* (the hot-lot and many-lots tables and their targets): the bidders draw
    their amounts from one shared counter, each at least an increment above every
    amount drawn before, so every quote is meant to be accepted, like pgbench's
    transactions; one is refused only when the server accepts a later-drawn quote
    first (`INCREMENT_TOO_SMALL`) or its bidder still leads (`ALREADY_HIGHEST`).
  - *racing* (the last-minute rush): every bidder quotes the current price plus one
    increment, so the N bidders in flight mostly quote the same amount and one wins
    each round; the others' refusals are genuine races.

  Only 201s count as accepted. "1 bidder" is one request in flight, two accounts
  taking turns (a single account would lead after its first quote). Acknowledgement
  latency is send → 201 at the client.
- **SSE:** during each hot-lot level one client watches
  `/api/v1/lots/{{id}}/events`; "SSE frames" counts the accepted quotes whose event
  reached it.
- **Floor:** pgbench (`-M prepared`, same client counts) on scratch tables in
  `wangua_bench_raw_<pid>`: `benchmarks/quote_floor.sql` locks the lot row, inserts
  the quote and updates the lot — the transaction shape of an accepted quote.
  `benchmarks/quote_full.sql` additionally does the other statements wangua's
  quote transaction runs (application lookup, due-timer probe, lot event, audit
  head lock and entry), as a yardstick for SQL volume versus Python.
- **CPU:** from `/proc` over the measured window: the server process, the load
  generator's own process, and every `postgres` process of the cluster alive for the
  whole window (connections opened or closed during it, such as the pool's overflow
  connections at 64 bidders, are missed, so that column undercounts there; other
  databases' work on the shared cluster is included).
- **Growth:** two lots seeded with 10 and 10,000 quotes through the service layer
  (`bidding.service.place_quote`, audit and events included) before the server
  starts; then one request in flight, two accounts taking turns.
- {plan["seconds"]:.0f} s per HTTP level after a {plan["warmup"]:.1f} s warm-up,
  {plan["floor_seconds"]:.0f} s per pgbench level, {plan["growth_seconds"]:.0f} s per
  growth level. The hot lot keeps its quotes from one level to the next.

## Results

### Hot lot: one lot, N concurrent bidders, ordered amounts

{hot_table(results)}

### Hot lot, racing: every bidder quotes the current price plus one increment

No SSE watcher in these levels; the floor columns are for scale only (pgbench never
refuses).

{hot_table(results, "hot_racing")}

### Many lots: 100 lots, 64 bidders (two per lot)

{many_table(results)}

### Growth: acceptance time against the lot's history

{growth_table(results)}

### Targets

{_table(target_rows)}

{scale_report.sections(results)}

## Profile

{profile_section(results)}

{analysis}"""
    DOC.write_text(text)
    return DOC
