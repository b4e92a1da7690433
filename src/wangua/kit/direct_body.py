"""A streaming response's body written straight to its connection (R-19c at scale).

An event reaching 5,000 watchers through ASGI wakes 5,000 tasks, and each hands its
chunk down through every middleware to the server: most of a publish's cost, and what a
bare Starlette server spends too. Here the HTTP protocol offers each request a
`DirectBody`; once a stream has started its response through the ordinary ASGI path
(status and headers pass every middleware), whoever holds the body may write chunks to
the connection itself, so one task can write one event to every watcher in a loop.

A client that does not read falls behind: when its connection holds more than
`LAG_LIMIT` unsent bytes it is dropped instead of buffered without end. An SSE client
then reconnects and resumes from its last event id, missing nothing.
"""

from __future__ import annotations

from typing import Any

DIRECT_BODY = "wangua.direct_body"
LAG_LIMIT = 1 << 20  # unsent bytes a watcher may fall behind by before it is dropped


class DirectBody:
    """The body of one request's response on uvicorn's httptools protocol."""

    def __init__(self, cycle: Any) -> None:
        self._cycle = cycle

    def write(self, data: bytes) -> bool:
        """Write `data` as one chunk of the started response. False, writing nothing, if
        the response is not a started chunked stream, the client has gone, or it lags by
        more than LAG_LIMIT bytes (its connection is then dropped)."""
        cycle = self._cycle
        if cycle.disconnected or cycle.response_complete or not cycle.chunked_encoding:
            return False
        transport = cycle.transport
        if transport.get_write_buffer_size() > LAG_LIMIT:
            transport.abort()
            return False
        transport.write(b"%x\r\n%b\r\n" % (len(data), data))
        return True


class OffersDirectBody:
    """Mixin for uvicorn's httptools protocol: each request's scope state holds its
    `DirectBody` under DIRECT_BODY."""

    cycle: Any
    scope: Any

    def on_headers_complete(self) -> None:
        super().on_headers_complete()  # type: ignore[misc]
        cycle = self.cycle
        if cycle is not None and cycle.scope is self.scope:  # not an upgrade
            cycle.scope["state"][DIRECT_BODY] = DirectBody(cycle)


def direct_body(scope: Any) -> DirectBody | None:
    """The request's direct body, if its protocol offers one."""
    state = scope.get("state")
    return None if state is None else state.get(DIRECT_BODY)
