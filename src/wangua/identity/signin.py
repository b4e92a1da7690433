"""Signing in and registering, shared by the API and the pages (R-12a, R-34)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wangua.identity import service
from wangua.identity.certificates import CertificateRejected
from wangua.identity.models import User
from wangua.identity.passwords import password_matches
from wangua.runtime import SYSTEM

if TYPE_CHECKING:
    from wangua.runtime import Runtime


def sign_in(
    rt: Runtime, username: str, password: str, proof: service.Proof | str | None
) -> service.LoginOutcome:
    """Both factors: the certificate (a signed nonce, or the TLS client certificate's PEM)
    and the password, verified outside any transaction; raises 401 BAD_CREDENTIALS or
    423 on a locked account, never saying which factor failed."""
    if proof is None:
        raise service.bad_credentials()
    with rt.work(SYSTEM) as work:
        checked = service.check_certificate(work, username, proof, rt.trust)
    if isinstance(checked, service.LoginOutcome):
        outcome = checked
    else:
        password_ok = password_matches(checked.password_hash, password)
        with rt.work(SYSTEM) as work:
            outcome = service.finish_login(work, checked, password_ok, rt.settings.token_hours)
    if outcome.problem is not None:
        raise outcome.problem
    return outcome


def register_bidder(
    rt: Runtime, username: str, password: str, proof: service.Proof, party: dict[str, Any]
) -> User:
    """Self-registration of a bidder, proven by the same certificate proof as login."""
    with rt.work(SYSTEM) as work:
        try:
            service.verify_proof(work, proof, rt.trust)
        except CertificateRejected:
            refused = True
        else:
            refused = False
    if refused:
        raise service.bad_credentials()
    password_hash = service.hashed_password(password)
    with rt.work(SYSTEM) as work:
        return service.create_user(
            work,
            username=username,
            password_hash=password_hash,
            roles=["bidder"],
            certificate_pem=proof.certificate_pem,
            anchors=rt.trust_anchors,
            party=party,
        )
