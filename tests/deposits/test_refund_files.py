"""Refund confirmations from a bank's file, by command and by a finance officer's upload,
judged exactly like the bank's API confirmations (R-30b). SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from tests.deposits.support import COUNTY_BANK, let_lapse, refunds, signed
from tests.harness import Account, Stack
from wangua.audit.models import AuditEntry
from wangua.cli import main

DEPOSIT = "24000000.00"
HEADER = "instruction_id,txn_id,amount,paid_at"


def _lapsed(stack: Stack, staff: Account, n: int) -> tuple[dict[str, Any], list[int]]:
    """n bidders qualify for a lot nobody quotes on: n refunds due (R-30b)."""
    lot = stack.published_lot(staff)
    applications = [stack.qualified(stack.bidder(), lot)["id"] for _ in range(n)]
    let_lapse(stack, lot)
    return lot, applications


def _rows(finance: Account, lot: dict[str, Any], applications: list[int]) -> list[dict[str, Any]]:
    by_application = {r["application_id"]: r for r in refunds(finance, lot)}
    return [by_application[a] for a in applications]


def _audit(stack: Stack, action: str) -> list[AuditEntry]:
    with stack.runtime.read() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


def _cli(stack: Stack, *args: str) -> Any:
    settings = stack.runtime.settings
    env = {
        "WANGUA_DATABASE_URL": settings.resolved_database_url,
        "WANGUA_DATA_DIR": str(settings.data_dir),
        "WANGUA_CLOCK": "simulated",
        "WANGUA_BANKS": json.dumps([COUNTY_BANK], ensure_ascii=False),
    }
    return CliRunner().invoke(main, ["bank", "confirm-refunds", *args], env=env)


def test_r30b_bank_confirm_refunds_file_is_judged_like_the_api_and_idempotent(
    stack: Stack, staff: Account, finance: Account, tmp_path: Path
) -> None:
    lot, applications = _lapsed(stack, staff, 2)
    first, second = _rows(finance, lot, applications)
    paid_at = stack.now().isoformat()
    lines = [
        HEADER,
        f"{first['id']},file-{first['id']},{DEPOSIT},{paid_at}",
        f"{second['id']},file-{second['id']},23999999.99,{paid_at}",  # one fen short
        f"999999999,file-unknown,{DEPOSIT},{paid_at}",
        f"{second['id']},file-bad,-1.00,{paid_at}",
        f"{first['id']},file-{first['id']},{DEPOSIT},{paid_at}",  # the same line again
    ]
    path = tmp_path / "confirmations.csv"
    imported = len(_audit(stack, "refund.confirmations_imported"))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    done = _cli(stack, str(path))
    assert done.exit_code == 0, done.output
    assert "paid=1 duplicate=1 unknown=1 refused=2" in done.output
    assert "line 3: refused REFUND_AMOUNT_MISMATCH" in done.output
    assert "line 4: unknown NOT_FOUND" in done.output
    assert "line 5: refused INVALID_AMOUNT" in done.output
    assert [(r["status"], r["interest"]) for r in _rows(finance, lot, applications)] == [
        ("paid", "0.00"),
        ("due", "0.00"),
    ]
    [paid] = [e for e in _audit(stack, "refund.paid") if e.object_id == str(first["id"])]
    assert paid.actor_role == "bank"
    # the same file again changes nothing
    again = _cli(stack, str(path))
    assert "paid=0 duplicate=2 unknown=1 refused=2" in again.output
    # a file line and an API confirmation are the same confirmation
    body = {"instruction_id": first["id"], "txn_id": f"file-{first['id']}", "paid_at": paid_at}
    repeat = signed(stack, "POST", "/api/v1/bank/refund-confirmations", {**body, "amount": DEPOSIT})
    assert repeat.json() == {"status": "duplicate"}
    # the default bank's instruction is unknown to the county bank
    county = _cli(stack, "--bank", COUNTY_BANK["code"], str(path))
    assert "paid=0 duplicate=0 unknown=4 refused=1" in county.output
    assert _rows(finance, lot, applications)[1]["status"] == "due"
    # a file without the confirmation's columns is refused as a whole
    bare = tmp_path / "bare.csv"
    bare.write_text(f"instruction_id,amount\n{second['id']},{DEPOSIT}\n", encoding="utf-8")
    refused = _cli(stack, str(bare))
    assert refused.exit_code != 0 and "txn_id" in refused.output
    assert _rows(finance, lot, applications)[1]["status"] == "due"
    # each imported file is recorded with its counts; the refused one changed nothing
    imports = _audit(stack, "refund.confirmations_imported")[imported:]
    assert [(e.object_id, e.actor_role) for e in imports] == [
        ("default", "bank"),
        ("default", "bank"),
        (COUNTY_BANK["code"], "bank"),
    ]


def test_r30b_finance_uploads_the_banks_refund_confirmations(
    stack: Stack, staff: Account, finance: Account
) -> None:
    lot, applications = _lapsed(stack, staff, 2)
    first, second = _rows(finance, lot, applications)
    paid_at = stack.now().isoformat()
    content = "\n".join(
        [
            HEADER,
            f"{first['id']},upload-{first['id']},{DEPOSIT},{paid_at}",
            f"{second['id']},upload-{second['id']},{DEPOSIT},not-a-time",
        ]
    ).encode("utf-8-sig")
    url = "/api/v1/finance/refund-confirmations?bank=default"
    files = {"file": ("回单.csv", content, "text/csv")}
    done = finance.http.post(url, files=files)
    assert done.status_code == 200, done.text
    answer = done.json()
    assert answer["bank"] == "default"
    assert answer["counts"] == {"paid": 1, "duplicate": 0, "unknown": 0, "refused": 1}
    assert [(x["line"], x["status"], x["code"]) for x in answer["lines"]] == [
        (2, "paid", None),
        (3, "refused", "INVALID_TIME"),
    ]
    assert [r["status"] for r in _rows(finance, lot, applications)] == ["paid", "due"]
    # recorded as the finance officer's, with the file and line it came from
    me = finance.http.get("/api/v1/me").json()["id"]
    [paid] = [e for e in _audit(stack, "refund.paid") if e.object_id == str(first["id"])]
    assert (paid.actor_user_id, paid.actor_role) == (me, "finance")
    uploads = [e for e in _audit(stack, "refund.confirmations_imported") if e.actor_user_id == me]
    assert len(uploads) == 1
    # again: a duplicate, nothing paid twice
    again = finance.http.post(url, files=files).json()
    assert again["counts"] == {"paid": 0, "duplicate": 1, "unknown": 0, "refused": 1}
    # a county officer cannot use the city's bank; on its own bank the instruction is unknown
    county = stack.account("finance", "tongshan")
    assert county.http.post(url, files=files).status_code == 404
    own = county.http.post(
        f"/api/v1/finance/refund-confirmations?bank={COUNTY_BANK['code']}", files=files
    )
    assert own.json()["counts"] == {"paid": 0, "duplicate": 0, "unknown": 1, "refused": 1}
    # unreadable files are refused whole
    for bad in (b"instruction_id,amount\n1,1.00\n", "指令".encode("gb18030")):
        refused = finance.http.post(url, files={"file": ("x.csv", bad, "text/csv")})
        assert refused.status_code == 422 and refused.json()["code"] == "INVALID_FILE"
    missing = finance.http.post(url)
    assert missing.status_code == 422
    assert [r["status"] for r in _rows(finance, lot, applications)] == ["paid", "due"]


def test_r30b_a_confirmation_for_an_instruction_id_out_of_range_is_unknown(stack: Stack) -> None:
    body = {
        "instruction_id": 2**70,
        "txn_id": "out-of-range",
        "amount": "1.00",
        "paid_at": "2026-04-10T10:00:00+08:00",
    }
    answer = signed(stack, "POST", "/api/v1/bank/refund-confirmations", body)
    assert answer.status_code == 404, answer.text
    assert answer.json()["code"] == "NOT_FOUND"
