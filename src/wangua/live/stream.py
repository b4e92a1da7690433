"""An SSE response fed by a lot's shared tail (live.tail).

On `wangua serve` the tail writes each event straight to the watcher's connection
(kit.direct_body) and the response's task only waits for the client to leave. Served
otherwise (TLS with client certificates, another ASGI server), the response keeps an
outbox the tail fills and sends it through ASGI. Either way a watcher that falls more
than LAG_LIMIT bytes behind is let go (dropped, or its stream ended) and resumes from its
last event id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Mapping

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from wangua.kit.direct_body import LAG_LIMIT, direct_body
from wangua.live.tail import Tails


class Outbox:
    """A watcher's frames waiting for its response to send them through ASGI."""

    def __init__(self) -> None:
        self.pending: list[bytes] = []
        self.size = 0
        self.overflowed = False
        self.ready = asyncio.Event()

    def write(self, data: bytes) -> bool:
        if self.overflowed:
            return False
        self.pending.append(data)
        self.size += len(data)
        self.overflowed = self.size > LAG_LIMIT
        self.ready.set()
        return True

    async def send_into(self, send: Send) -> None:
        """Send what comes until the watcher falls too far behind."""
        while True:
            await self.ready.wait()
            self.ready.clear()
            if self.overflowed:
                return
            data, self.pending, self.size = b"".join(self.pending), [], 0
            await send({"type": "http.response.body", "body": data, "more_body": True})


class TailResponse(Response):
    media_type = "text/event-stream"

    def __init__(
        self,
        tails: Tails,
        lot_id: int,
        after: int,
        *,
        view: Hashable = None,
        first: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.tails = tails
        self.lot_id = lot_id
        self.after = after
        self.view = view
        self.first = first
        self.status_code = 200
        self.background = None
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        direct = direct_body(scope)
        if direct is not None:
            async with self.tails.watching(direct, self.lot_id, self.after, self.view, self.first):
                await _left(receive)
            return
        outbox = Outbox()
        async with (
            self.tails.watching(outbox, self.lot_id, self.after, self.view, self.first),
            anyio.create_task_group() as group,
        ):

            async def until_left() -> None:
                await _left(receive)
                group.cancel_scope.cancel()

            group.start_soon(until_left)
            await outbox.send_into(send)  # returns when the watcher is too far behind
            group.cancel_scope.cancel()
        if outbox.overflowed:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _left(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
