"""SQL for accounts that the administrator's page and API share: the accounts the
administrator created, the reported losses (R-12b), and names of users."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import String, and_, cast, or_, select
from sqlalchemy.orm import Session

from wangua.identity.models import Revocation, User
from wangua.kit.paging import invalid_cursor
from wangua.kit.times import rfc3339

SHOWN = 200
FINGERPRINT = re.compile(r"[0-9a-f]{64}")


def usernames(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(wanted)))
    return {user_id: name for user_id, name in rows}


def staff_accounts(session: Session, before: int | None = None, limit: int = SHOWN) -> list[User]:
    """Accounts the administrator created (every role but bidder), newest first; `before`
    is the id of the last one already seen."""
    stmt = select(User).where(cast(User.roles, String).not_like('%"bidder"%'))
    if before is not None:
        stmt = stmt.where(User.id < before)
    return list(session.scalars(stmt.order_by(User.id.desc()).limit(limit)))


def account_view(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "roles": list(user.roles),
        "grantor": user.grantor,
        "cert_serial": user.cert_serial,
        "created_at": rfc3339(user.created_at),
        "locked": user.locked_at is not None,
        "locked_at": rfc3339(user.locked_at),
    }


def revocations(
    session: Session, before: str | None = None, limit: int = SHOWN
) -> list[tuple[Revocation, str]]:
    """Reported losses (R-12b) with the holder's username, newest first; `before` is the
    fingerprint of the last one already seen (422 INVALID_CURSOR if there is none such)."""
    stmt = select(Revocation, User.username).join(User, User.id == Revocation.user_id)
    if before is not None:
        seen = session.get(Revocation, before) if FINGERPRINT.fullmatch(before) else None
        if seen is None:
            raise invalid_cursor()
        stmt = stmt.where(
            or_(
                Revocation.revoked_at < seen.revoked_at,
                and_(
                    Revocation.revoked_at == seen.revoked_at,
                    Revocation.fingerprint < seen.fingerprint,
                ),
            )
        )
    stmt = stmt.order_by(Revocation.revoked_at.desc(), Revocation.fingerprint.desc())
    return [(revocation, name) for revocation, name in session.execute(stmt.limit(limit))]


def revocation_view(revocation: Revocation, username: str) -> dict[str, Any]:
    return {
        "fingerprint": revocation.fingerprint,
        "serial": revocation.serial,
        "user_id": revocation.user_id,
        "username": username,
        "revoked_at": rfc3339(revocation.revoked_at),
        "reason": revocation.reason,
    }
