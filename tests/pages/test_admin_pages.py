"""The administrator's pages and the account requests staff decide (R-11, R-12b, R-32a,
R-32b, R-32c, R-34): each form does what the API does, refusals change nothing."""

from __future__ import annotations

import shutil
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from tests.api.bidding_support import listing_lot
from tests.harness import Account, Stack
from tests.pages.support import signed_in, text_of
from wangua.audit.models import AuditEntry, AuditStream
from wangua.backups.core import checksum_path, manifest_path
from wangua.backups.daily import backup_name, take_backup
from wangua.identity.models import AccessToken
from wangua.reserve.sealing import seal


def _admin(stack: Stack) -> httpx.Client:
    assert stack.admin is not None
    return signed_in(stack, stack.admin)


def _cosigned_by(stack: Stack, account: Account, password: str | None = None) -> dict[str, str]:
    proof = stack.proof(account.key_path, account.cert_path)
    return {
        "cosigner_username": account.username,
        "cosigner_password": password or account.password,
        **{f"cosigner_{name}": value for name, value in proof.items()},
    }


def _new_account(stack: Stack, role: str) -> tuple[Account, dict[str, Any], dict[str, Any]]:
    name = f"{role}-{uuid.uuid4().hex[:8]}"
    key, cert = stack.issue(name)
    account = Account(name, "long enough password", key, cert)
    form = {"username": name, "password": account.password, "roles": [role]}
    files = {"certificate_file": ("clerk.crt.pem", cert.read_bytes(), "application/x-pem-file")}
    return account, form, files


def _can_log_in(stack: Stack, account: Account) -> int:
    body = {
        "username": account.username,
        "password": account.password,
        **stack.proof(account.key_path, account.cert_path),
    }
    return stack.anonymous().post("/api/v1/auth/login", json=body).status_code


def _live_tokens(stack: Stack, user_id: int) -> int:
    with stack.runtime.db.read_session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(AccessToken)
                .where(AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None))
            )
            or 0
        )


def test_r32b_during_a_listing_an_account_is_created_only_with_the_supervisor_beside(
    stack: Stack, staff: Account
) -> None:
    listing_lot(stack, staff, 1)  # a listing runs now
    assert stack.cosigner is not None
    page = _admin(stack)
    account, form, files = _new_account(stack, "finance")
    alone = page.post("/admin/users", data=form, files=files)
    assert alone.status_code == 403 and "须经监督人员会签" in text_of(alone.text)
    assert account.username in alone.text  # the form keeps what was typed
    by_staff = page.post("/admin/users", data=form | _cosigned_by(stack, staff), files=files)
    assert by_staff.status_code == 403 and "须经监督人员会签" in text_of(by_staff.text)
    wrong = page.post(
        "/admin/users", data=form | _cosigned_by(stack, stack.cosigner, "wrong"), files=files
    )
    assert wrong.status_code == 403 and "监督人员身份核验未通过" in text_of(wrong.text)
    assert _can_log_in(stack, account) == 401  # nothing was created
    me = stack.cosigner.http.get("/api/v1/me").json()
    tokens = _live_tokens(stack, me["id"])
    done = page.post(
        "/admin/users",
        data=form | {"grantor": "chibi"} | _cosigned_by(stack, stack.cosigner),
        files=files,
    )
    assert done.status_code == 303, done.text
    assert _live_tokens(stack, me["id"]) == tokens  # the co-signing session ended with the action
    created = stack.login(account).http.get("/api/v1/me").json()
    assert (created["roles"], created["grantor"]) == (["finance"], "chibi")
    with stack.runtime.db.read_session() as session:
        cosigned, action = session.scalars(
            select(AuditEntry)
            .order_by(AuditEntry.id.desc())
            .where(AuditEntry.action.in_(("admin.cosigned", "user.created")))
            .limit(2)
        ).all()[::-1]
    assert (cosigned.action, action.action) == ("admin.cosigned", "user.created")
    assert (action.stream, action.seq) == (cosigned.stream, cosigned.seq + 1)
    assert cosigned.object_id == str(me["id"])
    listed = text_of(page.get("/admin").text)
    assert account.username in listed
    review = signed_in(stack, stack.account("supervisor")).get("/supervisor").text
    assert f"{stack.cosigner.username} user.created" in text_of(review)


def test_r03_an_account_needs_a_role_and_a_trusted_certificate(stack: Stack) -> None:
    page = _admin(stack)
    account, form, files = _new_account(stack, "staff")
    assert stack.cosigner is not None
    cosigned = _cosigned_by(stack, stack.cosigner)
    no_role = page.post("/admin/users", data=form | {"roles": []} | cosigned, files=files)
    assert no_role.status_code == 422 and "缺少角色" in text_of(no_role.text)
    junk = {"certificate_file": ("x.pem", b"not a certificate", "application/x-pem-file")}
    refused = page.post("/admin/users", data=form | _cosigned_by(stack, stack.cosigner), files=junk)
    assert refused.status_code == 422 and "数字证书无效" in text_of(refused.text)
    assert _can_log_in(stack, account) == 401


def _pending_user_id(staff: Account, username: str) -> int:
    pending = staff.http.get("/api/v1/admin/account-requests").json()
    return int(next(r["user_id"] for r in pending if r["username"] == username))


def test_r34_staff_unlock_a_locked_account_on_the_page(stack: Stack, staff: Account) -> None:
    bidder = stack.bidder()
    wrong = Account(bidder.username, "wrong password", bidder.key_path, bidder.cert_path)
    for _ in range(5):
        _can_log_in(stack, wrong)
    assert _can_log_in(stack, bidder) == 423
    proof = {"username": bidder.username, **stack.proof(bidder.key_path, bidder.cert_path)}
    assert stack.anonymous().post("/api/v1/me/unlock-request", json=proof).status_code == 202
    page = signed_in(stack, staff)
    listed = text_of(page.get("/admin/account-requests").text)
    assert bidder.username in listed and "解除锁定" in listed
    user_id = _pending_user_id(staff, bidder.username)
    wrong_kind = page.post(f"/admin/users/{user_id}/certificate")
    assert wrong_kind.status_code == 409 and "没有待处理的申请" in text_of(wrong_kind.text)
    assert _can_log_in(stack, bidder) == 423
    done = page.post(f"/admin/users/{user_id}/unlock")
    assert done.status_code == 303
    assert _can_log_in(stack, bidder) == 200
    assert bidder.username not in text_of(page.get("/admin/account-requests").text)


def test_r12b_a_reported_loss_is_listed_and_staff_bind_the_new_certificate(
    stack: Stack, staff: Account
) -> None:
    bidder = stack.bidder()
    serial = bidder.http.post("/api/v1/me/certificate/report-loss").json()["serial"]
    revoked = text_of(_admin(stack).get("/admin").text)
    assert serial in revoked and bidder.username in revoked
    key, cert = stack.issue(bidder.party_name)
    body = {"username": bidder.username, **stack.proof(key, cert)}
    assert (
        stack.anonymous().post("/api/v1/certificate/rebind-request", json=body).status_code == 202
    )
    renewed = Account(bidder.username, bidder.password, key, cert)
    assert _can_log_in(stack, renewed) == 401
    page = signed_in(stack, staff)
    assert "绑定新证书" in text_of(page.get("/admin/account-requests").text)
    user_id = _pending_user_id(staff, bidder.username)
    assert page.post(f"/admin/users/{user_id}/certificate").status_code == 303
    assert _can_log_in(stack, renewed) == 200
    assert _can_log_in(stack, bidder) == 401  # the lost certificate stays revoked


def test_r11_the_administrator_imports_the_sealed_reserve_file_in_its_window(
    stack: Stack, staff: Account
) -> None:
    lot, _, _ = listing_lot(stack, staff, 1, has_reserve=True)
    supervisor = stack.account("supervisor")
    system = stack.anonymous().get("/api/v1/reserve-key").content
    sealed = seal(
        lot["code"],
        "125000000.00",
        system,
        supervisor.key_path.read_bytes(),
        supervisor.cert_path.read_bytes(),
    ).to_bytes()
    page = _admin(stack)
    assert "未导入" in text_of(page.get("/admin").text).split(lot["code"])[1]
    upload = f"/admin/lots/{lot['id']}/reserve"
    early = page.post(upload, files={"sealed": ("reserve.sealed", sealed)})
    assert early.status_code == 409 and "不在底价导入时间内" in text_of(early.text)
    stack.advance_to(datetime.fromisoformat(lot["listing_end"]) - timedelta(minutes=30))
    garbage = page.post(upload, files={"sealed": ("reserve.sealed", b"{}")})
    assert garbage.status_code == 422 and "底价密封文件无效" in text_of(garbage.text)
    assert page.post(upload, files={"sealed": ("reserve.sealed", sealed)}).status_code == 303
    assert "已导入" in text_of(page.get("/admin").text).split(lot["code"])[1]
    assert stack.admin is not None
    again = stack.admin.http.post(f"/api/v1/lots/{lot['id']}/reserve", json={"sealed": "AAAA"})
    assert again.status_code == 409 and again.json()["code"] == "RESERVE_ALREADY_SET"


def _drilled(stack: Stack, name: str) -> AuditEntry:
    with stack.runtime.db.read_session() as session:
        return session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "backup.drilled", AuditEntry.object_id == name)
            .order_by(AuditEntry.id.desc())
            .limit(1)
        ).one()


def test_r32c_the_backups_page_lists_backups_and_runs_the_restore_drill(stack: Stack) -> None:
    directory = stack.runtime.settings.resolved_backup_dir
    dialect = "postgresql" if stack.backend == "postgresql" else "sqlite"
    good = directory / backup_name(stack.now() + timedelta(seconds=1), dialect)
    take_backup(stack.runtime, good, "test")
    damaged = good.with_name(f"damaged-{good.name}")
    for source, target in ((good, damaged), (checksum_path(good), checksum_path(damaged))):
        shutil.copyfile(source, target)
    shutil.copyfile(manifest_path(good), manifest_path(damaged))
    with damaged.open("r+b") as handle:
        handle.seek(200)
        handle.write(b"\xff" * 16)
    page = _admin(stack)
    listed = text_of(page.get("/admin/backups").text)
    assert good.name in listed and damaged.name in listed
    assert stack.cosigner is not None
    cosigned = _cosigned_by(stack, stack.cosigner)
    drilled = page.post("/admin/backups/drill", data={"name": good.name} | cosigned)
    assert drilled.status_code == 200
    assert "演练通过" in text_of(drilled.text) and "records" in text_of(drilled.text)
    assert _drilled(stack, good.name).result == "ok"
    cosigned = _cosigned_by(stack, stack.cosigner)
    broken = page.post("/admin/backups/drill", data={"name": damaged.name} | cosigned)
    assert "演练失败" in text_of(broken.text) and "校验和不符" in text_of(broken.text)
    assert _drilled(stack, damaged.name).result.startswith("failed")
    outside = page.post("/admin/backups/drill", data={"name": "../wangua.sqlite3"} | cosigned)
    assert outside.status_code == 404


def _entries(stack: Stack) -> int:
    with stack.runtime.db.read_session() as session:
        return int(session.scalar(select(func.sum(AuditStream.seq))) or 0)


def test_r32a_the_audit_page_verifies_every_record(stack: Stack) -> None:
    before = _entries(stack)
    shown = text_of(_admin(stack).get("/admin/audit", params={"run": "true"}).text)
    after = _entries(stack)
    assert "校验通过" in shown
    count = int(shown.split("ok ")[1].split(" records")[0])
    assert before <= count <= after
    supervisor = signed_in(stack, stack.account("supervisor"))
    assert "ok " in text_of(supervisor.get("/admin/audit?run=true").text)
    assert "ok " not in text_of(supervisor.get("/admin/audit").text)  # runs only when asked
