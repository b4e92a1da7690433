"""The report's sections for fan-out, deadlines and growth in active lots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.deadlines import CONNECT_AHEAD
from benchmarks.stats import percentile

ANALYSIS = Path(__file__).parent / "analysis-scale.md"


def _table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def _fanout_rows(results: dict[str, Any]) -> list[list[str]]:
    fan = results["fanout"]
    rows = [
        [
            "server",
            "watchers connected",
            "frames received / expected",
            "p50 ms",
            "p99 ms",
            "max ms",
            "server CPU",
            "client CPU",
        ]
    ]
    for level in [*fan.get("baseline", []), *fan.get("wangua", [])]:
        rows.append(
            [
                level["name"],
                f"{level['connected']:,}/{level['watchers']:,}",
                f"{level['received']:,}/{level['expected']:,}",
                f"{level['p50_ms']:.1f}",
                f"{level['p99_ms']:.1f}",
                f"{level['max_ms']:.1f}",
                f"{level['server_cpu'] / level['seconds']:.0%}",
                f"{level['client_cpu'] / level['seconds']:.0%}",
            ]
        )
    return rows


def targets(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    fan = results.get("fanout")
    if fan and "wangua" in fan:
        base = {lv["watchers"]: lv for lv in fan.get("baseline", [])}
        api = {lv["watchers"]: lv for lv in fan["wangua"] if "/events" in lv["name"]}
        ours, floor = api.get(5000), base.get(5000)
        if ours and floor:
            complete = ours["received"] >= ours["expected"] > 0
            out.append(
                (
                    "fan-out, 5,000 watchers: p99 ≤ 1.5 × the Starlette baseline",
                    f"{ours['p99_ms']:.0f} ms vs {floor['p99_ms']:.0f} ms "
                    f"({ours['received']:,}/{ours['expected']:,} frames)",
                    _verdict(complete and ours["p99_ms"] <= 1.5 * floor["p99_ms"]),
                )
            )
            out.append(
                (
                    "fan-out, 5,000 watchers: p99 ≤ 150 ms",
                    f"{ours['p99_ms']:.0f} ms",
                    _verdict(complete and ours["p99_ms"] <= 150),
                )
            )
    dl = results.get("deadlines")
    if dl and "error" not in dl:
        out.append(
            (
                "deadlines: each of 100 lots closes within 50 ms after its deadline",
                f"{dl['within_50ms']}/{dl['closed_at_deadline']} closed at the deadline did; "
                f"max {dl['lag_max_ms']:.0f} ms",
                _verdict(dl["within_50ms"] == dl["closed_at_deadline"] == dl["lots"]),
            )
        )
        out.append(
            (
                "deadlines: no quote accepted at or after the deadline",
                f"{dl['accepted_at_or_after']} of {dl['quotes_sent']}",
                _verdict(dl["accepted_at_or_after"] == 0),
            )
        )
        if "sent_before_refused_late" in dl:
            out.append(
                (
                    "deadlines: no bid sent 3 ms or more before the deadline refused as late "
                    "(R-18 receipt)",
                    f"{dl['sent_before_refused_late']} of {dl['sent_before']}",
                    _verdict(dl["sent_before_refused_late"] == 0),
                )
            )
    idle = results.get("idle")
    if idle and idle.get("levels"):
        levels = {int(k): v for k, v in idle["levels"].items()}
        small, large = levels.get(10), levels.get(10_000)
        if small and large:
            s, big = small["quotes"], large["quotes"]
            out.append(
                (
                    "acceptance time does not grow from 10 to 10,000 active lots",
                    f"ack p50 {s['p50_ms']:.1f} → {big['p50_ms']:.1f} ms",
                    _verdict(big["p50_ms"] <= 1.25 * s["p50_ms"]),
                )
            )
            share = large["idle"]["server_share"]
            out.append(
                (
                    "idle CPU with 10,000 scheduled lots < 2 % of a core",
                    f"{share:.2%}",
                    _verdict(share < 0.02),
                )
            )
    return out


def summary(results: dict[str, Any]) -> str:
    parts = []
    if "fanout" in results and "wangua" in results["fanout"]:
        parts += ["fan-out", _table(_fanout_rows(results)), ""]
    parts += [f"  {v:4}  {n}: {m}" for n, m, v in targets(results)]
    return "\n".join(parts)


def sections(results: dict[str, Any]) -> str:
    parts = []
    fan = results.get("fanout")
    if fan and "wangua" in fan:
        parts.append(
            f"""### Fan-out: SSE watchers on one lot, {fan["rate"]} quotes/s

Two bidders quote in turn {fan["rate"]} times a second while N clients watch the lot.
Latency is from the quote's `received_at` (stamped when its request arrived, so it also
counts judging the quote and its commit: more than commit → client) to the moment the
client's event loop reads the frame, on the same machine's wall clock; over
{fan["seconds"]:.0f} s per level.
The baseline is `benchmarks/sse_baseline.py`, a bare Starlette app under uvicorn (uvloop,
httptools) that stamps each published message and wakes every stream, measured in the
same run with the same client (raw asyncio connections on one uvloop; open-file limit
raised to {fan["nofile"]:,}). `/lots/{{id}}/live` is the browser's path: its watchers load
the lot page and connect from the page's last event, as htmx does; each event is an HTML
row plus the board (about 4 KB against the API's 0.4 KB), rendered once for all of them;
its `received_at` comes from one API watcher beside it.

{_table(_fanout_rows(results))}"""
        )
    dl = results.get("deadlines")
    if dl:
        if "error" in dl:
            parts.append(f"### Deadlines\n\nNot measured: {dl['error']}")
        else:
            answers = ", ".join(f"{k}: {v}" for k, v in sorted(dl["answers"].items()))
            early_lots = dl.get("early_lots", 0)
            early = f"{dl.get('sent_before', 'n/a')}, {dl.get('sent_before_accepted', 'n/a')}"
            lag = f"{dl['lag_p50_ms']:.1f} / {dl['lag_p99_ms']:.1f} / {dl['lag_max_ms']:.1f} ms"
            late = dl.get("sent_before_refused_late", "n/a")
            marginal, marginal_ms = _marginal(dl)
            stamps = dl.get("receipt_lag_ms") or []
            stamp = f"{percentile(stamps, 50):.1f} / {max(stamps):.1f} ms" if stamps else "n/a"
            parts.append(
                f"""### Deadlines: {dl["lots"]} lots whose countdowns end at the same instant

Setup on the simulated clock ({dl["setup_seconds"]:.0f} s) up to timed bidding with
one shared countdown end, then a system-clock server takes over (started while the
simulated one still served, so R-37c sees no outage). One bidder fires a bid at each of
{dl["lots"]} lots at {", ".join(f"{o:+d}" for o in dl["offsets_ms"] if o >= 0)} ms from
the deadline, and at {early_lots} more lots with the same deadline at
{", ".join(f"{o:+d}" for o in dl["offsets_ms"])} ms; each bid on its own connection opened
{CONNECT_AHEAD:.0f} s before, its bytes written at that instant (the last of each volley
left {max(dl.get("send_spread_ms", {0: 0}).values()):.1f} ms after it at most). A bid
received before the deadline restarts that lot's countdown (R-25a), so those
{early_lots} lots do not close at this deadline: they show that a bid sent before it,
in the burst, is received before it (R-18). Close lag is when the lot's `result` event
reaches an SSE watcher (wall clock) minus the deadline; the result's `decided_at` is
the timer's due time by design (stamped lag max {dl["stamped_lag_max_ms"]:.0f} ms).

| | |
|---|---|
| lots closed at the deadline | {dl["closed_at_deadline"]} of {dl["lots"]} |
| lots with bids before the deadline, restarted by one | {dl["extended"]} of {early_lots} |
| close lag p50 / p99 / max | {lag} |
| closed within 50 ms | {dl["within_50ms"]} |
| bids sent | {dl["quotes_sent"]} |
| sent 3 to 30 ms before the deadline, and of them accepted | {early} |
| sent 3 to 30 ms before the deadline and refused as late (`NOT_OPEN`) | {late} |
| aimed at the deadline, sent just before it (up to {marginal_ms} ms), and accepted | {marginal} |
| receipt stamp after the bid was sent (accepted bids), p50 / max | {stamp} |
| answers | {answers} |
| accepted at or after the deadline in force | {dl["accepted_at_or_after"]} |{_two_processes(dl)}"""
            )
    idle = results.get("idle")
    if idle and idle.get("levels"):
        rows = [
            [
                "active lots",
                "accepted/s (1 in flight)",
                "ack p50 ms",
                "ack p99 ms",
                "server CPU ms/accepted",
                "idle: server CPU",
                "idle: PostgreSQL (cluster) CPU",
            ]
        ]
        for active, level in idle["levels"].items():
            q, i = level["quotes"], level["idle"]
            rows.append(
                [
                    f"{int(active):,}",
                    f"{q['accepted'] / q['seconds']:.0f}",
                    f"{q['p50_ms']:.1f}",
                    f"{q['p99_ms']:.1f}",
                    f"{1000 * q['server_cpu'] / max(1, q['accepted']):.2f}",
                    f"{i['server_share']:.2%}",
                    f"{i['postgres_share']:.2%}",
                ]
            )
        seconds = next(iter(idle["levels"].values()))["idle"]["seconds"]
        parts.append(
            f"""### Growth in active lots: 10 against 10,000 listing lots with live timers

The 10 lots are made through the API; 9,990 more are copies of one of them (its `lots`
row and pending `timers`, due times spread over a day) inserted with SQL while the
server is stopped ({idle.get("seed_seconds", 0):.1f} s), because creating them through
the API would take most of an hour. Idle CPU is the server process's `/proc` CPU time
over {seconds:.0f} s with no requests, after 3 s of settling; then one quote in flight,
two accounts taking turns.

{_table(rows)}"""
        )
    rows = [["target", "measured", "verdict"]]
    rows += [[n, m, v] for n, m, v in targets(results)]
    if len(rows) > 1:
        parts.append(f"### Targets: fan-out, deadlines, growth\n\n{_table(rows)}")
    if parts and ANALYSIS.exists():
        parts.append(ANALYSIS.read_text().strip())
    return "\n\n".join(parts)


def _marginal(dl: dict[str, Any]) -> tuple[str, str]:
    """Bids aimed at the deadline but sent a fraction of a millisecond before it: they
    reach the server after it (R-18), so accepting none of them is right."""
    if "sent_marginally_before" not in dl:
        return "n/a", "n/a"
    counts = f"{dl['sent_marginally_before']}, {dl['marginal_accepted']}"
    return counts, f"{dl['marginal_before_ms']:.2f}"


def _two_processes(dl: dict[str, Any]) -> str:
    """The deadline run's rows again for `wangua serve --workers 2`, if it was measured."""
    two = dl.get("workers_2")
    if not two or "error" in two:
        return ""
    lag = f"{two['lag_p50_ms']:.1f} / {two['lag_p99_ms']:.1f} / {two['lag_max_ms']:.1f} ms"
    rows = [
        ("lots closed at the deadline", f"{two['closed_at_deadline']} of {two['lots']}"),
        ("close lag p50 / p99 / max", lag),
        (
            "sent 3 to 30 ms before the deadline, and of them accepted",
            f"{two['sent_before']}, {two['sent_before_accepted']}",
        ),
        (
            "sent 3 to 30 ms before the deadline and refused as late (`NOT_OPEN`)",
            str(two.get("sent_before_refused_late", "n/a")),
        ),
        (
            "aimed at the deadline, sent just before it (up to {1} ms), and accepted".format(
                *_marginal(two)
            ),
            _marginal(two)[0],
        ),
        ("accepted at or after the deadline in force", str(two["accepted_at_or_after"])),
    ]
    who = f"two server processes (grace {two.get('timer_grace_ms', 0)} ms)"
    return "".join(f"\n| {who}: {name} | {value} |" for name, value in rows)
