"""The floor of Python SSE fan-out on this machine: a bare Starlette app, served by uvicorn
with the same loop and HTTP parser as `wangua serve`, that sends each published message
to every connected `GET /events` client.

    python -m uvicorn benchmarks.sse_baseline:app --loop uvloop --http httptools

`POST /publish` stamps the message with the time it arrived (`received_at`, like a
quote's) and wakes every stream; a frame is the size of a wangua quote event.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

PADDING = "x" * 180  # a quote event's data is about 350 bytes


class Hub:
    def __init__(self) -> None:
        self.seq = 0
        self.frame = ""
        self.changed = asyncio.Event()

    def publish(self) -> None:
        self.seq += 1
        stamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        data = json.dumps({"seq": self.seq, "received_at": stamp, "padding": PADDING})
        self.frame = f"id: {self.seq}\nevent: quote\ndata: {data}\n\n"
        changed, self.changed = self.changed, asyncio.Event()
        changed.set()


hub = Hub()


async def events(request: Request) -> StreamingResponse:
    async def stream() -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        while True:
            await hub.changed.wait()
            yield hub.frame

    return StreamingResponse(stream(), media_type="text/event-stream")


async def publish(request: Request) -> Response:
    hub.publish()
    return Response(json.dumps({"seq": hub.seq}), status_code=201)


async def healthz(request: Request) -> Response:
    return Response("ok")


app = Starlette(
    routes=[
        Route("/events", events),
        Route("/publish", publish, methods=["POST"]),
        Route("/healthz", healthz),
    ]
)
