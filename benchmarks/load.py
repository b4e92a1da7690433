"""Bidders quoting through the HTTP API: asyncio, one httpx client (one connection)
per bidder account, bounded by a wall-clock deadline.

A quote is valid when it exceeds the current price by at least one increment and its
bidder is not the leader. The bidders share what they learn from their own
answers (the price and leader each 201 sets, the current price each
INCREMENT_TOO_SMALL tells), so every refusal comes from a genuine race between
bidders, never from a stale client.

Two ways to bid (R-19b allows any amount at least one increment above):
- racing: every bidder quotes the current price plus one increment, so N bidders in
  flight quote the same amount and one of them wins each round: the last-minute rush.
- ordered: the bidders draw increasing amounts from one shared counter, each at least an
  increment above every amount drawn before it, so a quote is refused only when the
  server accepts a later-drawn one first. Like pgbench's transactions, every quote is
  meant to be accepted: this is the load the raw-SQL floor compares with.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field, fields
from typing import Any

import httpx

from benchmarks.stats import percentile, postgres_cpu, postgres_cpu_delta, tree_cpu_seconds

MAX_REQUESTS_PER_STREAM = 1_000_000


@dataclass
class LotState:
    id: int
    start_fen: int
    increment_fen: int
    price_fen: int | None = None
    leader: int | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    drawn_fen: int | None = None  # ordered bidding: the highest amount handed out

    def next_fen(self) -> int:
        return self.start_fen if self.price_fen is None else self.price_fen + self.increment_fen

    def draw_fen(self) -> int:
        """Ordered bidding: an amount above every amount drawn before."""
        amount = self.next_fen()
        if self.drawn_fen is not None:
            amount = max(amount, self.drawn_fen + self.increment_fen)
        self.drawn_fen = amount
        return amount

    def moved(self, price_fen: int | None, leader: int | None) -> None:
        if price_fen is not None and (self.price_fen is None or price_fen >= self.price_fen):
            self.price_fen, self.leader = price_fen, leader
            event, self.changed = self.changed, asyncio.Event()
            event.set()


@dataclass
class Stream:
    """One concurrent bidder: its account(s) and the lots it quotes on."""

    accounts: list[int]
    lots: list[int]


@dataclass
class Sample:
    sent: float
    done: float
    status: int
    code: str | None


@dataclass
class Result:
    name: str
    streams: int
    seconds: float
    accepted: int
    refused: Counter[str]
    errors: Counter[str]
    p50_ms: float
    p99_ms: float
    p50_all_ms: float
    p99_all_ms: float
    server_cpu: float
    postgres_cpu: float
    client_cpu: float
    sse_frames: int | None = None
    sse_lag_p50_ms: float | None = None
    sse_lag_p99_ms: float | None = None

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds

    @property
    def requests(self) -> int:
        return self.accepted + sum(self.refused.values()) + sum(self.errors.values())

    def cpu_ms_per_accepted(self, cpu: float) -> float:
        return 1000 * cpu / self.accepted if self.accepted else float("nan")


def as_dict(result: Result) -> dict[str, Any]:
    """The result as plain JSON-able data (dataclasses.asdict mangles Counters)."""
    data = {f.name: getattr(result, f.name) for f in fields(result)}
    data["refused"], data["errors"] = dict(result.refused), dict(result.errors)
    return data


def yuan(value_fen: int) -> str:
    return f"{value_fen // 100}.{value_fen % 100:02d}"


def fen(amount: str) -> int:
    whole, _, cents = amount.partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


class Load:
    def __init__(
        self,
        url: str,
        tokens: dict[int, str],
        lots: dict[int, LotState],
        qualified: dict[int, set[int]],
        *,
        ordered: bool = False,
    ) -> None:
        self.url = url
        self.ordered = ordered
        self.tokens = tokens
        self.lots = lots
        self.qualified = qualified  # account -> lot ids it may quote on
        self.samples: list[Sample] = []
        self.acks: dict[tuple[int, int], float] = {}  # (lot, amount fen) -> ack time
        self.frames: list[tuple[float, int, int]] = []  # (time, lot, amount fen)

    async def _stream(
        self, stream: Stream, clients: dict[int, httpx.AsyncClient], stop_at: float
    ) -> None:
        turn = 0
        for _ in range(MAX_REQUESTS_PER_STREAM):
            if time.perf_counter() >= stop_at:
                return
            choice = None
            for k in range(len(stream.lots) * len(stream.accounts)):
                lot = self.lots[stream.lots[(turn + k) % len(stream.lots)]]
                account = stream.accounts[(turn + k) % len(stream.accounts)]
                if lot.leader != account and lot.id in self.qualified[account]:
                    choice = lot, account
                    break
            if choice is None:  # this bidder leads everywhere it may quote: wait
                lot = self.lots[stream.lots[turn % len(stream.lots)]]
                waiting = lot.changed
                with suppress(TimeoutError):
                    await asyncio.wait_for(waiting.wait(), 0.05)
                turn += 1
                continue
            lot, account = choice
            turn += 1
            amount = lot.draw_fen() if self.ordered else lot.next_fen()
            client = clients[account]
            sent = time.perf_counter()
            try:
                response = await client.post(
                    f"/api/v1/lots/{lot.id}/quotes", json={"amount": yuan(amount)}
                )
            except httpx.HTTPError as error:
                self.samples.append(Sample(sent, time.perf_counter(), 0, type(error).__name__))
                continue
            done = time.perf_counter()
            if response.status_code == 201:
                self.samples.append(Sample(sent, done, 201, None))
                self.acks[(lot.id, amount)] = done
                lot.moved(fen(response.json()["amount"]), account)
                continue
            try:
                problem = response.json()
            except ValueError:
                problem = {"code": f"HTTP {response.status_code}"}
            code = str(problem.get("code"))
            self.samples.append(Sample(sent, done, response.status_code, code))
            if code == "ALREADY_HIGHEST" and lot.price_fen is not None:
                lot.moved(lot.price_fen, account)
            elif code == "INCREMENT_TOO_SMALL":  # the refusal tells the current price
                lot.moved(fen(problem["current_price"]), None)

    async def _watch(self, lot: LotState, after: int, stop_at: float) -> None:
        """One SSE watcher: when does each accepted quote's event reach a client?"""
        async with (
            httpx.AsyncClient(base_url=self.url, timeout=httpx.Timeout(5, read=20)) as client,
            client.stream(
                "GET", f"/api/v1/lots/{lot.id}/events", headers={"Last-Event-ID": str(after)}
            ) as response,
        ):
            name = ""
            async for line in response.aiter_lines():
                if time.perf_counter() >= stop_at:
                    return
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: ") and name == "quote":
                    data = json.loads(line[6:])
                    self.frames.append((time.perf_counter(), lot.id, fen(data["amount"])))

    async def run(
        self,
        name: str,
        streams: list[Stream],
        *,
        warmup: float,
        seconds: float,
        server_pid: int,
        watch: tuple[int, int] | None = None,
    ) -> Result:
        accounts = sorted({a for s in streams for a in s.accounts})
        clients = {
            a: httpx.AsyncClient(
                base_url=self.url,
                headers={"Authorization": f"Bearer {self.tokens[a]}"},
                timeout=30.0,
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            )
            for a in accounts
        }
        try:
            for a in accounts:  # open every connection before the clock starts
                await clients[a].get("/healthz")
            began = time.perf_counter()
            stop_at = began + warmup + seconds
            tasks = [asyncio.create_task(self._stream(s, clients, stop_at)) for s in streams]
            watcher = None
            if watch is not None:
                lot_id, after = watch
                watcher = asyncio.create_task(self._watch(self.lots[lot_id], after, stop_at + 1))
            await asyncio.sleep(warmup)
            pg0 = postgres_cpu()
            cpu0 = (tree_cpu_seconds(server_pid), 0.0, time.process_time())
            window = (time.perf_counter(), time.perf_counter() + seconds)
            await asyncio.sleep(seconds)
            pg = postgres_cpu_delta(pg0, postgres_cpu())
            cpu1 = (tree_cpu_seconds(server_pid), pg, time.process_time())
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
            if watcher is not None:
                await asyncio.sleep(0.5)
                watcher.cancel()
                await asyncio.gather(watcher, return_exceptions=True)
        finally:
            for client in clients.values():
                await client.aclose()
        return self._result(name, len(streams), window, cpu0, cpu1, watch is not None)

    def _result(
        self,
        name: str,
        streams: int,
        window: tuple[float, float],
        cpu0: tuple[float, float, float],
        cpu1: tuple[float, float, float],
        watched: bool,
    ) -> Result:
        inside = [s for s in self.samples if window[0] <= s.done < window[1]]
        ok = [1000 * (s.done - s.sent) for s in inside if s.status == 201]
        refused: Counter[str] = Counter(
            s.code or "" for s in inside if s.status in (409, 422) and s.code
        )
        errors: Counter[str] = Counter(
            f"{s.status} {s.code}" for s in inside if s.status not in (201, 409, 422)
        )
        result = Result(
            name,
            streams,
            window[1] - window[0],
            len(ok),
            refused,
            errors,
            percentile(ok, 50),
            percentile(ok, 99),
            percentile([1000 * (s.done - s.sent) for s in inside], 50),
            percentile([1000 * (s.done - s.sent) for s in inside], 99),
            cpu1[0] - cpu0[0],
            cpu1[1] - cpu0[1],
            cpu1[2] - cpu0[2],
        )
        if watched:
            lags = [
                1000 * (at - self.acks[(lot, amount)])
                for at, lot, amount in self.frames
                if (lot, amount) in self.acks and window[0] <= self.acks[(lot, amount)] < window[1]
            ]
            result.sse_frames = len(lags)
            result.sse_lag_p50_ms = percentile(lags, 50)
            result.sse_lag_p99_ms = percentile(lags, 99)
        return result
