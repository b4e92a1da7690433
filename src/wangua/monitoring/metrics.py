"""Process metrics for Prometheus (R-33): quoting and live clients.

`MetricsMiddleware` times accepted quotes end to end (including the commit) and
counts open server-sent-event streams; the bidding service counts acceptances
and refusals by code.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

QUOTES_ACCEPTED = Counter("wangua_quotes_accepted", "已接受的报价(含代理出价)")
QUOTES_REFUSED = Counter("wangua_quotes_refused", "被拒绝的报价,按拒绝代码", ["code"])
QUOTE_SECONDS = Histogram(
    "wangua_quote_accept_seconds",
    "报价从收到请求到接受并提交的耗时(秒)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
QUOTES_WAITING = Gauge(
    "wangua_quotes_waiting", "已收到、尚未判定的报价、询问答复与委托数(按到达顺序等待判定)"
)
QUOTES_JUDGED_TOGETHER = Histogram(
    "wangua_quotes_judged_together",
    "同一标的排队的报价合并在一个事务中判定时,每个事务判定的报价数",
    buckets=(2, 4, 8, 16, 32),
)
LOT_HOLD_SECONDS = Histogram(
    "wangua_lot_hold_seconds",
    "多进程时:请求送达到本进程为其锁定所在标的(防止其他进程在其判定前截止)的耗时(秒);"
    "WANGUA_TIMER_GRACE_MS 应大于其最大值",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
SSE_CLIENTS = Gauge("wangua_sse_clients", "当前连接的实时事件(SSE)客户端数")
QUOTE_ROUTE = "/api/v1/lots/{lot_id}/quotes"


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        streaming = False

        async def watch(message: Message) -> None:
            nonlocal status, streaming
            if message["type"] == "http.response.start":
                status = message["status"]
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                if content_type.startswith(b"text/event-stream"):
                    streaming = True
                    SSE_CLIENTS.inc()
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if streaming:
                SSE_CLIENTS.dec()
        route = getattr(scope.get("route"), "path", None)
        if scope["method"] == "POST" and route == QUOTE_ROUTE and status == 201:
            QUOTE_SECONDS.observe(time.perf_counter() - started)
