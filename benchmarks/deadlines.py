"""Deadlines: 100 lots whose countdowns end at the same instant, on the system clock.
Every lot must close within 50 ms after its deadline, and no quote may be accepted at
or after it; a bidder fires quotes at each lot at and just after the deadline. 50 more
lots with the same deadline take bids from just before it as well: a bid sent before
the deadline is received before it (R-18), so it must be judged so, and restart the
countdown (R-25a), however many bids arrive with it.

Setup runs on the simulated clock up to timed bidding (the same lot dates, so the same
countdown end), then moves that clock to the real time and hands over to a system-clock
server started while the simulated one still serves, so the hand-over is not an outage
(R-37c would otherwise suspend every lot whose deadline is within 5 minutes of a
restart). The close is observed by one SSE watcher per lot: the wall-clock time its
`result` event arrives, minus the deadline; the result's own `decided_at` is the timer's
due time by design (handlers run at their due time), so it only shows the bookkeeping.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvloop
from tests.faults.servers import Installation, _environment, process_stack, provision
from tests.harness import drop_postgres_database, fresh_postgres_database

from benchmarks.fanout import raise_nofile
from benchmarks.stats import percentile
from benchmarks.system import server

LOTS = 100  # lots that close at the deadline: bids at and after it only
EARLY_LOTS = 50  # lots that also take bids before it
OFFSETS_MS = (-30, -10, -3, 0, 3, 10, 30, 100)
SETUP_GUESS = timedelta(seconds=150)  # the simulated setup takes about this long
MARGIN = timedelta(seconds=25)  # from the hand-over to the deadline, at least
CONNECT_AHEAD = 2.0  # seconds before the deadline the bidder's 900 connections open
GRACE_MS = 2000  # WANGUA_TIMER_GRACE_MS with two processes, as docs/deployment.md asks
LENGTH = re.compile(rb"content-length: *(\d+)", re.IGNORECASE)


def _t(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class ResultWatcher(asyncio.Protocol):
    def __init__(self, request: bytes) -> None:
        self.request = request
        self.result_at: float | None = None
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buffer = (self.buffer + data)[-4096:]
        if self.result_at is None and b"event: result" in self.buffer:
            self.result_at = now


class QuoteCall(asyncio.Protocol):
    """One `POST /quotes` on its own keep-alive connection, written at a chosen instant:
    the send time is when the bytes went to the socket, not when a client library got
    round to it (an HTTP client preparing a hundred requests at once takes longer than
    the offsets measured here)."""

    def __init__(self) -> None:
        self.answer: asyncio.Future[tuple[int, dict[str, Any]]] = (
            asyncio.get_running_loop().create_future()
        )
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.sent_at = 0.0
        self.answered_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, request: bytes) -> None:
        assert self.transport is not None
        self.sent_at = time.time()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head, sep, body = self.buffer.partition(b"\r\n\r\n")
        length = LENGTH.search(head)
        if sep and length and len(body) >= int(length.group(1)) and not self.answer.done():
            status = int(head.split(b" ", 2)[1])
            self.answered_at = time.time()
            self.answer.set_result((status, json.loads(body[: int(length.group(1))])))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.answer.done():
            self.answer.set_exception(ConnectionError(f"closed before the answer: {exc!r}"))


Answer = tuple[int, int, int, str | None, str | None, float, float]  # lot, offset, status,
# code, received_at, sent_at, answered_at


async def _fire(port: int, lots: list[dict[str, Any]], token: str, deadline: float) -> Any:
    loop = asyncio.get_running_loop()
    watchers = []
    transports = []
    for lot in lots:
        request = (
            f"GET /api/v1/lots/{lot['id']}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Last-Event-ID: {lot['last_event']}\r\n\r\n"
        ).encode()
        watcher = ResultWatcher(request)
        transport, _ = await loop.create_connection(lambda w=watcher: w, "127.0.0.1", port)
        watchers.append(watcher)
        transports.append(transport)
    # connect the bidder's calls shortly before the deadline (uvicorn closes a connection
    # idle for 5 s), each with its request ready
    await asyncio.sleep(max(0.0, deadline - CONNECT_AHEAD - time.time()))
    calls: dict[tuple[int, int], tuple[QuoteCall, bytes]] = {}
    for lot in lots:
        for offset in _offsets(lot):
            call = QuoteCall()
            await loop.create_connection(lambda c=call: c, "127.0.0.1", port)
            payload = json.dumps({"amount": lot["bid"], "request_id": str(uuid.uuid4())})
            request = (
                f"POST /api/v1/lots/{lot['id']}/quotes HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n\r\n{payload}"
            ).encode()
            calls[lot["id"], offset] = (call, request)

    async def volley(offset: int) -> None:
        await asyncio.sleep(max(0.0, deadline + offset / 1000 - time.time()))
        for lot in lots:
            if (lot["id"], offset) in calls:
                call, request = calls[lot["id"], offset]
                call.send(request)

    await asyncio.gather(*(volley(offset) for offset in OFFSETS_MS))
    answers: list[Answer] = []
    for (lot_id, offset), (call, _) in calls.items():
        with suppress(ConnectionError, TimeoutError):
            status, body = await asyncio.wait_for(call.answer, 30)
            code, received_at = body.get("code"), body.get("received_at")
            answers.append(
                (lot_id, offset, status, code, received_at, call.sent_at, call.answered_at)
            )
        if call.transport is not None:
            call.transport.close()
    end = time.time() + 10
    while time.time() < end and any(w.result_at is None for w in watchers):
        await asyncio.sleep(0.1)
    for transport in transports:
        transport.close()
    return [w.result_at for w in watchers], answers


def _offsets(lot: dict[str, Any]) -> list[int]:
    return [o for o in OFFSETS_MS if lot["early"] or o >= 0]


def measure(plan: Any, log: Any = print) -> dict[str, Any]:
    """The run against one serving process, and again (new lots, new deadline) against
    `wangua serve --workers 2` with the timer grace the deployment guide asks for: each
    process's scheduler takes the lots it can lock, a grace after the deadline."""
    out = _measure_once(log, workers=1)
    if "error" not in out:
        log("  again with two server processes")
        out["workers_2"] = _measure_once(log, workers=2)
    return out


def _measure_once(log: Any, *, workers: int) -> dict[str, Any]:  # noqa: PLR0915  (one timeline, read top to bottom)
    raise_nofile()
    name = f"wangua_bench_dl_{os.getpid()}_{workers}"
    began = datetime.now(UTC)
    # lots made at the clock's start list from 21 days later for 10 days, then 5 minutes
    # of inquiry: start the clock so that timed bidding begins a little before the real
    # time the setup will have reached
    timed_start = began + SETUP_GUESS - timedelta(minutes=4)
    clock_start = timed_start - timedelta(days=31, minutes=5)
    with (
        tempfile.TemporaryDirectory(prefix="wangua-deadlines-") as tmp,
        _installation(Path(tmp), name, clock_start) as inst,
    ):
        with server(inst, "simulated") as sim:
            stack = process_stack(inst, sim.url)
            staff = stack.account("staff", "xianning-city")
            with ThreadPoolExecutor(max_workers=4) as pool:
                lots = list(
                    pool.map(lambda _: stack.published_lot(staff), range(LOTS + EARLY_LOTS))
                )
                for index, lot in enumerate(lots):
                    lot["early"] = index >= LOTS
                first, second = stack.bidder(), stack.bidder()
                list(pool.map(lambda lot: stack.qualified(first, lot), lots))
                list(pool.map(lambda lot: stack.qualified(second, lot), lots))
                stack.advance_to(lots[0]["listing_start"])
                for lot in lots:  # both quote while listing: only they may join
                    assert stack.quote(first, lot, lot["start_price"]).status_code == 201
                    whole = int(lot["start_price"].split(".")[0])
                    step = int(lot["increment"].split(".")[0])
                    assert stack.quote(second, lot, f"{whole + step}.00").status_code == 201
                stack.advance_to(lots[0]["listing_end"])

                def join(lot: dict[str, Any]) -> None:
                    for bidder in (first, second):
                        answer = bidder.http.post(
                            f"/api/v1/lots/{lot['id']}/inquiry", json={"join": True}
                        )
                        assert answer.status_code == 200, answer.text

                list(pool.map(join, lots))
            view = stack.lot(lots[0]["id"])
            stack.advance_to(view["inquiry_end"])
            view = stack.lot(lots[0]["id"])
            assert view["status"] == "timed_bidding", view
            deadline = _t(view["timed_deadline"])
            setup = (datetime.now(UTC) - began).total_seconds()
            log(f"  setup on the simulated clock: {setup:.0f} s; deadline {deadline.isoformat()}")
            now = datetime.now(UTC)
            if now + MARGIN > deadline:
                stack.close()
                return {"error": f"setup took {setup:.0f} s, too long for the planned deadline"}
            if now > _t(stack.anonymous().get("/api/v1/clock").json()["now"]):
                stack.advance_to(now)
            for lot in lots:  # every lot shares the deadline; the same next bid
                lot_view = stack.lot(lot["id"])
                assert lot_view["timed_deadline"] == view["timed_deadline"]
                whole = int(lot_view["current_price"].split(".")[0]) + int(
                    lot_view["increment"].split(".")[0]
                )
                lot["bid"] = f"{whole}.00"
            stack.close()
            grace = GRACE_MS if workers > 1 else 0
            inst.env["WANGUA_TIMER_GRACE_MS"] = str(grace)
            with server(inst, "system", workers) as live:
                sim.stop()  # the system-clock server is up: no moment without a server
                assert live.proc is not None
                for lot in lots:
                    lot["last_event"] = _last_event(inst, lot["id"])
                wait = (deadline - datetime.now(UTC)).total_seconds()
                log(f"  system clock serving; deadline in {wait:.0f} s")
                with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                    result_at, answers = runner.run(
                        _fire(live.port, lots, first.token, deadline.timestamp())
                    )
                with httpx.Client(base_url=live.url, timeout=30) as anon:
                    views = {
                        lot["id"]: anon.get(f"/api/v1/lots/{lot['id']}").json() for lot in lots
                    }
                    quotes = {
                        lot["id"]: anon.get(f"/api/v1/lots/{lot['id']}/quotes").json()
                        for lot in lots
                    }
        summary = _summarise(lots, deadline, result_at, answers, views, quotes, setup, log)
        return {**summary, "timer_grace_ms": grace}


@contextmanager
def _installation(base: Path, name: str, clock_start: datetime) -> Iterator[Installation]:
    """benchmarks.system.bench_installation with the simulated clock starting elsewhere."""
    url = fresh_postgres_database(name)
    try:
        env = _environment(base, url, base / "ca")
        env["WANGUA_CLOCK_START"] = clock_start.isoformat()
        inst = Installation(
            "postgresql", base, env, base / "ca", base / "admin.key.pem", base / "admin.crt.pem"
        )
        provision(inst)
        yield inst
    finally:
        drop_postgres_database(name)


def _last_event(inst: Any, lot_id: int) -> int:
    import psycopg

    url = inst.env["WANGUA_DATABASE_URL"]
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT max(seq) FROM lot_events WHERE lot_id = %s", (lot_id,)
        ).fetchone()
    return int(row[0] or 0) if row else 0


def _spans(refused: list[dict[str, Any]]) -> str:
    """The refused bids' receipt stamps and answers after the deadline, as min–max."""
    if not refused:
        return "none"
    received = [r["received"] for r in refused if r["received"] is not None]
    answered = [r["answered"] for r in refused]
    shown = f"{min(received):.0f}–{max(received):.0f}" if received else "not stamped"
    return f"{shown}, {min(answered):.0f}–{max(answered):.0f}"


def _summarise(
    lots: list[dict[str, Any]],
    deadline: datetime,
    result_at: list[float | None],
    answers: list[Answer],
    views: dict[int, dict[str, Any]],
    quotes: dict[int, list[dict[str, Any]]],
    setup: float,
    log: Any,
) -> dict[str, Any]:
    late_accepted = []
    extended = 0
    for lot in lots:
        timed = [q for q in quotes[lot["id"]] if q.get("phase") == "timed"]
        in_force = deadline
        for quote in timed:  # each accepted bid restarts the countdown (R-25a)
            at = _t(quote["received_at"])
            if at >= in_force:
                late_accepted.append((lot["id"], quote["received_at"], in_force.isoformat()))
            in_force = at + timedelta(minutes=5)
        if timed and lot["early"]:
            extended += 1
    closed = [
        (lot, at)
        for lot, at in zip(lots, result_at, strict=True)
        if not lot["early"] and at is not None and views[lot["id"]]["status"] in ("sold", "unsold")
    ]
    lags = [1000 * (at - deadline.timestamp()) for _, at in closed]
    stamped = [
        1000 * (_t(views[lot["id"]]["ended_at"]) - deadline).total_seconds()
        for lot, _ in closed
        if views[lot["id"]].get("ended_at")
    ]
    cut = deadline.timestamp()
    codes = Counter(
        f"{status} {code or ''}".strip() + (" (aimed before)" if aim < 0 else " (aimed at/after)")
        for _, aim, status, code, _, _, _ in answers
    )
    # Aimed 3 ms or more before the deadline: sent before it by more than a bid takes to
    # reach the server. A bid aimed at the deadline and sent a fraction of a millisecond
    # early arrives after it, and is late by its receipt: counted apart.
    early = [a for a in answers if a[1] < 0]
    marginal = [a for a in answers if a[1] >= 0 and a[5] < cut]
    receipt_lag = [1000 * (_t(a[4]).timestamp() - a[5]) for a in answers if a[2] == 201 and a[4]]
    accepted_after = [
        a for a in answers if a[2] == 201 and a[4] is not None and _t(a[4]) >= deadline
    ]
    refused_late = [  # each bid sent before and refused as late: receipt, answer after it
        {
            "lot": a[0],
            "offset": a[1],
            "received": a[4] and 1000 * (_t(a[4]).timestamp() - cut),
            "answered": 1000 * (a[6] - cut),
        }
        for a in early
        if a[3] == "NOT_OPEN"
    ]
    out = {
        "lots": LOTS,
        "early_lots": EARLY_LOTS,
        "deadline": deadline.isoformat(),
        "setup_seconds": setup,
        "offsets_ms": list(OFFSETS_MS),
        "quotes_sent": len(answers),
        "sent_before": len(early),
        "sent_before_accepted": sum(1 for a in early if a[2] == 201),
        "sent_before_refused_late": sum(1 for a in early if a[3] == "NOT_OPEN"),
        "refused_late_ms": refused_late,
        "sent_marginally_before": len(marginal),
        "marginal_accepted": sum(1 for a in marginal if a[2] == 201),
        "marginal_before_ms": 1000 * (cut - min((a[5] for a in marginal), default=cut)),
        "receipt_lag_ms": receipt_lag,
        "send_spread_ms": {
            str(off): 1000 * (max(a[5] for a in answers if a[1] == off) - cut) - off
            for off in OFFSETS_MS
            if any(a[1] == off for a in answers)
        },
        "answers": dict(codes),
        "accepted_at_or_after": len(accepted_after) + len(late_accepted),
        "extended": extended,
        "closed_at_deadline": len(closed),
        "lag_p50_ms": percentile(lags, 50),
        "lag_p99_ms": percentile(lags, 99),
        "lag_max_ms": max(lags) if lags else float("nan"),
        "within_50ms": sum(1 for x in lags if x <= 50),
        "stamped_lag_max_ms": max(stamped) if stamped else float("nan"),
    }
    log(
        f"  {out['closed_at_deadline']}/{LOTS} lots closed at the deadline, "
        f"{extended}/{EARLY_LOTS} with bids before it extended by one; "
        f"close lag p50 {out['lag_p50_ms']:.1f} ms "
        f"p99 {out['lag_p99_ms']:.1f} ms max {out['lag_max_ms']:.1f} ms; "
        f"{out['within_50ms']} within 50 ms; accepted at/after the deadline: "
        f"{out['accepted_at_or_after']}; {out['sent_before']} sent 3 ms or more before it, "
        f"{out['sent_before_accepted']} of them accepted, "
        f"{out['sent_before_refused_late']} refused as late "
        f"(received, answered ms after it: {_spans(refused_late)}); "
        f"{out['sent_marginally_before']} aimed at it sent up to "
        f"{out['marginal_before_ms']:.2f} ms before it ({out['marginal_accepted']} accepted); "
        "receipt stamp after send "
        f"(accepted, ms) p50 {percentile(receipt_lag, 50):.1f} "
        f"max {max(receipt_lag, default=0):.1f}; "
        f"answers {dict(codes)}; "
        f"last send after its instant per offset (ms): {out['send_spread_ms']}"
    )
    return out
