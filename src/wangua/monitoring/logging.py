"""Structured logs with request ids (R-33).

`RequestLogMiddleware` takes the caller's `X-Request-ID` (or makes one), returns
it on the response, and logs one line per request: method, route, status,
duration and request id. It never logs bodies, query strings, bidder identities
or prices. `WANGUA_LOG_FORMAT=json` writes every log line as one JSON object.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wangua.kit.times import rfc3339, wall_now

REQUEST_ID: ContextVar[str | None] = ContextVar("wangua_request_id", default=None)
ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
log = logging.getLogger("wangua.request")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": rfc3339(wall_now()),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            line["request_id"] = request_id
        line.update(getattr(record, "http", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        return f"{text} request_id={request_id}" if request_id else text


class _StderrHandler(logging.Handler):
    """Writes to whatever sys.stderr is when the line is written."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


def configure_logging(log_format: Literal["json", "text"]) -> None:
    """Our log lines (and, in JSON, the server's) in the chosen format; idempotent.

    In text, a host that has already configured logging (a test runner, an embedding
    application) keeps its own configuration.
    """
    ours = logging.getLogger("wangua")
    if log_format == "text" and logging.getLogger().handlers:
        return
    formatter: logging.Formatter = JsonFormatter() if log_format == "json" else TextFormatter()
    handler = next((h for h in ours.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        ours.addHandler(handler)
    handler.setFormatter(formatter)
    ours.setLevel(logging.INFO)
    ours.propagate = False
    if log_format == "json":
        for name in ("uvicorn", "uvicorn.error"):
            for server_handler in logging.getLogger(name).handlers:
                server_handler.setFormatter(formatter)
        logging.getLogger("uvicorn.access").disabled = True  # one line per request is ours


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if ACCEPTABLE_ID.match(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500

        async def tag(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                message["headers"] = [*headers, (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, tag)
        finally:
            route = getattr(scope.get("route"), "path", None) or scope["path"]
            log.info(
                "%s %s %s",
                scope["method"],
                route,
                status,
                extra={
                    "request_id": request_id,
                    "http": {
                        "method": scope["method"],
                        "path": route,
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    },
                },
            )
            REQUEST_ID.reset(token)
