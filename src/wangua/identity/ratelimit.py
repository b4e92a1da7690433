"""Login attempts per source address (R-34): one attacker cannot lock a list of bidders cheaply.

A sliding one-minute window per address, kept in the serving process. Behind a
reverse proxy the address is taken from X-Forwarded-For only when the direct
peer is one of WANGUA_TRUSTED_PROXIES.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from fastapi import Request

from wangua.kit.problems import Problem

WINDOW_SECONDS = 60.0


def client_address(request: Request, trusted_proxies: frozenset[str]) -> str:
    peer = request.client.host if request.client else "unknown"
    if peer in trusted_proxies:
        forwarded = request.headers.get("x-forwarded-for", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return peer


class SourceLimiter:
    def __init__(self) -> None:
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, address: str, per_minute: int) -> None:
        """Count one attempt; refuse with 429 RATE_LIMITED past the limit."""
        now = time.monotonic()
        with self._lock:
            seen = self._seen.setdefault(address, deque())
            while seen and seen[0] <= now - WINDOW_SECONDS:
                seen.popleft()
            if len(seen) >= per_minute:
                retry = max(1, int(seen[0] + WINDOW_SECONDS - now) + 1)
                raise Problem(
                    429, "RATE_LIMITED", "尝试过于频繁", f"请 {retry} 秒后再试", retry_after=retry
                )
            seen.append(now)
            if len(self._seen) > 100_000:  # forget idle addresses
                for key in [
                    k for k, v in self._seen.items() if not v or v[-1] <= now - WINDOW_SECONDS
                ]:
                    del self._seen[key]

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()
