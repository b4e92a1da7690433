"""The quote route's short way (bidding.api.QuoteRoute; R-18 … R-20, API.md): a
well-formed quote from a bidder whose sign-in token the server remembers is read and
answered without FastAPI's dependencies, validation and serialisation. Every request,
whichever way it takes, gets the answer the whole route gives it, byte for byte.

Each request is sent twice: once while the server remembers the bidder's token, and once
after it has forgotten it, which sends any quote the whole way. A wrapper around the
short way's answering tells which way a request took."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api.bidding_support import listing_lot
from tests.harness import Account, Stack
from wangua.bidding import api

START = "120000000.00"


@dataclass(frozen=True)
class Sent:
    body: bytes
    content_type: str | None = "application/json"
    path: str | None = None  # the lot's quote route unless given

    def to(
        self, client: httpx.Client, lot_id: int, authorization: str | None = None
    ) -> httpx.Response:
        headers = {} if self.content_type is None else {"Content-Type": self.content_type}
        if authorization is not None:
            headers["Authorization"] = authorization
        path = self.path or f"/api/v1/lots/{lot_id}/quotes"
        return client.post(path, content=self.body, headers=headers)


def _json(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


@pytest.fixture
def short_ways(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The paths of the requests answered the short way meanwhile."""
    taken: list[str] = []
    answer = api._answer

    async def recorded(request: Any, *args: Any) -> Any:
        taken.append(request.url.path)
        return await answer(request, *args)

    monkeypatch.setattr(api, "_answer", recorded)
    yield taken


@pytest.fixture
def lot_and_bidder(
    stack: Stack, staff: Account, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, Any], Account, int]:
    lot, (bidder,), _ = listing_lot(stack, staff, 1)
    monkeypatch.setattr(stack.runtime.tokens, "seconds", 600.0)  # not forgotten mid-test
    user_id = bidder.http.get("/api/v1/me").json()["id"]
    return lot, bidder, user_id


def _both_ways(
    stack: Stack, bidder: Account, user_id: int, lot_id: int, sent: Sent
) -> tuple[httpx.Response, httpx.Response]:
    """The answers the whole way (the token forgotten) and then with the token remembered."""
    stack.runtime.tokens.forget([user_id])
    whole = sent.to(bidder.http, lot_id)
    assert bidder.http.get("/api/v1/me").status_code == 200  # remembered again
    return whole, sent.to(bidder.http, lot_id)


def _same(whole: httpx.Response, short: httpx.Response) -> None:
    assert (short.status_code, short.content) == (whole.status_code, whole.content)
    for header in ("content-type", "content-length", "retry-after"):
        assert short.headers.get(header) == whole.headers.get(header), header


SHORT = {
    "below the start price": Sent(_json(amount="1.00", request_id="r-1")),
    "an exponent": Sent(_json(amount="1.2e8")),
    "a float": Sent(b'{"amount": 120000000.5}'),
    "a boolean": Sent(_json(amount=True)),
    "null": Sent(_json(amount=None)),
    "three decimals": Sent(_json(amount="120000000.001")),
    "too many yuan": Sent(_json(amount="9" * 30)),
    "an integer below the start": Sent(_json(amount=5, request_id="x" * 64)),
    "an unknown field": Sent(_json(amount="1.00", note="n")),
    "a charset": Sent(_json(amount="1.00"), "application/json; charset=utf-8"),
    "null request id": Sent(_json(amount="1.00", request_id=None)),
    "a lot that does not exist": Sent(_json(amount=START), path="/api/v1/lots/999999999/quotes"),
}
WHOLE = {
    "no amount": Sent(_json(request_id="r-2")),
    "an empty request id": Sent(_json(amount=START, request_id="")),
    "a request id too long": Sent(_json(amount=START, request_id="x" * 65)),
    "a numeric request id": Sent(_json(amount=START, request_id=7)),
    "a list": Sent(b"[]"),
    "a string": Sent(b'"120000000.00"'),
    "malformed JSON": Sent(b'{"amount": '),
    "an empty body": Sent(b""),
    "no content type": Sent(_json(amount=START), None),
    "plain text": Sent(_json(amount=START), "text/plain"),
    "a JSON subtype": Sent(_json(amount="1.00"), "application/merge-patch+json"),
    "lot id 0": Sent(_json(amount=START), path="/api/v1/lots/0/quotes"),
    "lot id not a number": Sent(_json(amount=START), path="/api/v1/lots/x1/quotes"),
    "lot id out of range": Sent(_json(amount=START), path=f"/api/v1/lots/{2**63}/quotes"),
    "lot id in other digits": Sent(_json(amount=START), path="/api/v1/lots/\u0661/quotes"),
}


@pytest.mark.parametrize(
    ("case", "the_short_way"), [*((c, True) for c in SHORT), *((c, False) for c in WHOLE)]
)
def test_r18_a_request_to_the_quote_route_is_answered_as_the_whole_route_answers_it(
    stack: Stack,
    lot_and_bidder: tuple[dict[str, Any], Account, int],
    short_ways: list[str],
    case: str,
    the_short_way: bool,
) -> None:
    """A well-formed quote (SHORT) is answered the short way when the token is remembered
    (not when it was forgotten); any other request (WHOLE) never is."""
    lot, bidder, user_id = lot_and_bidder
    sent = SHORT[case] if the_short_way else WHOLE[case]
    whole, short = _both_ways(stack, bidder, user_id, lot["id"], sent)
    assert len(short_ways) == int(the_short_way), short_ways
    assert whole.status_code >= 400, whole.text  # changes nothing: the two meet the same lot
    _same(whole, short)


def test_r20_an_accepted_quote_and_its_replays_get_the_same_answer_either_way(
    stack: Stack, lot_and_bidder: tuple[dict[str, Any], Account, int], short_ways: list[str]
) -> None:
    lot, bidder, user_id = lot_and_bidder
    sent = Sent(_json(amount=START, request_id="accepted-once"))
    first = sent.to(bidder.http, lot["id"])
    assert first.status_code == 201, first.text
    assert first.json()["seq"] == 1 and first.json()["amount"] == START
    whole, short = _both_ways(stack, bidder, user_id, lot["id"], sent)
    assert (whole.status_code, short.status_code) == (200, 200)
    assert whole.content == short.content == first.content
    assert len(short_ways) == 2  # the first and the last
    quotes = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/quotes").json()
    assert [q["seq"] for q in quotes] == [1]


def test_r19a_an_accepted_quote_answered_either_way_reads_alike(
    stack: Stack, lot_and_bidder: tuple[dict[str, Any], Account, int], short_ways: list[str]
) -> None:
    """Two quotes, one each way: the same fields, the same form, 201 both."""
    lot, bidder, user_id = lot_and_bidder
    rival = stack.bidder()
    stack.qualified(rival, lot)
    stack.runtime.tokens.forget([user_id])
    whole = Sent(_json(amount=START)).to(bidder.http, lot["id"])
    assert rival.http.get("/api/v1/me").status_code == 200
    short = Sent(_json(amount="121000000.00")).to(rival.http, lot["id"])
    assert short_ways == [f"/api/v1/lots/{lot['id']}/quotes"]
    assert (whole.status_code, short.status_code) == (201, 201)
    assert whole.headers["content-type"] == short.headers["content-type"]
    assert list(whole.json()) == list(short.json())
    assert short.json()["seq"] == whole.json()["seq"] + 1
    assert short.json()["bidder_number"] != whole.json()["bidder_number"]


def test_r18_a_caller_that_is_not_a_remembered_bidder_takes_the_whole_way(
    stack: Stack,
    staff: Account,
    lot_and_bidder: tuple[dict[str, Any], Account, int],
    short_ways: list[str],
) -> None:
    lot = lot_and_bidder[0]
    sent = Sent(_json(amount=START))
    staff_id = staff.http.get("/api/v1/me").json()["id"]
    forbidden, again = _both_ways(stack, staff, staff_id, lot["id"], sent)
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "ROLE_NOT_ALLOWED"
    _same(forbidden, again)
    for authorization in (None, "Bearer not-a-token", "Basic abc"):
        refused = sent.to(stack.anonymous(), lot["id"], authorization)
        assert refused.status_code == 401, refused.text
    assert short_ways == []
    assert stack.anonymous().get(f"/api/v1/lots/{lot['id']}/quotes").json() == []
