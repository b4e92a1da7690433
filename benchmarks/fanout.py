"""Fan-out: N SSE watchers on one lot while two bidders quote 5 times a second; delivery
latency from the quote's `received_at` (read inside its transaction, just before the
commit) to the moment a watcher's socket delivers the frame, beside a bare Starlette
broadcast (benchmarks/sse_baseline.py) to the same number of clients in the same run.

Watchers are raw asyncio connections on one uvloop (an httpx client per connection costs
more CPU than the server under test); each records when every `id:` arrives, and one
parses the data to learn each event's `received_at`.
"""

from __future__ import annotations

import asyncio
import json
import re
import resource
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import uvloop
from tests.faults.servers import process_stack
from tests.harness import free_port

from benchmarks.stats import percentile, process_cpu_seconds
from benchmarks.system import bench_installation, server

ID = re.compile(rb"(?:^|\n)id: (\d+)\n")
QUOTES_PER_SECOND = 5


def raise_nofile(wanted: int = 65536) -> int:
    """Raise this process's (and its children's) open-file limit as far as allowed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _stamp(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class Watcher(asyncio.Protocol):
    def __init__(self, request: bytes, record: Callable[[int, float], None], parse: bool) -> None:
        self.request = request
        self.record = record
        self.parse = parse
        self.buffer = b""
        self.open = asyncio.get_running_loop().create_future()
        self.stamps: dict[int, float] = {}
        self.transport: asyncio.Transport | None = None
        self.head = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buffer = self.buffer + data
        end = buffer.rfind(b"\n\n")
        if end < 0:
            self.buffer = buffer
            return
        chunk, self.buffer = buffer[: end + 2], buffer[end + 2 :]
        if not self.open.done():
            self.head = chunk[:12].decode(errors="replace")
            self.open.set_result(chunk.startswith(b"HTTP/1.1 200"))
        for match in ID.finditer(chunk):
            self.record(int(match.group(1)), now)
        if self.parse:
            for line in chunk.split(b"\n"):
                if line.startswith(b"data: {") and b'"received_at"' in line:
                    data = json.loads(line[6:])
                    self.stamps[int(data["seq"])] = _stamp(data["received_at"])

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.open.done():
            self.head = f"lost: {exc!r}"[:60]
            self.open.set_result(False)


@dataclass
class Level:
    name: str
    watchers: int
    connected: int
    expected: int  # frames the watchers should have received in the window
    received: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    server_cpu: float
    client_cpu: float
    seconds: float
    quotes: int
    ack_p50_ms: float | None = None
    failed: dict[str, int] = field(default_factory=dict)


@dataclass
class Run:
    arrivals: list[tuple[int, float]] = field(default_factory=list)

    def record(self, seq: int, at: float) -> None:
        self.arrivals.append((seq, at))


async def _connect(
    port: int, path: str, headers: str, count: int, run: Run
) -> tuple[list[Watcher], list[asyncio.Transport]]:
    loop = asyncio.get_running_loop()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n{headers}\r\n"
    ).encode()
    watchers: list[Watcher] = []
    transports: list[asyncio.Transport] = []
    for begin in range(0, count, 100):  # well within the listen backlog
        batch = []
        for index in range(begin, min(count, begin + 100)):
            watcher = Watcher(request, run.record, parse=index == 0)

            def make(w: Watcher = watcher) -> Watcher:
                return w

            batch.append(loop.create_connection(make, "127.0.0.1", port))
            watchers.append(watcher)
        for transport, _ in await asyncio.gather(*batch):
            transports.append(transport)
        opened = [w.open for w in watchers[begin : begin + 100]]
        await asyncio.wait(opened, timeout=30)  # a watcher not answered by then counts as failed
    return watchers, transports


async def _level(
    name: str,
    *,
    port: int,
    path: str,
    headers: str,
    count: int,
    publish: Callable[[httpx.AsyncClient, int], Any],
    clients: list[httpx.AsyncClient],
    server_pid: int,
    warmup: float,
    seconds: float,
    stamps_from: Callable[[], dict[int, float]] | None = None,
) -> Level:
    run = Run()
    watchers, transports = await _connect(port, path, headers, count, run)
    for w in watchers:
        if not w.open.done():
            w.head = "no answer within 30 s"
            w.open.set_result(False)
    connected = sum(1 for w in watchers if w.open.done() and w.open.result())
    failed = Counter(w.head for w in watchers if not (w.open.done() and w.open.result()))
    acks: list[float] = []
    sent: list[int] = []

    async def quoting(stop: float) -> None:
        tick = time.perf_counter()
        n = 0
        while tick < stop:
            began = time.perf_counter()
            with suppress(httpx.HTTPError):
                response = await publish(clients[n % len(clients)], n)
                if response is not None and response.status_code == 201:
                    acks.append(1000 * (time.perf_counter() - began))
                    sent.append(n)
            n += 1
            tick += 1 / QUOTES_PER_SECOND
            await asyncio.sleep(max(0.0, tick - time.perf_counter()))

    begin = time.perf_counter()
    task = asyncio.create_task(quoting(begin + warmup + seconds))
    await asyncio.sleep(warmup)
    window = (time.time(), time.time() + seconds)
    cpu0 = (process_cpu_seconds(server_pid), time.process_time())
    await asyncio.sleep(seconds)
    cpu1 = (process_cpu_seconds(server_pid), time.process_time())
    await task
    await asyncio.sleep(1.0)  # let the last frames arrive
    for transport in transports:
        transport.close()
    stamps = stamps_from() if stamps_from is not None else watchers[0].stamps
    inside = {seq for seq, at in stamps.items() if window[0] <= at < window[1]}
    lags = [1000 * (at - stamps[seq]) for seq, at in run.arrivals if seq in inside]
    result = Level(
        name,
        count,
        connected,
        len(inside) * connected,
        len(lags),
        percentile(lags, 50),
        percentile(lags, 99),
        max(lags) if lags else float("nan"),
        cpu1[0] - cpu0[0],
        cpu1[1] - cpu0[1],
        seconds,
        len(inside),
        percentile(acks, 50) if acks else None,
        dict(failed),
    )
    await asyncio.sleep(1.0)
    return result


def _line(level: Level) -> str:
    return (
        f"  {level.name:34} watchers {level.connected}/{level.watchers}  frames "
        f"{level.received}/{level.expected}  p50 {level.p50_ms:7.1f} ms  p99 {level.p99_ms:7.1f} ms"
        f"  max {level.max_ms:7.1f} ms  server CPU {level.server_cpu / level.seconds:.0%}"
        f"  client CPU {level.client_cpu / level.seconds:.0%}"
        + (f"  failed: {level.failed}" if level.failed else "")
    )


def _baseline(counts: tuple[int, ...], warmup: float, seconds: float, log: Any) -> list[Level]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "benchmarks.sse_baseline:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
            "--backlog",
            "4096",
        ],
        cwd=Path(__file__).parent.parent,
        stdin=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            with suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)

        async def go() -> list[Level]:
            out = []
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                for count in counts:
                    level = await _level(
                        f"Starlette baseline, {count:,} watchers",
                        port=port,
                        path="/events",
                        headers="",
                        count=count,
                        publish=lambda c, n: c.post("/publish"),
                        clients=[client],
                        server_pid=proc.pid,
                        warmup=warmup,
                        seconds=seconds,
                    )
                    log(_line(level))
                    out.append(level)
            return out

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(go())
    finally:
        proc.terminate()
        proc.wait(10)


def measure(plan: Any, log: Any = print, *, pages: bool = True) -> dict[str, Any]:  # noqa: PLR0915  (setup and three server phases read best in one place)
    limit = raise_nofile()
    counts = (1000, 5000)
    warmup, seconds = (2.0, 8.0) if plan.quick else (3.0, 20.0)
    log(f"  open-file limit {limit}")
    out: dict[str, Any] = {"nofile": limit, "rate": QUOTES_PER_SECOND, "seconds": seconds}
    out["baseline"] = [vars(x) for x in _baseline(counts, warmup, seconds, log)]
    name = f"wangua_bench_fan_{__import__('os').getpid()}"
    import tempfile

    with (
        tempfile.TemporaryDirectory(prefix="wangua-fan-") as tmp,
        bench_installation(Path(tmp), name) as inst,
    ):
        with server(inst, "simulated") as process:
            stack = process_stack(inst, process.url)
            staff = stack.account("staff", "xianning-city")
            lot = stack.published_lot(staff)
            bidders = [stack.bidder(), stack.bidder()]
            for b in bidders:
                stack.qualified(b, lot)
            stack.advance_to(lot["listing_start"])
            stack.close()
        start = int(lot["start_price"].split(".")[0]) * 100
        step = int(lot["increment"].split(".")[0]) * 100
        price = [start - step]
        with server(inst, "system") as process:
            assert process.proc is not None
            pid = process.proc.pid

            async def quote(client: httpx.AsyncClient, n: int) -> httpx.Response:
                price[0] += step
                amount = f"{price[0] // 100}.{price[0] % 100:02d}"
                response = await client.post(
                    f"/api/v1/lots/{lot['id']}/quotes",
                    json={"amount": amount, "request_id": str(uuid.uuid4())},
                )
                if response.status_code != 201:
                    price[0] -= step
                return response

            async def go() -> list[Level]:
                levels = []
                clients = [
                    httpx.AsyncClient(
                        base_url=process.url,
                        timeout=30,
                        headers={"Authorization": f"Bearer {b.token}"},
                    )
                    for b in bidders
                ]
                try:
                    for count in counts:
                        level = await _level(
                            f"wangua /api/v1/lots/{{id}}/events, {count:,} watchers",
                            port=process.port,
                            path=f"/api/v1/lots/{lot['id']}/events",
                            headers="",
                            count=count,
                            publish=quote,
                            clients=clients,
                            server_pid=pid,
                            warmup=warmup,
                            seconds=seconds,
                        )
                        log(_line(level))
                        levels.append(level)
                    if pages:
                        levels += await _pages(process.port, lot["id"], clients, quote, pid)
                finally:
                    for c in clients:
                        await c.aclose()
                return levels

            async def _pages(
                port: int, lot_id: int, clients: list[httpx.AsyncClient], quote: Any, pid: int
            ) -> list[Level]:
                """The browser's path: the lot page, then its board stream of HTML fragments
                from the page's last event on, as htmx connects. The received_at of each
                event comes from one API watcher beside them."""
                out = []
                for count in (100, 1000, 5000):
                    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as anon:
                        page = (await anon.get(f"/lots/{lot_id}")).text
                    found = re.search(rf'sse-connect="(/lots/{lot_id}/live\?after=\d+)"', page)
                    assert found, "the lot page names its board stream"
                    reference = Run()
                    api_watchers, api_transports = await _connect(
                        port, f"/api/v1/lots/{lot_id}/events", "", 1, reference
                    )
                    level = await _level(
                        f"wangua /lots/{{id}}/live (HTML), {count:,} watchers",
                        port=port,
                        path=found.group(1),
                        headers="",
                        count=count,
                        publish=quote,
                        clients=clients,
                        server_pid=pid,
                        warmup=warmup,
                        seconds=seconds,
                        stamps_from=lambda w=api_watchers[0]: w.stamps,
                    )
                    for t in api_transports:
                        t.close()
                    log(_line(level))
                    out.append(level)
                return out

            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                out["wangua"] = [vars(x) for x in runner.run(go())]
    return out
