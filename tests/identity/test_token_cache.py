"""A sign-in token's account, remembered by a process for a moment (identity.tokens):
never past the token's expiry, forgotten at once by the process that ends its session
(R-12b), and by the others within WANGUA_TOKEN_CACHE_MS."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

import pytest

from tests.api.test_receipts import _until
from tests.harness import Account, Stack, statements_matching
from wangua import web
from wangua.identity.service import read_token, token_actor, token_hash
from wangua.identity.tokens import TokenCache
from wangua.kit.times import wall_now
from wangua.runtime import Actor, Runtime

BIDDER = Actor(user_id=7, role="bidder", username="b", roles=("bidder",))
MOMENT_MS = 300


@pytest.fixture
def other(stack: Stack) -> Iterator[Runtime]:
    """Another serving process on the same database, remembering tokens for MOMENT_MS."""
    runtime = Runtime(stack.runtime.settings.model_copy(update={"token_cache_ms": MOMENT_MS}))
    try:
        yield runtime
    finally:
        runtime.close()


def test_a_remembered_token_is_not_read_again(stack: Stack) -> None:
    bidder = stack.bidder()
    with statements_matching("access_tokens") as reads:
        assert bidder.http.get("/api/v1/me").status_code == 200
        assert bidder.http.get("/api/v1/me").status_code == 200
    assert len(reads) <= 1


def test_r12b_a_revoked_token_is_refused_by_another_process_within_its_moment(
    stack: Stack, other: Runtime
) -> None:
    bidder = stack.bidder()
    assert token_actor(other, bidder.token) is not None  # the other process remembers it
    assert bidder.http.post("/api/v1/auth/logout").status_code == 204
    revoked = time.monotonic()
    while token_actor(other, bidder.token) is not None:
        assert time.monotonic() - revoked < MOMENT_MS / 1000 + 1.0
        time.sleep(0.02)
    assert bidder.http.get("/api/v1/me").status_code == 401  # this process forgot it at once


def test_r12b_without_the_moment_another_process_refuses_a_revoked_token_at_once(
    stack: Stack,
) -> None:
    runtime = Runtime(stack.runtime.settings.model_copy(update={"token_cache_ms": 0}))
    try:
        bidder = stack.bidder()
        assert token_actor(runtime, bidder.token) is not None
        assert bidder.http.post("/api/v1/auth/logout").status_code == 204
        assert token_actor(runtime, bidder.token) is None
    finally:
        runtime.close()


def test_a_token_is_not_remembered_past_its_expiry() -> None:
    cache = TokenCache(seconds=60)
    hashed = token_hash("t")
    cache.remember(hashed, BIDDER, wall_now() + timedelta(milliseconds=50), cache.generation)
    assert cache.remembered(hashed) == BIDDER
    time.sleep(0.1)
    assert cache.remembered(hashed) is None


def test_a_read_begun_before_a_session_ended_is_not_remembered() -> None:
    cache = TokenCache(seconds=60)
    hashed = token_hash("t")
    began = cache.generation
    cache.forget([BIDDER.user_id or 0])  # the logout committed while the read ran
    cache.remember(hashed, BIDDER, wall_now() + timedelta(hours=1), began)
    assert cache.remembered(hashed) is None


def test_forgetting_an_account_keeps_the_others() -> None:
    cache = TokenCache(seconds=60)
    other = Actor(user_id=8, role="bidder", username="c", roles=("bidder",))
    until = wall_now() + timedelta(hours=1)
    cache.remember("a", BIDDER, until, cache.generation)
    cache.remember("b", other, until, cache.generation)
    cache.forget([7])
    assert cache.remembered("a") is None and cache.remembered("b") == other


@contextmanager
def _reads_held(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[str], threading.Event]]:
    """Every read of a token (web.read_once's) recorded, and held until the event is set."""
    reads: list[str] = []
    go = threading.Event()

    def held(rt: Runtime, hashed: str) -> Actor | None:
        reads.append(hashed)
        assert go.wait(10)
        return read_token(rt, hashed)

    monkeypatch.setattr(web, "read_token", held)
    try:
        yield reads, go
    finally:
        go.set()


def _user_id(account: Account) -> int:
    return int(account.http.get("/api/v1/me").json()["id"])


def test_requests_carrying_one_token_while_it_is_read_share_the_read(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bidder's burst of requests with a token this process does not remember reads the
    token once, not once per request."""
    bidder = stack.bidder()
    stack.runtime.tokens.forget([_user_id(bidder)])
    with _reads_held(monkeypatch) as (reads, go), ThreadPoolExecutor(8) as pool:
        answers = [pool.submit(bidder.http.get, "/api/v1/me") for _ in range(8)]
        _until(lambda: bool(reads), "the first read")
        time.sleep(0.3)  # the other requests have arrived and wait for it
        go.set()
        assert [a.result().status_code for a in answers] == [200] * 8
    assert len(reads) == 1


def test_r12b_a_request_after_tokens_were_forgotten_does_not_share_an_earlier_read(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read begun before the process forgot tokens (a logout committed meanwhile) may
    have read a token that is no longer live: a request arriving after that reads anew."""
    bidder, other = stack.bidder(), stack.bidder()
    stack.runtime.tokens.forget([_user_id(bidder)])
    other_id = _user_id(other)
    with _reads_held(monkeypatch) as (reads, go), ThreadPoolExecutor(2) as pool:
        first = pool.submit(bidder.http.get, "/api/v1/me")
        _until(lambda: len(reads) == 1, "the first read")
        stack.runtime.tokens.forget([other_id])
        second = pool.submit(bidder.http.get, "/api/v1/me")
        _until(lambda: len(reads) == 2, "a read of its own")
        go.set()
        assert first.result().status_code == second.result().status_code == 200
