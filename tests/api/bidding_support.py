"""Shared steps for the bidding tests: a lot in its listing period, SSE reading."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx

from tests.harness import Account, Stack


def listing_lot(
    stack: Stack, staff: Account, bidders: int, **overrides: Any
) -> tuple[dict[str, Any], list[Account], list[dict[str, Any]]]:
    """A published lot with `bidders` qualified bidders, the clock at listing start."""
    lot = stack.published_lot(staff, **overrides)
    accounts = [stack.bidder() for _ in range(bidders)]
    applications = [stack.qualified(account, lot) for account in accounts]
    stack.advance_to(lot["listing_start"])
    return lot, accounts, applications


def to_timed_bidding(stack: Stack, lot: dict[str, Any], joiners: list[Account]) -> dict[str, Any]:
    """From the listing period through the inquiry into timed bidding."""
    stack.advance_to(lot["listing_end"])
    for account in joiners:
        response = account.http.post(f"/api/v1/lots/{lot['id']}/inquiry", json={"join": True})
        assert response.status_code == 200, response.text
    stack.advance_to(stack.lot(lot["id"])["inquiry_end"])
    view = stack.lot(lot["id"])
    assert view["status"] == "timed_bidding", view
    return view


def timed_lot_of_two(stack: Stack, staff: Account) -> tuple[dict[str, Any], Account, Account]:
    """A lot in timed bidding (its view) between two bidders: `b` leads, `a` may bid."""
    lot, (a, b), _ = listing_lot(stack, staff, 2)
    assert stack.quote(a, lot, "120000000.00").status_code == 201
    assert stack.quote(b, lot, "121000000.00").status_code == 201
    return to_timed_bidding(stack, lot, [a, b]), a, b


def result(stack: Stack, lot: dict[str, Any]) -> dict[str, Any]:
    response = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/result")
    assert response.status_code == 200, response.text
    return dict(response.json())


def deadline(stack: Stack, lot: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(stack.lot(lot["id"])["timed_deadline"])


def read_events(
    stack: Stack, lot_id: int, count: int, last_event_id: int | None = None, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """Read `count` events from the lot's SSE stream."""
    headers = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    with (
        httpx.Client(base_url=stack.url, timeout=timeout) as client,
        client.stream("GET", f"/api/v1/lots/{lot_id}/events", headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("id: "):
                current["id"] = int(line[4:])
            elif line.startswith("event: "):
                current["event"] = line[7:]
            elif line.startswith("data: "):
                current["data"] = json.loads(line[6:])
            elif line == "" and "event" in current:
                events.append(current)
                current = {}
                if len(events) == count:
                    break
    return events
