"""Who a bearer token belongs to, remembered for a moment (WANGUA_TOKEN_CACHE_MS).

Every authenticated request read its token from the database, in a worker thread of its
own, before anything else was done with it; a bidder quoting in the last minute sends
the same token many times a second. The account behind a live token is remembered for
at most the setting's time, never past the token's own expiry, and only by the process
that read it. Logging out, a certificate reported lost or bound anew forgets the
account's tokens in that process once its transaction has committed; another serving
process may admit such a token until its entry runs out (docs/deployment.md).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cachetools import TLRUCache

from wangua.kit.times import wall_now

if TYPE_CHECKING:
    from wangua.runtime import Actor

REMEMBERED_TOKENS = 10_000


@dataclass(frozen=True)
class _Entry:
    actor: Actor
    expires_at: datetime


class TokenCache:
    """Live tokens' accounts by the token's SHA-256, each for `seconds` at most."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._entries: TLRUCache[str, _Entry] = TLRUCache(
            REMEMBERED_TOKENS, ttu=self._until, timer=time.monotonic
        )
        self.generation = 0
        """Counts the forgettings, so a read that began before one is not remembered."""
        self.reads: dict[str, tuple[int, asyncio.Future[Actor | None]]] = {}
        """The tokens being read, each with the generation its read began at; used on the
        event loop only (web.read_once)."""

    def _until(self, _key: str, entry: _Entry, now: float) -> float:
        return now + min(self.seconds, (entry.expires_at - wall_now()).total_seconds())

    def remembered(self, token_hash: str) -> Actor | None:
        with self._lock:
            entry = self._entries.get(token_hash)
        return None if entry is None else entry.actor

    def remember(
        self, token_hash: str, actor: Actor, expires_at: datetime, generation: int
    ) -> None:
        """Remember a token read as live by a read begun at `generation`, unless an
        account was forgotten since (its read may have preceded the revocation)."""
        if self.seconds <= 0:
            return
        with self._lock:
            if generation == self.generation:
                self._entries[token_hash] = _Entry(actor, expires_at)

    def forget(self, user_ids: Iterable[int]) -> None:
        """Forget every token of these accounts (their sessions changed)."""
        gone = set(user_ids)
        with self._lock:
            self.generation += 1
            for key in [k for k, e in self._entries.items() if e.actor.user_id in gone]:
                del self._entries[key]
