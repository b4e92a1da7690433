"""Login attempts per source address (R-34): one attacker cannot lock a list of bidders cheaply.

A sliding one-minute window per address, counted in the database, so that several
serving processes behind one proxy count the same attempts (kept in each process, the
limit would multiply by the number of processes). Behind a reverse proxy the address is
taken from X-Forwarded-For only when the direct peer is one of WANGUA_TRUSTED_PROXIES.
"""

from __future__ import annotations

import zlib
from datetime import timedelta

from fastapi import Request
from sqlalchemy import delete, func, select

from wangua.db import Database
from wangua.identity.models import LoginAttempt
from wangua.kit.problems import Problem
from wangua.kit.times import wall_now

WINDOW = timedelta(seconds=60)


def client_address(request: Request, trusted_proxies: frozenset[str]) -> str:
    peer = request.client.host if request.client else "unknown"
    if peer in trusted_proxies:
        forwarded = request.headers.get("x-forwarded-for", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return peer


class SourceLimiter:
    def __init__(self, db: Database) -> None:
        self.db = db

    def hit(self, address: str, per_minute: int) -> None:
        """Count one attempt; refuse with 429 RATE_LIMITED past the limit (the refused
        attempt is not counted). On PostgreSQL the address's attempts are counted under an
        advisory lock, so processes counting at once cannot both pass the last place."""
        address, now = address[:64], wall_now()
        with self.db.write_session() as session:
            if self.db.is_postgres:
                session.execute(select(func.pg_advisory_xact_lock(_lock_key(address))))
            session.execute(delete(LoginAttempt).where(LoginAttempt.at <= now - WINDOW))
            recent = session.scalars(
                select(LoginAttempt.at)
                .where(LoginAttempt.address == address)
                .order_by(LoginAttempt.at)
                .limit(per_minute)
            ).all()
            if len(recent) >= per_minute:
                retry = max(1, int((recent[0] + WINDOW - now).total_seconds()) + 1)
                raise Problem(
                    429, "RATE_LIMITED", "尝试过于频繁", f"请 {retry} 秒后再试", retry_after=retry
                )
            session.add(LoginAttempt(address=address, at=now))

    def clear(self) -> None:
        with self.db.write_session() as session:
            session.execute(delete(LoginAttempt))


def _lock_key(address: str) -> int:
    """An advisory-lock key of the address (a namespace in the high bits)."""
    return (0x5741 << 32) | zlib.crc32(address.encode())
