"""R-32c over the API: the backup folder and the restore drill for administrators, as the
backups page lists and runs them; during a listing a drill needs the supervisor's
co-signature, which supervisors then see among the co-signatures they gave (R-32b)."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from tests.api.bidding_support import listing_lot
from tests.harness import Account, Stack
from tests.identity.test_account_lists import every_page
from wangua.audit.models import AuditEntry
from wangua.backups.core import checksum_path, manifest_path
from wangua.backups.daily import backup_name, take_backup


def _backup(stack: Stack, seconds: int) -> Path:
    directory = stack.runtime.settings.resolved_backup_dir
    dialect = "postgresql" if stack.backend == "postgresql" else "sqlite"
    out = directory / backup_name(stack.now() + timedelta(seconds=seconds), dialect)
    take_backup(stack.runtime, out, "test")
    return out


def _damaged_copy(good: Path) -> Path:
    damaged = good.with_name(f"damaged-{good.name}")
    for source, target in (
        (good, damaged),
        (checksum_path(good), checksum_path(damaged)),
        (manifest_path(good), manifest_path(damaged)),
    ):
        shutil.copyfile(source, target)
    with damaged.open("r+b") as handle:
        handle.seek(200)
        handle.write(b"\xff" * 16)
    return damaged


def _recorded(stack: Stack, action: str, name: str) -> list[AuditEntry]:
    with stack.runtime.db.read_session() as session:
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == action, AuditEntry.object_id == name)
                .order_by(AuditEntry.id)
            )
        )


def _cosigned(stack: Stack) -> dict[str, str]:
    assert stack.cosigner is not None
    return {"X-Cosigner-Token": stack.cosigner.token}


def test_r32c_the_backup_folder_is_listed_newest_first_with_its_manifests(stack: Stack) -> None:
    assert stack.admin is not None
    older, newer = _backup(stack, 1), _backup(stack, 2)
    bare = older.with_name(f"copied-{older.name}")
    shutil.copyfile(older, bare)
    checksum_path(bare).write_text(checksum_path(older).read_text())  # no manifest beside it
    listed = stack.admin.http.get("/api/v1/admin/backups", params={"limit": 500})
    assert listed.status_code == 200, listed.text
    names = [b["name"] for b in listed.json()]
    assert names.index(newer.name) < names.index(older.name)
    row = next(b for b in listed.json() if b["name"] == newer.name)
    assert row["daily"] is True and row["manifest"] is True
    assert row["dialect"] == ("postgresql" if stack.backend == "postgresql" else "sqlite")
    assert row["size"] == newer.stat().st_size and len(row["sha256"]) == 64
    assert row["tables"] > 10 and row["rows"] > 0
    copied = next(b for b in listed.json() if b["name"] == bare.name)
    assert copied["manifest"] is False and copied["daily"] is False and copied["rows"] is None
    assert checksum_path(newer).name not in names and manifest_path(newer).name not in names
    pages = every_page(stack.admin.http, "/api/v1/admin/backups", 2)
    assert [b["name"] for page in pages for b in page] == names
    wrong = stack.admin.http.get("/api/v1/admin/backups", params={"cursor": "../wangua.sqlite3"})
    assert (wrong.status_code, wrong.json()["code"]) == (422, "INVALID_CURSOR")
    schedule = stack.admin.http.get("/api/v1/admin/backup-schedule").json()
    assert schedule["daily"] is False  # the tests' clock is simulated: no daily backups
    assert schedule["keep_days"] == stack.runtime.settings.backup_keep_days
    assert schedule["time"] == stack.runtime.settings.backup_time.strftime("%H:%M")
    assert schedule["last_daily"]["name"] == newer.name
    refused = stack.account("supervisor").http.get("/api/v1/admin/backups")
    assert (refused.status_code, refused.json()["code"]) == (403, "ROLE_NOT_ALLOWED")


def test_r32c_a_drill_restores_the_backup_checks_it_and_is_recorded(stack: Stack) -> None:
    assert stack.admin is not None
    good = _backup(stack, 3)
    drilled = stack.admin.http.post(
        f"/api/v1/admin/backups/{good.name}/drill", headers=_cosigned(stack)
    )
    assert drilled.status_code == 200, drilled.text
    report = drilled.json()
    assert report["ok"] is True and report["mismatches"] == [] and report["failure"] is None
    assert report["audit"]["ok"] is True and report["audit"]["count"] > 0
    assert report["tables"]["audit_entries"] > 0
    assert [e.result for e in _recorded(stack, "backup.drilled", good.name)] == ["ok"]
    damaged = _damaged_copy(good)
    broken = stack.admin.http.post(
        f"/api/v1/admin/backups/{damaged.name}/drill", headers=_cosigned(stack)
    )
    assert broken.status_code == 200, broken.text
    assert broken.json()["ok"] is False and "校验和不符" in broken.json()["failure"]
    assert _recorded(stack, "backup.drilled", damaged.name)[-1].result.startswith("failed")
    for name in ("no-such-backup.sqlite3", f"{good.name}.sha256", "..%2Fwangua.sqlite3"):
        missing = stack.admin.http.post(f"/api/v1/admin/backups/{name}/drill")
        assert missing.status_code == 404, name
        assert not _recorded(stack, "backup.drill_started", name)


def test_r32b_a_drill_during_a_listing_needs_and_records_the_supervisors_cosignature(
    stack: Stack, staff: Account
) -> None:
    assert stack.admin is not None and stack.cosigner is not None
    listing_lot(stack, staff, 1)  # a listing is running now
    required = stack.admin.http.get("/api/v1/admin/cosignature-required")
    assert required.status_code == 200 and required.json() == {"required": True}
    good = _backup(stack, 4)
    path = f"/api/v1/admin/backups/{good.name}/drill"
    alone = stack.admin.http.post(path)
    assert (alone.status_code, alone.json()["code"]) == (403, "COSIGNATURE_REQUIRED")
    by_staff = stack.admin.http.post(path, headers={"X-Cosigner-Token": staff.token})
    assert (by_staff.status_code, by_staff.json()["code"]) == (403, "COSIGNATURE_REQUIRED")
    assert not _recorded(stack, "backup.drill_started", good.name)  # refused: nothing ran
    assert stack.admin.http.post(path, headers=_cosigned(stack)).json()["ok"] is True
    started = _recorded(stack, "backup.drill_started", good.name)
    assert len(started) == 1
    given = stack.cosigner.http.get("/api/v1/admin/cosignatures", params={"limit": 500})
    assert given.status_code == 200, given.text
    newest = given.json()[0]
    assert newest["action"] == "backup.drill_started" and newest["id"] == started[0].id - 1
    assert newest["admin"] == "admin" and newest["supervisor"] == stack.cosigner.username
    assert newest["at"].endswith("Z")
    ids = [c["id"] for c in given.json()]
    assert ids == sorted(ids, reverse=True)
    pages = every_page(stack.cosigner.http, "/api/v1/admin/cosignatures", 3)
    assert [c["id"] for page in pages for c in page] == ids
    refused = stack.admin.http.get("/api/v1/admin/cosignatures")
    assert (refused.status_code, refused.json()["code"]) == (403, "ROLE_NOT_ALLOWED")
