"""R-32b: while a listing runs, an administrator acts only with a supervisor beside them.

The co-signature is the supervisor's own signed-in session, presented with the
administrator's request in `X-Cosigner-Token` (the supervisor logs in with
certificate and password at the administrator's side). Both identities go into
the audit record. Outside a listing, administrators act alone, recorded as usual.

On the pages the supervisor does the same in person: the administrator's form has a
co-signature section where the supervisor, at the administrator's side, enters their
username and password and proves their certificate (their key signs the login nonce in
the browser, as on the login page). The server signs the supervisor in for that one
action and ends the session when it is done (`signed_in_cosigner`). The command line
takes the supervisor's certificate and key file instead (`cosigner_by_certificate`).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from wangua.audit.models import AuditEntry
from wangua.audit.service import record
from wangua.identity import certificates
from wangua.identity.models import User
from wangua.identity.repository import usernames
from wangua.identity.service import Proof, actor_for_token, actor_of, logout
from wangua.identity.signin import sign_in
from wangua.identity.trust import Trust
from wangua.kit.problems import Problem
from wangua.kit.times import rfc3339, wall_now
from wangua.lots.models import Lot
from wangua.runtime import Actor, Runtime, Work

ACTIVE = ("listing", "inquiry", "timed_bidding")
COSIGNED = "admin.cosigned"


def listing_running(session: Session) -> bool:
    return session.scalar(select(Lot.id).where(Lot.status.in_(ACTIVE)).limit(1)) is not None


def cosigner(session: Session, admin: Actor, token: str | None) -> Actor | None:
    """The supervisor co-signing `admin`'s action, or None when no listing runs."""
    if not listing_running(session):
        return None
    supervisor = actor_for_token(session, token) if token else None
    if (
        supervisor is None
        or "supervisor" not in supervisor.roles
        or supervisor.user_id == admin.user_id
    ):
        raise Problem(
            403,
            "COSIGNATURE_REQUIRED",
            "须经监督人员会签",
            "挂牌报价期间管理员操作须由监督人员监督:请在 X-Cosigner-Token 中提供监督人员的登录令牌",
        )
    return supervisor


def cosigner_by_certificate(
    session: Session, trust: Trust, cert_pem: str | None, key_pem: bytes | None
) -> Actor | None:
    """The command line's co-signature: the supervisor's certificate and key, present at the
    console, prove a supervisor account signs (when no listing runs, none is needed)."""
    if not listing_running(session):
        return None
    refused = Problem(
        403,
        "COSIGNATURE_REQUIRED",
        "须经监督人员会签",
        "挂牌报价期间管理员操作须由监督人员监督:请提供监督人员的证书和私钥",
    )
    if cert_pem is None or key_pem is None:
        raise refused
    try:
        cert = trust.check(cert_pem, wall_now())
        challenge = secrets.token_urlsafe(16)
        certificates.verify_possession(
            cert, challenge, certificates.sign_message(key_pem, challenge)
        )
    except (certificates.CertificateRejected, ValueError, TypeError):
        raise refused from None
    user = session.scalars(
        select(User).where(User.cert_fingerprint == certificates.fingerprint(cert))
    ).one_or_none()
    if user is None or "supervisor" not in user.roles:
        raise refused
    return actor_of(user)


@contextmanager
def signed_in_cosigner(
    rt: Runtime, username: str, password: str, proof: Proof | None
) -> Iterator[str | None]:
    """The pages' co-signature: the supervisor signs in beside the administrator with
    certificate and password, exactly as at login (so wrong passwords count towards the
    supervisor's own lock, R-34); the token, for `cosigner`, lives only for the action.
    Without a username nobody co-signs, and `cosigner` decides whether that is enough."""
    if not username.strip():
        yield None
        return
    try:
        outcome = sign_in(rt, username.strip(), password, proof)
    except Problem as refused:
        raise Problem(
            403,
            "COSIGNATURE_REQUIRED",
            "须经监督人员会签",
            f"监督人员身份核验未通过:{refused.title}",
        ) from None
    assert outcome.user is not None and outcome.token is not None
    try:
        yield outcome.token
    finally:
        with rt.work(actor_of(outcome.user)) as work:
            logout(work, outcome.token)


def record_cosignature(work: Work, supervisor: Actor | None, action: str) -> None:
    if supervisor is not None:
        record(
            work,
            COSIGNED,
            object_type="user",
            object_id=supervisor.user_id,
            data={
                "action": action,
                "supervisor": supervisor.username,
                "supervisor_cert_serial": supervisor.cert_serial,
            },
        )


def cosignatures(
    session: Session, before: int | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """R-32b: the co-signatures given, newest first (`before`: the audit entry id of the
    last one already seen), each with the administrator, the supervisor and the action it
    covered: the entry recorded next in its chain, in the same transaction
    (`record_cosignature` runs just before the action)."""
    action = aliased(AuditEntry)
    stmt = (
        select(AuditEntry, action.action)
        .outerjoin(
            action, (action.stream == AuditEntry.stream) & (action.seq == AuditEntry.seq + 1)
        )
        .where(AuditEntry.action == COSIGNED)
    )
    if before is not None:
        stmt = stmt.where(AuditEntry.id < before)
    rows = list(session.execute(stmt.order_by(AuditEntry.id.desc()).limit(limit)))
    names = usernames(
        session,
        {e.actor_user_id for e, _ in rows} | {_supervisor_id(e) for e, _ in rows},
    )
    return [
        {
            "id": entry.id,
            "at": entry.at,
            "admin_id": entry.actor_user_id,
            "admin": names.get(entry.actor_user_id or 0, ""),
            "supervisor_id": _supervisor_id(entry),
            "supervisor": names.get(_supervisor_id(entry) or 0, ""),
            "action": covered or "",
        }
        for entry, covered in rows
    ]


def _supervisor_id(entry: AuditEntry) -> int | None:
    return int(entry.object_id) if entry.object_id and entry.object_id.isdigit() else None


def cosignature_view(given: dict[str, Any]) -> dict[str, Any]:
    return {**given, "at": rfc3339(given["at"])}
