"""R-32a over the API: administrators and supervisors run `wangua audit verify` from the
serving process and read the signed checkpoints, as the audit page does."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from tests.harness import Stack, running_stack
from tests.identity.test_account_lists import every_page
from wangua.audit.checkpoints import SigningKey, checkpoint
from wangua.audit.models import AuditStream
from wangua.audit.verify import verify
from wangua.db import normalise_url


def _entries(stack: Stack) -> int:
    with stack.runtime.db.read_session() as session:
        return int(session.scalar(select(func.sum(AuditStream.seq))) or 0)


def test_r32a_verify_answers_ok_with_the_number_of_records(stack: Stack) -> None:
    assert stack.admin is not None
    before = _entries(stack)
    answer = stack.admin.http.post("/api/v1/admin/audit/verify")
    after = _entries(stack)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["ok"] is True and report["failure"] is None
    assert before <= report["count"] <= after
    assert report["summary"] == f"ok {report['count']} records"  # as the command prints it
    supervisor = stack.account("supervisor")
    assert supervisor.http.post("/api/v1/admin/audit/verify").json()["ok"] is True
    refused = stack.account("staff", "xianning-city").http.post("/api/v1/admin/audit/verify")
    assert (refused.status_code, refused.json()["code"]) == (403, "ROLE_NOT_ALLOWED")


def test_r32a_the_checkpoint_state_and_the_signed_checkpoints(stack: Stack) -> None:
    assert stack.admin is not None
    taken = checkpoint(stack.runtime)
    supervisor = stack.account("supervisor")
    state = supervisor.http.get("/api/v1/admin/audit")
    assert state.status_code == 200, state.text
    latest = state.json()["latest"]
    assert latest["id"] == taken.id and latest["root"] == taken.root
    assert latest["verifies"] is True and latest["problem"] is None
    assert state.json()["checkpoints"] >= 1
    assert state.json()["entries"] >= latest["entries"] and state.json()["streams"] >= 1
    listed = stack.admin.http.get("/api/v1/admin/audit/checkpoints", params={"limit": 500})
    assert listed.json()[0]["id"] == taken.id  # newest first
    assert all(c["verifies"] for c in listed.json())
    pages = every_page(stack.admin.http, "/api/v1/admin/audit/checkpoints", 2)
    assert [c["id"] for page in pages for c in page] == [c["id"] for c in listed.json()]
    refused = stack.bidder().http.get("/api/v1/admin/audit")
    assert (refused.status_code, refused.json()["code"]) == (403, "ROLE_NOT_ALLOWED")


def test_r32a_a_tampered_record_is_answered_with_its_first_failing_entry(tmp_path: Path) -> None:
    # A stack of its own: the database triggers are dropped to tamper, which the shared
    # stacks of the other tests must never see. The check itself is the same on both
    # databases (tests/audit/test_tamper.py); here it is the HTTP answer that matters.
    with running_stack("sqlite", tmp_path) as stack:
        assert stack.admin is not None
        assert stack.admin.http.post("/api/v1/admin/audit/verify").json()["ok"] is True
        url = stack.runtime.settings.resolved_database_url
        engine = create_engine(normalise_url(url))
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER audit_entries_no_update"))
            conn.execute(
                text(
                    "UPDATE audit_entries SET result = result || ' edited'"
                    " WHERE stream = 'system' AND seq = 2"
                )
            )
        engine.dispose()
        answer = stack.admin.http.post("/api/v1/admin/audit/verify")
        assert answer.status_code == 200, answer.text
        report = answer.json()
        assert report["ok"] is False
        assert report["failure"].startswith("stream system entry 2 ")
        assert "hash does not verify" in report["failure"]
        assert report["summary"] == f"FAILED at {report['failure']}"
        with stack.runtime.db.read_session() as session:
            direct = verify(session, SigningKey(stack.runtime.settings.resolved_audit_key_dir))
        assert (report["count"], report["failure"]) == (direct.count, direct.failure)
