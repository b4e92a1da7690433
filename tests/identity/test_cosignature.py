"""R-32b: during a listing an administrator acts only under a supervisor's co-signature."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from tests.api.bidding_support import listing_lot
from tests.harness import Account, Stack
from wangua.audit.models import AuditEntry


def new_user_body(stack: Stack) -> dict[str, object]:
    name = f"clerk-{uuid.uuid4().hex[:8]}"
    _key, cert = stack.issue(name)
    return {
        "username": name,
        "password": "long password",
        "roles": ["staff"],
        "certificate": cert.read_text(),
    }


def test_r32b_admin_actions_during_a_listing_need_a_supervisors_cosignature(
    stack: Stack, staff: Account
) -> None:
    listing_lot(stack, staff, 1)  # a listing is running now
    assert stack.admin is not None and stack.cosigner is not None
    alone = stack.admin.http.post("/api/v1/admin/users", json=new_user_body(stack))
    assert alone.status_code == 403 and alone.json()["code"] == "COSIGNATURE_REQUIRED"
    by_staff = stack.admin.http.post(
        "/api/v1/admin/users", json=new_user_body(stack), headers={"X-Cosigner-Token": staff.token}
    )
    assert by_staff.status_code == 403
    body = new_user_body(stack)
    cosigned = stack.admin.http.post(
        "/api/v1/admin/users", json=body, headers={"X-Cosigner-Token": stack.cosigner.token}
    )
    assert cosigned.status_code == 201
    with stack.runtime.db.read_session() as session:
        entry = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "admin.cosigned")
            .order_by(AuditEntry.id.desc())
            .limit(1)
        ).one()
        created = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "user.created")
            .order_by(AuditEntry.id.desc())
            .limit(1)
        ).one()
    assert entry.actor_role == "admin" and created.actor_role == "admin"
    assert entry.object_id is not None and int(entry.object_id) > 0  # the supervisor
    assert created.id == entry.id + 1  # one transaction, both identities


def test_r32b_the_command_line_needs_the_supervisors_certificate_during_a_listing(
    stack: Stack, staff: Account
) -> None:
    from click.testing import CliRunner

    from wangua.cli import main

    listing_lot(stack, staff, 1)
    assert stack.cosigner is not None
    env = {
        "WANGUA_DATABASE_URL": stack.runtime.settings.resolved_database_url,
        "WANGUA_TRUST_ANCHORS": str(stack.ca_dir / "ca.crt.pem"),
        "WANGUA_DATA_DIR": str(stack.work_dir),
        "WANGUA_ARGON2_MEMORY_KIB": "8192",
    }
    name = f"clerk-{uuid.uuid4().hex[:8]}"
    _key, cert = stack.issue(name)
    args = [
        "user",
        "add",
        "--username",
        name,
        "--password",
        "long password",
        "--role",
        "staff",
        "--cert",
        str(cert),
    ]
    alone = CliRunner().invoke(main, args, env=env)
    assert alone.exit_code != 0 and "COSIGNATURE_REQUIRED" in alone.output
    by_staff = CliRunner().invoke(
        main,
        [*args, "--cosigner-cert", str(staff.cert_path), "--cosigner-key", str(staff.key_path)],
        env=env,
    )
    assert by_staff.exit_code != 0 and "COSIGNATURE_REQUIRED" in by_staff.output
    cosigned = CliRunner().invoke(
        main,
        [
            *args,
            "--cosigner-cert",
            str(stack.cosigner.cert_path),
            "--cosigner-key",
            str(stack.cosigner.key_path),
        ],
        env=env,
    )
    assert cosigned.exit_code == 0, cosigned.output
