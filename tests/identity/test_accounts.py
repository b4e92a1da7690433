"""Lost certificates (R-12b), locks and unlocking (R-34), CRLs and rate limits, over HTTP."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from sqlalchemy import func, select, update

from tests.harness import Account, Stack
from tests.identity.certificates_for_tests import signed_by_dev_ca
from wangua.db import Database
from wangua.identity.models import LoginAttempt
from wangua.identity.ratelimit import SourceLimiter
from wangua.kit.problems import Problem
from wangua.kit.times import wall_now


def login_status(stack: Stack, account: Account, password: str | None = None) -> tuple[int, str]:
    body = {
        "username": account.username,
        "password": password or account.password,
        **stack.proof(account.key_path, account.cert_path),
    }
    response = stack.anonymous().post("/api/v1/auth/login", json=body)
    return response.status_code, response.json().get("code", "")


def test_r12b_reporting_a_loss_revokes_the_certificate_at_once(stack: Stack) -> None:
    bidder = stack.bidder()
    response = bidder.http.post("/api/v1/me/certificate/report-loss")
    assert response.status_code == 200 and response.json()["serial"]
    assert bidder.http.get("/api/v1/me").status_code == 401  # its sessions ended
    assert login_status(stack, bidder) == (401, "BAD_CREDENTIALS")


def test_r12b_a_new_certificate_is_bound_only_after_staff_approve(
    stack: Stack, staff: Account
) -> None:
    bidder = stack.bidder()
    key, cert = stack.issue(bidder.party_name)
    body = {"username": bidder.username, **stack.proof(key, cert)}
    early = stack.anonymous().post("/api/v1/certificate/rebind-request", json=body)
    assert early.status_code == 409 and early.json()["code"] == "CERTIFICATE_NOT_REVOKED"
    bidder.http.post("/api/v1/me/certificate/report-loss")
    body = {"username": bidder.username, **stack.proof(key, cert)}
    assert (
        stack.anonymous().post("/api/v1/certificate/rebind-request", json=body).status_code == 202
    )
    renewed = Account(bidder.username, bidder.password, key, cert)
    assert login_status(stack, renewed) == (401, "BAD_CREDENTIALS")  # not bound yet
    user_id = bidder_id(stack, staff, bidder.username)
    assert stack.bidder().http.post(f"/api/v1/admin/users/{user_id}/certificate").status_code == 403
    approved = staff.http.post(f"/api/v1/admin/users/{user_id}/certificate")
    assert approved.status_code == 200, approved.text
    assert login_status(stack, renewed)[0] == 200
    assert login_status(stack, bidder) == (401, "BAD_CREDENTIALS")  # the lost one stays revoked


def bidder_id(stack: Stack, staff: Account, username: str) -> int:
    pending = staff.http.get("/api/v1/admin/account-requests").json()
    return int(next(r["user_id"] for r in pending if r["username"] == username))


def test_r34_unlock_takes_a_certificate_proven_request_and_staff_approval(
    stack: Stack, staff: Account
) -> None:
    bidder = stack.bidder()
    for _ in range(5):
        login_status(stack, bidder, "wrong password")
    assert login_status(stack, bidder) == (423, "ACCOUNT_LOCKED")
    other = stack.bidder()
    forged = {"username": bidder.username, **stack.proof(other.key_path, other.cert_path)}
    assert stack.anonymous().post("/api/v1/me/unlock-request", json=forged).status_code == 401
    user_id_missing = staff.http.post("/api/v1/admin/users/999999999/unlock")
    assert user_id_missing.status_code == 404
    body = {"username": bidder.username, **stack.proof(bidder.key_path, bidder.cert_path)}
    assert stack.anonymous().post("/api/v1/me/unlock-request", json=body).status_code == 202
    user_id = bidder_id(stack, staff, bidder.username)
    assert staff.http.post(f"/api/v1/admin/users/{user_id}/unlock").status_code == 200
    assert login_status(stack, bidder)[0] == 200
    again = staff.http.post(f"/api/v1/admin/users/{user_id}/unlock")
    assert again.status_code == 409 and again.json()["code"] == "NO_PENDING_REQUEST"


def test_r34_an_unlocked_account_cannot_ask_to_be_unlocked(stack: Stack) -> None:
    bidder = stack.bidder()
    body = {"username": bidder.username, **stack.proof(bidder.key_path, bidder.cert_path)}
    response = stack.anonymous().post("/api/v1/me/unlock-request", json=body)
    assert response.status_code == 409 and response.json()["code"] == "NOT_LOCKED"


def test_r34_login_attempts_are_limited_per_source_address(stack: Stack) -> None:
    settings = stack.runtime.settings
    limit = settings.login_rate_per_minute
    stack.runtime.login_limiter.clear()
    settings.login_rate_per_minute = 3
    try:
        body = {
            "username": "nobody",
            "password": "x",
            "certificate": "x",
            "nonce": "x",
            "signature": "x",
        }
        answers = [stack.anonymous().post("/api/v1/auth/login", json=body) for _ in range(4)]
        assert [a.status_code for a in answers] == [401, 401, 401, 429]
        assert answers[-1].json()["code"] == "RATE_LIMITED"
        assert int(answers[-1].headers["retry-after"]) >= 1
    finally:
        settings.login_rate_per_minute = limit
        stack.runtime.login_limiter.clear()


def test_r34_every_serving_process_counts_the_same_attempts(stack: Stack) -> None:
    """Two processes on one database (each its own connection pool) share an address's
    window: the limit does not multiply by the number of processes. Attempts older than
    a minute no longer count and are dropped."""
    address = f"203.0.113.{uuid.uuid4().int % 250}"
    first = SourceLimiter(Database(stack.runtime.settings.resolved_database_url))
    second = SourceLimiter(Database(stack.runtime.settings.resolved_database_url))
    try:
        first.hit(address, 3)
        second.hit(address, 3)
        first.hit(address, 3)
        with pytest.raises(Problem) as refused:
            second.hit(address, 3)
        assert refused.value.code == "RATE_LIMITED" and refused.value.status == 429
        with first.db.write_session() as session:
            session.execute(
                update(LoginAttempt)
                .where(LoginAttempt.address == address)
                .values(at=wall_now() - timedelta(seconds=61))
            )
        second.hit(address, 3)
        with first.db.read_session() as session:
            kept = session.scalar(
                select(func.count())
                .select_from(LoginAttempt)
                .where(LoginAttempt.address == address)
            )
        assert kept == 1
    finally:
        first.db.dispose()
        second.db.dispose()


def _crl(stack: Stack, serials: list[int]) -> bytes:
    ca_key = serialization.load_pem_private_key((stack.ca_dir / "ca.key.pem").read_bytes(), None)
    ca_cert = x509.load_pem_x509_certificate((stack.ca_dir / "ca.crt.pem").read_bytes())
    now = wall_now()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now - timedelta(minutes=1))
        .next_update(now + timedelta(days=7))
    )
    for serial in serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build()
        )
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def test_r12a_a_certificate_listed_in_a_dropped_in_crl_is_refused_without_restart(
    stack: Stack,
) -> None:
    bidder = stack.bidder()
    serial = x509.load_pem_x509_certificate(bidder.cert_path.read_bytes()).serial_number
    crl_dir = stack.runtime.settings.resolved_crl_dir
    crl_dir.mkdir(parents=True, exist_ok=True)
    path = crl_dir / f"{uuid.uuid4().hex}.crl.pem"
    path.write_bytes(_crl(stack, [serial]))
    try:
        assert login_status(stack, bidder) == (401, "BAD_CREDENTIALS")
    finally:
        path.unlink()
    assert login_status(stack, bidder)[0] == 200


def test_r12a_a_certificate_not_made_for_client_use_is_refused(stack: Stack) -> None:
    key_path, cert_path = signed_by_dev_ca(
        stack.ca_dir,
        "server only",
        [x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])],
        stack.work_dir,
    )
    body = {
        "username": f"server-{uuid.uuid4().hex[:8]}",
        "password": "long password",
        **stack.proof(key_path, cert_path),
        "party": {"kind": "legal", "name": "某公司", "id_type": "统一社会信用代码", "id_no": "1"},
    }
    response = stack.anonymous().post("/api/v1/register", json=body)
    assert response.status_code == 401 and response.json()["code"] == "BAD_CREDENTIALS"


def test_r12a_a_client_certificate_forwarded_by_a_trusted_proxy_logs_in(stack: Stack) -> None:
    from urllib.parse import quote

    bidder = stack.bidder()
    headers = {
        "X-SSL-Client-Verify": "SUCCESS",
        "X-SSL-Client-Cert": quote(bidder.cert_path.read_text()),
    }
    body = {"username": bidder.username, "password": bidder.password}
    untrusted = stack.anonymous().post("/api/v1/auth/login", json=body, headers=headers)
    assert untrusted.status_code == 401  # 127.0.0.1 is not a trusted proxy yet
    stack.runtime.trusted_proxies = frozenset({"127.0.0.1"})
    try:
        forwarded = stack.anonymous().post("/api/v1/auth/login", json=body, headers=headers)
        assert forwarded.status_code == 200, forwarded.text
        unverified = stack.anonymous().post(
            "/api/v1/auth/login", json=body, headers={**headers, "X-SSL-Client-Verify": "FAILED:x"}
        )
        assert unverified.status_code == 401
    finally:
        stack.runtime.trusted_proxies = frozenset()


def test_r34_concurrent_wrong_passwords_never_pass_the_limit(stack: Stack) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import select

    from wangua.identity.models import User

    bidder = stack.bidder()
    bodies = [
        {
            "username": bidder.username,
            "password": f"wrong {i}",
            **stack.proof(bidder.key_path, bidder.cert_path),
        }
        for i in range(12)
    ]
    with ThreadPoolExecutor(12) as pool:
        answers = list(
            pool.map(lambda body: stack.anonymous().post("/api/v1/auth/login", json=body), bodies)
        )
    assert {a.status_code for a in answers} <= {401, 423}
    with stack.runtime.db.read_session() as session:
        user = session.scalars(select(User).where(User.username == bidder.username)).one()
        assert user.locked_at is not None and user.failed_logins == 5
    assert login_status(stack, bidder) == (423, "ACCOUNT_LOCKED")


def test_r12a_expired_and_not_yet_valid_certificates_are_refused_and_recorded(
    stack: Stack,
) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from wangua.audit.models import AuditEntry
    from wangua.audit.service import digest
    from wangua.identity.certificates import issue_certificate

    bidder = stack.bidder()
    now = wall_now()
    windows = {
        "expired": (now - timedelta(days=60), now - timedelta(days=1)),
        "not_yet_valid": (now + timedelta(days=1), now + timedelta(days=60)),
    }
    for reason, (start, end) in windows.items():
        pair = issue_certificate(
            stack.ca_dir,
            common_name=bidder.party_name,
            out_prefix=stack.work_dir / uuid.uuid4().hex,
            not_before=start,
            not_after=end,
        )
        stale = Account(bidder.username, bidder.password, pair.key_path, pair.cert_path)
        assert login_status(stack, stale) == (401, "BAD_CREDENTIALS")
        with stack.runtime.db.read_session() as session:
            refused = session.scalars(
                select(AuditEntry)
                .where(
                    AuditEntry.action == "login.refused", AuditEntry.object_id == bidder.username
                )
                .order_by(AuditEntry.id.desc())
                .limit(1)
            ).one()
        assert refused.result == "refused" and refused.actor_role == "system"
        assert refused.input_digest == digest({"reason": reason})
