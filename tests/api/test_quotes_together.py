"""Quotes to one lot judged together (bidding.judging; R-18, R-19a … R-20, R-25c): the
quotes queued behind a quote's judging are judged with it in one transaction, each at its
own receipt time, in arrival order, and answered as each would be alone.

The quotes queue behind an earlier quote the test stands in for (a receipt registered
directly in the server's queue, as in test_receipts); when it is judged, the first real
quote's judging takes the others along."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from tests.api.bidding_support import listing_lot, to_timed_bidding
from tests.api.test_deadline_scheduling import _set_clock
from tests.api.test_receipts import (
    _earlier_quote,
    _grace_over,
    _in_grace,
    _sent,
    _until,
)
from tests.harness import Account, Stack, captured_logs, statements_matching
from wangua.bidding import judging, service
from wangua.kit.money import format_fen
from wangua.kit.times import rfc3339

START, INCREMENT = 120_000_000_00, 1_000_000_00


def _queued_along(stack: Stack, lot_id: int) -> int:
    """How many quotes wait in the lot's queue ready to be taken along."""
    queue = stack.runtime.receipts._waiting.get(lot_id, [])
    return sum(receipt.along is not None for receipt in queue)


def _judged_together() -> tuple[float, float]:
    """The transactions that judged quotes together, and the quotes they judged."""
    count, total = (
        REGISTRY.get_sample_value(f"wangua_quotes_judged_together_{s}") or 0.0
        for s in ("count", "sum")
    )
    return count, total


@dataclass
class Sent:
    bidder: int
    amount_fen: int
    request_id: str
    answer: Future[httpx.Response] | None = None


@contextmanager
def _queued(
    stack: Stack, lot: dict[str, Any], accounts: list[Account], quotes: list[Sent]
) -> Iterator[None]:
    """Send `quotes` in order behind an earlier quote still being judged; they are judged
    together when the block ends (and the earlier quote with it)."""
    with (
        ThreadPoolExecutor(len(quotes)) as pool,
        _earlier_quote(stack, lot["id"], stack.now()),
    ):
        for quote in quotes:
            account = accounts[quote.bidder]
            amount = format_fen(quote.amount_fen)

            def send(a: Account = account, m: str = amount, r: str = quote.request_id) -> Any:
                return stack.quote(a, lot, m, r)

            quote.answer = _sent(pool, send)
        _until(lambda: _queued_along(stack, lot["id"]) == len(quotes), "the quotes to queue")
        yield


def _answers(quotes: list[Sent]) -> list[tuple[int, str | int]]:
    """Each quote's status with its sequence number (accepted) or its refusal's code."""
    answers = []
    for quote in quotes:
        assert quote.answer is not None
        response = quote.answer.result(timeout=20)
        body = response.json()
        answers.append((response.status_code, body.get("seq", body.get("code"))))
    return answers


def test_r19b_quotes_queued_behind_one_are_judged_with_it_in_one_transaction_each_as_alone(
    stack: Stack, staff: Account
) -> None:
    lot, accounts, _ = listing_lot(stack, staff, 3)
    replayed = str(uuid.uuid4())
    quotes = [
        Sent(0, START, replayed),
        Sent(1, START, str(uuid.uuid4())),  # R-19b: not an increment above
        Sent(1, START + INCREMENT, str(uuid.uuid4())),
        Sent(1, START + 2 * INCREMENT, str(uuid.uuid4())),  # R-19d: already the highest
        Sent(0, START + 9 * INCREMENT, replayed),  # the same request again
        Sent(2, START + 2 * INCREMENT, str(uuid.uuid4())),
    ]
    batches = _judged_together()
    with statements_matching("SAVEPOINT") as savepoints, _queued(stack, lot, accounts, quotes):
        pass
    assert _answers(quotes) == [
        (201, 1),
        (422, "INCREMENT_TOO_SMALL"),
        (201, 2),
        (409, "ALREADY_HIGHEST"),
        (200, 1),
        (201, 3),
    ]
    # one savepoint each but for the refusal the lot as judged so far plainly made:
    released = [s for s in savepoints if s.startswith("RELEASE")]
    rolled_back = [s for s in savepoints if s.startswith("ROLLBACK")]
    assert (len(released), len(rolled_back)) == (4, 1), savepoints
    view = stack.lot(lot["id"])
    assert (view["quote_count"], view["current_price"]) == (3, format_fen(START + 2 * INCREMENT))
    assert _judged_together() == (batches[0] + 1, batches[1] + 6)


def test_r18_quotes_judged_together_answer_only_after_their_commit_and_not_at_all_without_it(
    stack: Stack, staff: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transaction judging quotes together that fails keeps nothing, and every quote in
    it is judged again on its own: none is answered for a judging that did not commit."""
    lot, accounts, _ = listing_lot(stack, staff, 2)
    failing = START + INCREMENT
    failed: list[int] = []
    place = judging.place

    def fail_once(work: Any, asked: judging.Asked) -> service.Placed:
        if asked.amount_fen == failing and not failed:
            failed.append(asked.amount_fen)
            raise RuntimeError("the connection broke")
        return place(work, asked)

    monkeypatch.setattr(judging, "place", fail_once)
    quotes = [Sent(i % 2, START + i * INCREMENT, str(uuid.uuid4())) for i in range(3)]
    with captured_logs() as logs, _queued(stack, lot, accounts, quotes):
        pass
    assert failed == [failing]
    assert _answers(quotes) == [(201, 1), (201, 2), (201, 3)]
    assert any("judged together failed" in line for line in logs)
    assert stack.lot(lot["id"])["quote_count"] == 3


def test_r18_a_quote_after_the_deadline_judged_with_one_before_it_closes_the_listing(
    stack: Stack, staff: Account
) -> None:
    """Each quote is judged at its own receipt time: the one before the listing deadline
    is accepted; the one after it fires the deadline's timer (R-21: the inquiry opens)
    and is refused, and the timer stays fired though the quote is refused."""
    lot, accounts, _ = listing_lot(stack, staff, 2)
    listing_end = datetime.fromisoformat(lot["listing_end"])
    _set_clock(stack, listing_end - timedelta(seconds=1))
    with ThreadPoolExecutor(2) as pool:
        with _earlier_quote(stack, lot["id"], stack.now()):
            before = _sent(pool, lambda: stack.quote(accounts[0], lot, format_fen(START)))
            _set_clock(stack, listing_end + timedelta(seconds=1))
            after = _sent(pool, lambda: stack.quote(accounts[1], lot, format_fen(2 * START)))
            _until(lambda: _queued_along(stack, lot["id"]) == 2, "the quotes to queue")
        assert before.result(timeout=10).status_code == 201
        late = after.result(timeout=10)
    assert (late.status_code, late.json()["code"]) == (409, "NOT_OPEN"), late.text
    assert late.json()["received_at"] == rfc3339(listing_end + timedelta(seconds=1))
    view = stack.lot(lot["id"])
    assert (view["status"], view["quote_count"]) == ("inquiry", 1)


def test_r26_a_proxy_answers_each_quote_judged_together_before_the_next_is_judged(
    stack: Stack, staff: Account
) -> None:
    """Timed bidding with a's proxy (maximum 126): b's and c's bids judged together each
    meet the proxy's answer to the bid before them, as they would one by one."""
    lot, (a, b, c), apps = listing_lot(stack, staff, 3)
    for account, amount in ((a, START), (b, START + INCREMENT), (c, START + 2 * INCREMENT)):
        assert stack.quote(account, lot, format_fen(amount)).status_code == 201
    to_timed_bidding(stack, lot, [a, b, c])
    proxy = {"max_amount": format_fen(START + 6 * INCREMENT)}
    assert a.http.put(f"/api/v1/lots/{lot['id']}/proxy", json=proxy).status_code == 200
    quotes = [  # the proxy bid 123 when set
        Sent(1, START + 4 * INCREMENT, str(uuid.uuid4())),  # 124, answered by a's 125
        Sent(2, START + 5 * INCREMENT, str(uuid.uuid4())),  # too small then: 126 is the least
        Sent(2, START + 6 * INCREMENT, str(uuid.uuid4())),  # 126, answered by nothing: a's max
    ]
    with _queued(stack, lot, [a, b, c], quotes):
        pass
    assert _answers(quotes) == [(201, 5), (422, "INCREMENT_TOO_SMALL"), (201, 7)]
    listed = stack.anonymous().get(f"/api/v1/lots/{lot['id']}/quotes").json()
    numbers = [app["bidder_number"] for app in apps]
    assert [(q["seq"], q["bidder_number"], q["by_proxy"]) for q in listed[3:]] == [
        (4, numbers[0], True),
        (5, numbers[1], False),
        (6, numbers[0], True),
        (7, numbers[2], False),
    ]


def test_r18_a_request_other_than_a_quote_ends_the_quotes_taken_along(
    stack: Stack, staff: Account
) -> None:
    """Only the quotes right behind the one whose turn came are taken along: an inquiry
    answer between two quotes is judged after the first and before the second, each on
    its own."""
    lot, accounts, _ = listing_lot(stack, staff, 2)
    inquiry = f"/api/v1/lots/{lot['id']}/inquiry"
    with (
        statements_matching("SAVEPOINT") as savepoints,
        ThreadPoolExecutor(3) as pool,
    ):
        with _earlier_quote(stack, lot["id"], stack.now()):
            first = _sent(pool, lambda: stack.quote(accounts[0], lot, format_fen(START)))
            answer = _sent(pool, lambda: accounts[1].http.post(inquiry, json={"join": True}))
            second = _sent(
                pool, lambda: stack.quote(accounts[1], lot, format_fen(START + INCREMENT))
            )
            _until(lambda: _queued_along(stack, lot["id"]) == 2, "the quotes to queue")
        statuses = [f.result(timeout=10).status_code for f in (first, answer, second)]
    assert statuses == [201, 409, 201]  # no inquiry during the listing period
    assert savepoints == []
    assert stack.lot(lot["id"])["quote_count"] == 2


@pytest.mark.parametrize("one_before", [True, False], ids=["one-before", "none-before"])
def test_r25c_a_quote_in_a_closing_timers_grace_ends_its_batch_and_waits_for_the_timer(
    stack: Stack, staff: Account, monkeypatch: pytest.MonkeyPatch, one_before: bool
) -> None:
    """With several processes (a timer grace), quotes received after the listing deadline
    wait for the deadline's timer, while one received before it and judged in the same
    batch is answered at once."""
    lot, accounts, _ = listing_lot(stack, staff, 3)
    listing_end = datetime.fromisoformat(lot["listing_end"])
    _set_clock(stack, listing_end - timedelta(seconds=1))
    with ThreadPoolExecutor(3) as pool:
        with _earlier_quote(stack, lot["id"], stack.now()):
            if one_before:
                before = _sent(pool, lambda: stack.quote(accounts[0], lot, format_fen(START)))
            _in_grace(stack, monkeypatch, lot, listing_end)
            late = [
                _sent(pool, lambda a=a: stack.quote(a, lot, format_fen(START + 5 * INCREMENT)))
                for a in accounts[1:]
            ]
            queued = 3 if one_before else 2
            _until(lambda: _queued_along(stack, lot["id"]) == queued, "the quotes to queue")
        if one_before:
            accepted = before.result(timeout=10)
            assert accepted.status_code == 201, accepted.text
        assert not any(answer.done() for answer in late)
        answers = [_grace_over(stack, listing_end, answer) for answer in late]
    assert [(a.status_code, a.json()["code"]) for a in answers] == [(409, "NOT_OPEN")] * 2
    view = stack.lot(lot["id"])
    ended = ("inquiry", 1) if one_before else ("unsold", 0)  # no quote, no sale
    assert (view["status"], view["quote_count"]) == ended


@dataclass
class Model:
    """R-19a … R-20 for one lot in its listing period, written from RULES.md."""

    highest: int | None = None
    leader: int | None = None
    seq: int = 0
    placed: dict[str, int] = field(default_factory=dict)  # request_id → seq

    def judge(self, quote: Sent) -> tuple[int, str | int]:
        if quote.request_id in self.placed:
            return 200, self.placed[quote.request_id]
        if quote.bidder == self.leader:
            return 409, "ALREADY_HIGHEST"
        if self.highest is None and quote.amount_fen < START:
            return 422, "BELOW_START_PRICE"
        if self.highest is not None and quote.amount_fen < self.highest + INCREMENT:
            return 422, "INCREMENT_TOO_SMALL"
        self.highest, self.leader, self.seq = quote.amount_fen, quote.bidder, self.seq + 1
        self.placed[quote.request_id] = self.seq
        return 201, self.seq


quote_plans = st.lists(
    st.tuples(
        st.integers(0, 2),  # bidder
        st.integers(-1, 4),  # increments above the start price
        st.integers(0, 5),  # request id: the same number again is the same request
    ),
    min_size=2,
    max_size=8,
)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=quote_plans)
def test_r19b_quotes_judged_together_get_the_answers_of_quotes_judged_one_by_one(
    stack: Stack, staff: Account, plan: list[tuple[int, int, int]]
) -> None:
    lot, accounts, _ = listing_lot(stack, staff, 3)
    ids = [str(uuid.uuid4()) for _ in range(6)]
    quotes = [Sent(b, START + steps * INCREMENT, f"{b}-{ids[r]}") for b, steps, r in plan]
    with _queued(stack, lot, accounts, quotes):
        pass
    model = Model()
    assert _answers(quotes) == [model.judge(quote) for quote in quotes]
    assert stack.lot(lot["id"])["quote_count"] == model.seq
