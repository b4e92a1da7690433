"""R-18, R-25c: on the system clock a bid is in its lot's queue from the moment the HTTP
protocol has read it, before the event loop runs any of its work (ReceiptDesk), so a
scheduler pass begun after a deadline cannot find the lot settled while a bid received
before the deadline is still on its way to its judging; and it leaves the queue however
its request ends."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.api.test_receipts import _until
from tests.harness import ServerThread
from wangua.app import create_app
from wangua.config import Settings
from wangua.runtime import Runtime
from wangua.serving import migrate

LOT = 42
QUOTES = f"/api/v1/lots/{LOT}/quotes"


@dataclass
class Gate:
    """Holds the POST requests, once their bodies have come (a request is received
    whole), before anything of the application runs, as a busy event loop does, until the
    test opens it."""

    reached: threading.Event = field(default_factory=threading.Event)
    open: threading.Event = field(default_factory=threading.Event)

    def middleware(self, app: ASGIApp) -> ASGIApp:
        async def held(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["method"] != "POST":
                await app(scope, receive, send)
                return
            body = [await receive()]
            while body[-1].get("more_body"):
                body.append(await receive())
            self.reached.set()
            while not self.open.is_set():
                await asyncio.sleep(0.01)

            async def again() -> Message:
                return body.pop(0) if body else await receive()

            await app(scope, again, send)

        return held


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Runtime, Gate, str]]:
    settings = Settings(data_dir=tmp_path, clock="system")
    migrate(settings)
    runtime = Runtime(settings)
    app = create_app(runtime=runtime)
    gate = Gate()
    app.add_middleware(gate.middleware)  # type: ignore[arg-type]
    try:
        with ServerThread(app) as server:
            yield runtime, gate, server.url
    finally:
        runtime.close()


def test_r18_a_bid_is_in_its_lots_queue_from_the_moment_it_was_read(
    served: tuple[Runtime, Gate, str],
) -> None:
    runtime, gate, url = served
    sent = time.time()
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(
            httpx.post,
            url + QUOTES,
            json={"amount": "1.00"},
            headers={"Authorization": "Bearer not-a-token"},
            timeout=10,
        )
        assert gate.reached.wait(10)
        entered = runtime.receipts.earliest(LOT)
        assert entered is not None  # before the application ran any of its work
        assert sent <= entered.timestamp() <= time.time()
        gate.open.set()
        assert answer.result().status_code == 401
    _until(lambda: runtime.receipts.earliest(LOT) is None, "the refused bid to leave")


@pytest.mark.parametrize(
    ("path", "body"),
    [(QUOTES, b"{not json"), (f"/api/v1/lots/{LOT}/proxy", b"{}")],
)
def test_r18_a_request_refused_before_its_judging_leaves_its_lots_queue(
    served: tuple[Runtime, Gate, str], path: str, body: bytes
) -> None:
    runtime, gate, url = served
    gate.open.set()
    answer = httpx.post(url + path, content=body, timeout=10)
    assert answer.status_code in (401, 405, 422)
    _until(lambda: runtime.receipts.earliest(LOT) is None, "the request to leave")


def test_r18_reads_and_other_writes_take_no_place_in_a_queue(
    served: tuple[Runtime, Gate, str],
) -> None:
    runtime, gate, url = served
    gate.open.set()
    with ThreadPoolExecutor(1) as pool:
        gate.open.clear()
        answer = pool.submit(httpx.post, f"{url}/api/v1/lots/{LOT}/suspend", timeout=10)
        assert gate.reached.wait(10)
        assert runtime.receipts.earliest(LOT) is None
        gate.open.set()
        assert answer.result().status_code in (401, 404, 405)
    assert httpx.get(url + QUOTES, timeout=10).status_code == 404  # no such lot
    assert runtime.receipts.earliest(LOT) is None


def test_r25c_with_a_timer_grace_requests_enter_their_queue_from_their_task(
    tmp_path: Path,
) -> None:
    """Several processes: the grace covers a request's way to its queue (ReceiptDesk)."""
    desks = []
    for grace_ms in (500, 0):
        runtime = Runtime(Settings(data_dir=tmp_path, clock="system", timer_grace_ms=grace_ms))
        try:
            desks.append(getattr(create_app(runtime=runtime).state, "arrival_desk", None))
        finally:
            runtime.close()
    assert desks[0] is None and desks[1] is not None
