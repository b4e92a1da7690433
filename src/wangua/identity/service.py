"""Accounts and login: certificate proof plus password (R-12a, R-34).

Session tokens and nonces live on the wall clock in every clock mode (API.md
Clock), so a simulated auction can move months ahead without logging out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from wangua.audit.service import record
from wangua.identity import certificates
from wangua.identity.models import AccessToken, LoginNonce, Party, Revocation, User
from wangua.identity.passwords import hash_password
from wangua.identity.trust import Trust
from wangua.kit import ids
from wangua.kit.problems import Problem
from wangua.kit.times import SHANGHAI, wall_now
from wangua.lots.models import GRANTORS
from wangua.runtime import Actor, Runtime, Work

ROLES = ("bidder", "staff", "grantor", "supervisor", "finance", "admin")
GRANTOR_ROLES = ("staff", "grantor", "finance")
NONCE_LIFETIME = timedelta(minutes=5)
WRONG_PASSWORDS_PER_DAY = 5
"""R-34: five wrong passwords in one day lock the account."""


def bad_credentials() -> Problem:
    return Problem(401, "BAD_CREDENTIALS", "登录信息不正确", "证书、签名、用户名或密码有误")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_nonce(work: Work) -> LoginNonce:
    nonce = LoginNonce(nonce=ids.token(), expires_at=wall_now() + NONCE_LIFETIME)
    work.session.add(nonce)
    return nonce


@dataclass(frozen=True)
class Proof:
    certificate_pem: str
    nonce: str
    signature: str


def verify_proof(work: Work, proof: Proof, trust: Trust) -> x509.Certificate:
    """R-12a: a fresh single-use nonce, signed by the key of a certificate that chains to
    a trust anchor, is valid now, fits for client use, and is revoked neither by a CRL
    nor by a reported loss (R-12b)."""
    now = wall_now()
    nonce = work.session.scalars(
        select(LoginNonce).where(LoginNonce.nonce == proof.nonce).with_for_update()
    ).one_or_none()
    if nonce is None or nonce.used_at is not None or nonce.expires_at <= now:
        raise certificates.CertificateRejected("stale_nonce")
    nonce.used_at = now
    cert = trust.check(proof.certificate_pem, now)
    if work.session.get(Revocation, certificates.fingerprint(cert)) is not None:
        raise certificates.CertificateRejected("revoked", "reported lost")
    certificates.verify_possession(cert, proof.nonce, proof.signature)
    return cert


@dataclass(frozen=True)
class LoginOutcome:
    """What a login attempt came to; the failure is recorded even though it is refused."""

    user: User | None
    token: str | None
    problem: Problem | None
    expires_at: datetime | None = None


def verify_presented(work: Work, pem: str, trust: Trust) -> x509.Certificate:
    """R-12a over TLS: the handshake already proved possession of the key; the certificate
    must still be trusted, valid, fit for client use and not revoked."""
    cert = trust.check(pem, wall_now())
    if work.session.get(Revocation, certificates.fingerprint(cert)) is not None:
        raise certificates.CertificateRejected("revoked", "reported lost")
    return cert


@dataclass(frozen=True)
class Candidate:
    """A login whose certificate proof passed: the password is checked next, outside any
    transaction, so argon2's deliberate slowness never holds a database lock."""

    user_id: int
    password_hash: str
    cert_fingerprint: str
    cert_serial: str


def _refused(work: Work, subject: object, reason: str, problem: Problem) -> LoginOutcome:
    record(
        work,
        "login.refused",
        object_type="user",
        object_id=subject,
        data={"reason": reason},
        result="refused",
    )
    return LoginOutcome(None, None, problem)


def check_certificate(
    work: Work, username: str, proof: Proof | str, trust: Trust
) -> Candidate | LoginOutcome:
    """R-12a, first factor. `proof` is a signed nonce, or the PEM of a certificate presented
    in the TLS handshake. A refusal is recorded and returned, not raised."""
    try:
        if isinstance(proof, Proof):
            cert = verify_proof(work, proof, trust)
        else:
            cert = verify_presented(work, proof, trust)
    except certificates.CertificateRejected as rejected:
        return _refused(work, username, rejected.reason, bad_credentials())
    user = work.session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None or user.cert_fingerprint != certificates.fingerprint(cert):
        return _refused(work, username, "certificate_not_bound", bad_credentials())
    if user.locked_at is not None:
        return _refused(work, user.id, "locked", locked())
    return Candidate(
        user.id, user.password_hash, user.cert_fingerprint, certificates.certificate_serial(cert)
    )


def finish_login(
    work: Work, candidate: Candidate, password_ok: bool, token_hours: int
) -> LoginOutcome:
    """R-12a second factor and R-34: under the account's row lock, so concurrent wrong
    passwords are counted one by one and never pass the limit."""
    user = work.session.get(User, candidate.user_id, with_for_update=True)
    if user is None or user.cert_fingerprint != candidate.cert_fingerprint:
        return _refused(work, candidate.user_id, "certificate_not_bound", bad_credentials())
    if user.locked_at is not None:
        return _refused(work, user.id, "locked", locked())
    now = wall_now()
    if not password_ok:
        today = now.astimezone(SHANGHAI).date()
        if user.failed_day != today:
            user.failed_day, user.failed_logins = today, 0
        user.failed_logins += 1
        if user.failed_logins >= WRONG_PASSWORDS_PER_DAY:
            user.locked_at = now
            record(
                work,
                "user.locked",
                object_type="user",
                object_id=user.id,
                data={"failed_logins": user.failed_logins},
            )
        return _refused(work, user.id, "password", bad_credentials())
    user.failed_logins = 0
    token = ids.token()
    expires_at = now + timedelta(hours=token_hours)
    work.session.add(
        AccessToken(
            token_hash=token_hash(token), user_id=user.id, created_at=now, expires_at=expires_at
        )
    )
    record(
        work,
        "login",
        object_type="user",
        object_id=user.id,
        data={"cert_serial": candidate.cert_serial},
    )
    return LoginOutcome(user, token, None, expires_at)


def locked() -> Problem:
    return Problem(
        423,
        "ACCOUNT_LOCKED",
        "账户已锁定",
        "当日连续输错密码5次,账户已锁定;请凭数字证书提交解锁申请",
    )


def logout(work: Work, token: str) -> None:
    row = work.session.get(AccessToken, token_hash(token))
    if row is not None and row.revoked_at is None:
        row.revoked_at = wall_now()
        work.sessions_changed.add(row.user_id)
        record(work, "logout", object_type="user", object_id=row.user_id)


_ACTOR = (
    select(
        User.id, User.roles, User.username, User.cert_serial, User.grantor, AccessToken.expires_at
    )
    .join(AccessToken, AccessToken.user_id == User.id)
    .where(
        AccessToken.token_hash == bindparam("token_hash"),
        AccessToken.revoked_at.is_(None),
        AccessToken.expires_at > bindparam("now"),
    )
)


def actor_for_token(session: Session, token: str) -> Actor | None:
    """The account a live token (unrevoked, unexpired on the wall clock) belongs to, in
    one prebuilt statement."""
    live = _live_token(session, token_hash(token))
    return None if live is None else live[0]


def _live_token(session: Session, hashed: str) -> tuple[Actor, datetime] | None:
    """The account a live token belongs to, and when the token expires."""
    row = session.connection().execute(_ACTOR, {"token_hash": hashed, "now": wall_now()})
    found = row.one_or_none()
    if found is None:
        return None
    user_id, roles, username, cert_serial, grantor, expires_at = found
    return _actor(user_id, roles, username, cert_serial, grantor), expires_at


def token_actor(rt: Runtime, token: str) -> Actor | None:
    """The account a live token belongs to (actor_for_token), remembered by this process
    for a moment (identity.tokens)."""
    hashed = token_hash(token)
    return rt.tokens.remembered(hashed) or read_token(rt, hashed)


def read_token(rt: Runtime, hashed: str) -> Actor | None:
    """The account the live token hashed as `hashed` belongs to, read from the database
    and remembered (`token_actor` without looking in the process's memory first)."""
    generation = rt.tokens.generation
    with rt.read() as session:
        live = _live_token(session, hashed)
    if live is None:
        return None
    rt.tokens.remember(hashed, *live, generation)
    return live[0]


def actor_of(user: User) -> Actor:
    return _actor(user.id, user.roles, user.username, user.cert_serial, user.grantor)


def _actor(
    user_id: int, roles: list[str], username: str, cert_serial: str | None, grantor: str | None
) -> Actor:
    return Actor(
        user_id=user_id,
        role=roles[0] if roles else "none",
        username=username,
        cert_serial=cert_serial,
        grantor=grantor,
        roles=tuple(roles),
    )


def hashed_password(password: str) -> str:
    """R-12a: the argon2id hash of an acceptable password (422 WEAK_PASSWORD otherwise).
    Callers hash before their write transaction opens: hashing takes tens of
    milliseconds, and a transaction holding a lock (on SQLite, the database's) meanwhile
    would hold up every bid."""
    if len(password) < 8:
        raise Problem(422, "WEAK_PASSWORD", "密码过短", "密码至少8位")
    return hash_password(password)


def create_user(
    work: Work,
    *,
    username: str,
    password_hash: str,
    roles: list[str],
    certificate_pem: str,
    anchors: list[x509.Certificate],
    grantor: str | None = None,
    party: dict[str, Any] | None = None,
) -> User:
    """An account with its bound certificate; staff, grantor officers and finance belong
    to a grantor (R-03)."""
    unknown = [r for r in roles if r not in ROLES]
    if not roles or unknown:
        raise Problem(422, "UNKNOWN_ROLE", "角色不正确", f"可用角色:{', '.join(ROLES)}")
    if any(r in GRANTOR_ROLES for r in roles):
        grantor = grantor or "xianning-city"
    if grantor is not None and grantor not in GRANTORS:
        raise Problem(422, "UNKNOWN_GRANTOR", "出让人不存在", f"未配置的出让人代码:{grantor}")
    try:
        cert = certificates.verify_certificate(certificate_pem, anchors, wall_now())
    except certificates.CertificateRejected as rejected:
        raise Problem(
            422,
            "CERTIFICATE_INVALID",
            "数字证书无效",
            f"证书不被信任或不在有效期内({rejected.reason})",
        ) from None
    if work.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Problem(409, "USERNAME_TAKEN", "用户名已被使用")
    fingerprint = certificates.fingerprint(cert)
    if work.session.scalar(select(User.id).where(User.cert_fingerprint == fingerprint)) is not None:
        raise Problem(409, "CERTIFICATE_IN_USE", "该数字证书已绑定其他账户")
    party_row = None
    if party is not None:
        party_row = Party(**party)
        work.session.add(party_row)
        work.session.flush()
    user = User(
        username=username,
        password_hash=password_hash,
        roles=roles,
        party_id=party_row.id if party_row else None,
        grantor=grantor,
        cert_fingerprint=fingerprint,
        cert_pem=certificates.load_certificate(certificate_pem).public_bytes(Encoding.PEM).decode(),
        cert_serial=certificates.certificate_serial(cert),
        failed_logins=0,
        created_at=wall_now(),
    )
    work.session.add(user)
    work.session.flush()
    record(
        work,
        "user.created",
        object_type="user",
        object_id=user.id,
        data={
            "username": username,
            "roles": roles,
            "grantor": grantor,
            "cert_serial": user.cert_serial,
        },
    )
    return user


def me_view(session: Session, user: User) -> dict[str, Any]:
    party = session.get(Party, user.party_id) if user.party_id else None
    return {
        "id": user.id,
        "username": user.username,
        "roles": list(user.roles),
        "party": None
        if party is None
        else {
            "kind": party.kind,
            "name": party.name,
            "id_type": party.id_type,
            "id_no": party.id_no,
            "domestic": party.domestic,
        },
        "grantor": user.grantor,
        "locked": user.locked_at is not None,
    }
