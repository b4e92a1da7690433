"""A lost certificate (R-12b) and a locked account (R-34): certificate-proven requests
that staff decide, every step recorded."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wangua.audit.service import record
from wangua.identity import certificates
from wangua.identity.models import AccessToken, AccountRequest, Revocation, User
from wangua.identity.service import Proof, bad_credentials, verify_proof
from wangua.identity.trust import Trust
from wangua.kit.problems import Problem, not_found
from wangua.kit.times import rfc3339, wall_now
from wangua.runtime import Work

UNLOCK, REBIND = "unlock", "rebind"


def report_loss(work: Work, user_id: int) -> Revocation:
    """R-12b: the caller's certificate is revoked at once, and every session it opened ends."""
    user = work.session.get(User, user_id)
    assert user is not None
    now = wall_now()
    revocation = work.session.get(Revocation, user.cert_fingerprint)
    if revocation is None:
        revocation = Revocation(
            fingerprint=user.cert_fingerprint,
            serial=user.cert_serial,
            user_id=user.id,
            revoked_at=now,
            reason="reported_lost",
        )
        work.session.add(revocation)
    work.session.execute(
        update(AccessToken)
        .where(AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    work.sessions_changed.add(user.id)
    record(
        work,
        "certificate.reported_lost",
        object_type="user",
        object_id=user.id,
        data={"cert_serial": user.cert_serial},
    )
    return revocation


def _proven_request(work: Work, username: str, proof: Proof, trust: Trust) -> tuple[User, str]:
    """The account asked about and the fingerprint of the certificate that signed the
    request; any failure is BAD_CREDENTIALS, never saying which."""
    try:
        cert = verify_proof(work, proof, trust)
    except certificates.CertificateRejected:
        raise bad_credentials() from None
    user = work.session.scalars(
        select(User).where(User.username == username).with_for_update()
    ).one_or_none()
    if user is None:
        raise bad_credentials()
    return user, certificates.fingerprint(cert)


def request_unlock(work: Work, username: str, proof: Proof, trust: Trust) -> AccountRequest:
    """R-34: the holder of the account's certificate asks for the lock to be lifted."""
    user, fingerprint = _proven_request(work, username, proof, trust)
    if user.cert_fingerprint != fingerprint:
        raise bad_credentials()
    if user.locked_at is None:
        raise Problem(409, "NOT_LOCKED", "账户未被锁定")
    return _open_request(work, user, UNLOCK, proof.certificate_pem, fingerprint)


def request_rebind(work: Work, username: str, proof: Proof, trust: Trust) -> AccountRequest:
    """R-12b: after a loss, the new certificate's holder asks for it to be bound; staff
    decide after checking identity in person."""
    user, fingerprint = _proven_request(work, username, proof, trust)
    if work.session.get(Revocation, user.cert_fingerprint) is None:
        raise Problem(
            409, "CERTIFICATE_NOT_REVOKED", "原证书未挂失", "请先挂失原证书,再申请绑定新证书"
        )
    if work.session.scalar(select(User.id).where(User.cert_fingerprint == fingerprint)) is not None:
        raise Problem(409, "CERTIFICATE_IN_USE", "该数字证书已绑定其他账户")
    return _open_request(work, user, REBIND, proof.certificate_pem, fingerprint)


def _open_request(work: Work, user: User, kind: str, pem: str, fingerprint: str) -> AccountRequest:
    request = AccountRequest(
        user_id=user.id,
        kind=kind,
        cert_pem=pem,
        cert_fingerprint=fingerprint,
        requested_at=wall_now(),
    )
    work.session.add(request)
    work.session.flush()
    record(
        work,
        f"account.{kind}_requested",
        object_type="user",
        object_id=user.id,
        data={"request_id": request.id, "cert_fingerprint": fingerprint},
    )
    return request


def _pending(work: Work, user_id: int, kind: str) -> AccountRequest:
    request = work.session.scalars(
        select(AccountRequest)
        .where(
            AccountRequest.user_id == user_id,
            AccountRequest.kind == kind,
            AccountRequest.decided_at.is_(None),
        )
        .order_by(AccountRequest.id.desc())
        .limit(1)
    ).first()
    if request is None:
        raise Problem(409, "NO_PENDING_REQUEST", "没有待处理的申请")
    return request


def approve_unlock(work: Work, user_id: int) -> User:
    """R-34: staff lift the lock only on a certificate-verified request."""
    user = work.session.get(User, user_id, with_for_update=True)
    if user is None:
        raise not_found("账户")
    request = _pending(work, user.id, UNLOCK)
    request.decided_at, request.decided_by, request.approved = wall_now(), work.actor.user_id, True
    user.locked_at, user.failed_logins = None, 0
    record(
        work,
        "account.unlocked",
        object_type="user",
        object_id=user.id,
        data={"request_id": request.id},
    )
    return user


def approve_rebind(work: Work, user_id: int) -> User:
    """R-12b: bind the requested certificate; the lost one stays revoked."""
    user = work.session.get(User, user_id, with_for_update=True)
    if user is None:
        raise not_found("账户")
    request = _pending(work, user.id, REBIND)
    cert = certificates.load_certificate(request.cert_pem)
    request.decided_at, request.decided_by, request.approved = wall_now(), work.actor.user_id, True
    user.cert_fingerprint = request.cert_fingerprint
    user.cert_pem = request.cert_pem
    user.cert_serial = certificates.certificate_serial(cert)
    work.sessions_changed.add(user.id)
    record(
        work,
        "certificate.bound",
        object_type="user",
        object_id=user.id,
        data={"request_id": request.id, "cert_serial": user.cert_serial},
    )
    return user


def pending_requests(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(AccountRequest, User.username)
        .join(User, User.id == AccountRequest.user_id)
        .where(AccountRequest.decided_at.is_(None))
        .order_by(AccountRequest.id)
    )
    return [
        {
            "id": r.id,
            "user_id": r.user_id,
            "username": name,
            "kind": r.kind,
            "requested_at": rfc3339(r.requested_at),
        }
        for r, name in rows
    ]
