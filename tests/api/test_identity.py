"""Login with certificate proof plus password (R-12a), lockout (R-34), the caller (me)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.api.bidding_support import listing_lot
from tests.harness import Account, Stack
from wangua.identity import service
from wangua.identity.certificates import init_ca, issue_certificate, sign_message
from wangua.identity.models import User


def _login(stack: Stack, account: Account, **changes: str) -> tuple[int, dict[str, object]]:
    body = {
        "username": account.username,
        "password": account.password,
        **stack.proof(account.key_path, account.cert_path),
    }
    body.update(changes)
    response = stack.anonymous().post("/api/v1/auth/login", json=body)
    return response.status_code, response.json()


def test_r12a_login_with_certificate_and_password(stack: Stack) -> None:
    bidder = stack.bidder()
    status, body = _login(stack, bidder)
    assert status == 200
    assert body["user"]["username"] == bidder.username and body["user"]["roles"] == ["bidder"]
    me = bidder.http.get("/api/v1/me").json()
    assert me["party"]["name"] == bidder.party_name and me["grantor"] is None


def test_r12a_wrong_password_is_bad_credentials(stack: Stack) -> None:
    bidder = stack.bidder()
    status, body = _login(stack, bidder, password="wrong password")
    assert status == 401 and body["code"] == "BAD_CREDENTIALS"


def test_r12a_certificate_of_another_account_is_refused(stack: Stack) -> None:
    bidder, other = stack.bidder(), stack.bidder()
    proof = stack.proof(other.key_path, other.cert_path)
    status, body = _login(stack, bidder, **proof)
    assert status == 401 and body["code"] == "BAD_CREDENTIALS"


def test_r12a_signature_by_another_key_is_refused(stack: Stack) -> None:
    bidder, other = stack.bidder(), stack.bidder()
    proof = stack.proof(bidder.key_path, bidder.cert_path)
    proof["signature"] = sign_message(other.key_path.read_bytes(), proof["nonce"])
    status, body = _login(stack, bidder, **proof)
    assert status == 401 and body["code"] == "BAD_CREDENTIALS"


def test_r12a_nonce_is_single_use(stack: Stack) -> None:
    bidder = stack.bidder()
    proof = stack.proof(bidder.key_path, bidder.cert_path)
    assert _login(stack, bidder, **proof)[0] == 200
    status, body = _login(stack, bidder, **proof)
    assert status == 401 and body["code"] == "BAD_CREDENTIALS"


def test_r12a_certificate_from_untrusted_ca_cannot_register(stack: Stack) -> None:
    rogue = stack.work_dir / f"rogue-{uuid.uuid4().hex}"
    init_ca(rogue)
    pair = issue_certificate(rogue, common_name="冒名公司", out_prefix=rogue / "leaf")
    body = _registration(stack, "冒名公司", pair.key_path, pair.cert_path, "rogue password")
    response = stack.anonymous().post("/api/v1/register", json=body)
    assert response.status_code == 401 and response.json()["code"] == "BAD_CREDENTIALS"


def test_r34_five_wrong_passwords_lock_the_account(stack: Stack) -> None:
    bidder = stack.bidder()
    for _ in range(5):
        assert _login(stack, bidder, password="wrong password")[0] == 401
    status, body = _login(stack, bidder)
    assert status == 423 and body["code"] == "ACCOUNT_LOCKED"


def test_token_is_required_and_logout_ends_it(stack: Stack) -> None:
    bidder = stack.bidder()
    assert stack.anonymous().get("/api/v1/me").status_code == 401
    assert bidder.http.post("/api/v1/auth/logout").status_code == 204
    assert bidder.http.get("/api/v1/me").status_code == 401


def test_only_admins_create_accounts(stack: Stack) -> None:
    bidder = stack.bidder()
    _key, cert = stack.issue("staff-x")
    body = {
        "username": "x",
        "password": "long password",
        "roles": ["staff"],
        "certificate": cert.read_text(),
    }
    assert bidder.http.post("/api/v1/admin/users", json=body).status_code == 403


def test_r03_staff_belong_to_a_grantor(stack: Stack) -> None:
    staff = stack.account("staff")
    assert staff.http.get("/api/v1/me").json()["grantor"] == "xianning-city"
    county = stack.account("finance", "tongshan")
    assert county.http.get("/api/v1/me").json()["grantor"] == "tongshan"


def test_r12a_a_weak_password_is_refused_and_creates_nobody(stack: Stack) -> None:
    key, cert = stack.issue("短密码公司")
    body = _registration(stack, "短密码公司", key, cert, "short")
    response = stack.anonymous().post("/api/v1/register", json=body)
    assert response.status_code == 422 and response.json()["code"] == "WEAK_PASSWORD"
    with stack.runtime.read() as session:
        assert session.scalar(select(User.id).where(User.username == body["username"])) is None


def _registration(
    stack: Stack, company: str, key: Path, cert: Path, password: str
) -> dict[str, Any]:
    """A self-registration body (API.md, Identity) for the certificate's company."""
    return {
        "username": f"company-{uuid.uuid4().hex[:8]}",
        "password": password,
        **stack.proof(key, cert),
        "party": {
            "kind": "legal",
            "name": company,
            "id_type": "统一社会信用代码",
            "id_no": f"9100000000{uuid.uuid4().hex[:7].upper()}X",
        },
    }


def test_r12a_hashing_a_new_account_s_password_holds_up_no_bid(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The password is hashed (tens of milliseconds) before the account's write
    transaction opens: a bid placed meanwhile is accepted at once (on SQLite an open
    write transaction would hold the whole database)."""
    lot, (bidder,), _ = listing_lot(stack, stack.account("staff", "xianning-city"), 1)
    answers: list[int] = []
    real = service.hash_password

    def hash_while_bidding(password: str) -> str:
        answers.append(stack.quote(bidder, lot, lot["start_price"]).status_code)
        return real(password)

    monkeypatch.setattr(service, "hash_password", hash_while_bidding)
    stack.bidder()
    assert answers == [201]
