"""R-33: Prometheus metrics at /metrics, and request ids with one structured log line each."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.harness import Account, Stack
from wangua.monitoring.logging import JsonFormatter
from wangua.monitoring.metrics import QUOTE_ROUTE, MetricsMiddleware

NAMES = {
    "wangua_quotes_accepted",
    "wangua_quotes_refused",
    "wangua_quote_accept_seconds",
    "wangua_sse_clients",
    "wangua_timer_lag_seconds",
    "wangua_outbox_backlog",
    "wangua_audit_checkpoint_age_seconds",
    "wangua_bank_link_up",
    "wangua_bank_last_contact_seconds",
}


def scrape(stack: Stack) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = stack.anonymous().get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_r33_metrics_name_every_watched_quantity(stack: Stack) -> None:
    text = stack.anonymous().get("/metrics").text
    families = {family.name for family in text_string_to_metric_families(text)}
    assert families >= NAMES
    samples = scrape(stack)
    assert samples[("wangua_audit_checkpoint_age_seconds", ())] >= 0  # signed at start
    assert samples[("wangua_outbox_backlog", ())] >= 0
    assert samples[("wangua_timer_lag_seconds", ())] >= 0


def test_r33_refused_quotes_are_counted_by_code(stack: Stack, staff: Account) -> None:
    lot = stack.published_lot(staff)
    bidder = stack.bidder()  # has not applied for the lot
    before = scrape(stack)
    refused = stack.quote(bidder, lot, "120000000.00")
    assert refused.json()["code"] == "NOT_QUALIFIED"
    after = scrape(stack)
    key = ("wangua_quotes_refused_total", (("code", "NOT_QUALIFIED"),))
    assert after[key] - before.get(key, 0.0) == 1
    accepted = ("wangua_quotes_accepted_total", ())
    assert after[accepted] == before[accepted]


def test_r33_accepted_quotes_are_timed_end_to_end() -> None:
    """Only a 201 from the quote route is an acceptance; its latency is observed."""

    async def answer(request: Request) -> Response:
        return Response(status_code=int(request.query_params["status"]))

    app = MetricsMiddleware(Starlette(routes=[Route(QUOTE_ROUTE, answer, methods=["POST"])]))
    count = "wangua_quote_accept_seconds_count"
    before = REGISTRY.get_sample_value(count) or 0.0

    async def post_all() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [
                (await client.post(f"/api/v1/lots/7/quotes?status={status}")).status_code
                for status in (201, 409, 200)  # accepted, refused, a replay
            ]

    assert asyncio.run(post_all()) == [201, 409, 200]
    assert REGISTRY.get_sample_value(count) == before + 1


def test_r33_live_clients_are_gauged(stack: Stack, staff: Account) -> None:
    lot = stack.published_lot(staff)
    before = scrape(stack)[("wangua_sse_clients", ())]
    with (
        httpx.Client(base_url=stack.url, timeout=10) as client,
        client.stream("GET", f"/api/v1/lots/{lot['id']}/events") as response,
    ):
        assert response.status_code == 200
        assert scrape(stack)[("wangua_sse_clients", ())] == before + 1
    deadline = time.monotonic() + 10
    while scrape(stack)[("wangua_sse_clients", ())] != before:
        assert time.monotonic() < deadline, "the closed stream is still counted"
        time.sleep(0.05)


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def request_lines() -> Iterator[Lines]:
    logger = logging.getLogger("wangua.request")
    handler, level = Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_r33_each_request_has_an_id_and_one_json_log_line_without_identities(
    stack: Stack, staff: Account, request_lines: Lines
) -> None:
    lot = stack.published_lot(staff)
    a = stack.bidder()
    given = f"trace-{uuid.uuid4().hex}"
    response = a.http.post(
        f"/api/v1/lots/{lot['id']}/quotes",
        json={"amount": "120000000.00", "request_id": str(uuid.uuid4())},
        headers={"X-Request-ID": given},
    )
    assert response.headers["x-request-id"] == given
    made = stack.anonymous().get("/api/v1/clock").headers["x-request-id"]
    assert len(made) == 32 and made != given
    deadline = time.monotonic() + 5
    while not any(given in line for line in request_lines.lines):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    line = json.loads(next(line for line in request_lines.lines if given in line))
    assert line["request_id"] == given
    assert (line["method"], line["path"], line["status"]) == (
        "POST",
        "/api/v1/lots/{lot_id}/quotes",
        response.status_code,
    )
    assert line["duration_ms"] >= 0
    text = "\n".join(request_lines.lines)
    for secret in ("120000000", a.username, a.party_name, a.token):
        assert secret not in text
