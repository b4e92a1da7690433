"""Refund confirmations from a bank's file (R-30b): `wangua bank confirm-refunds FILE.csv`
and the finance officer's upload.

The file has a header row with the API confirmation's fields: instruction_id, txn_id,
amount, paid_at (UTF-8, a BOM is allowed; other columns are ignored). Each line is judged
by `payouts.confirm`, exactly like `POST /api/v1/bank/refund-confirmations`, in its own
transaction: `paid`, `duplicate` (the same confirmation again), `unknown` (no such
instruction for this bank: nothing changes) or `refused` (a malformed line, an amount
that is not principal plus interest, a refund not due). The import itself is recorded.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from dataclasses import dataclass
from typing import Any

from wangua.audit.service import record
from wangua.deposits import payouts
from wangua.kit.money import parse_amount
from wangua.kit.problems import Problem
from wangua.kit.times import parse_rfc3339
from wangua.runtime import Actor, Runtime

FIELDS = ("instruction_id", "txn_id", "amount", "paid_at")
OUTCOMES = ("paid", "duplicate", "unknown", "refused")
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Line:
    number: int
    instruction_id: str
    status: str
    code: str | None = None
    detail: str | None = None

    def view(self) -> dict[str, Any]:
        return {
            "line": self.number,
            "instruction_id": self.instruction_id,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }


def decode_file(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("the file is not UTF-8") from None


def import_confirmations(
    rt: Runtime, actor: Actor, bank_code: str, text: str, source: str
) -> list[Line]:
    """Every data line's outcome, in file order. A file without the required columns is
    refused as a whole (ValueError) before any line is judged."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [f for f in FIELDS if f not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"{source}: missing columns {', '.join(missing)}")
    lines = [
        _judge(rt, actor, bank_code, number, row, source)
        for number, row in enumerate(reader, start=2)
    ]
    with rt.work(actor) as work:
        record(
            work,
            "refund.confirmations_imported",
            object_type="bank",
            object_id=bank_code,
            data={
                "source": source,
                "sha256": hashlib.sha256(text.encode()).hexdigest(),
                "counts": outcome_counts(lines),
                "not_paid": [(x.number, x.code) for x in lines if x.code is not None],
            },
        )
    return lines


def _judge(
    rt: Runtime, actor: Actor, bank_code: str, number: int, row: dict[str, Any], source: str
) -> Line:
    instruction = (row.get("instruction_id") or "").strip()
    try:
        refund_id = _refund_id(instruction)
        txn_id = (row.get("txn_id") or "").strip()
        if not txn_id:
            raise Problem(422, "VALIDATION_ERROR", "txn_id 缺失")
        amount = parse_amount(row.get("amount"))
        paid_at = parse_rfc3339(row.get("paid_at"), field="paid_at")
        with rt.work(actor) as work:
            status = payouts.confirm(
                work,
                bank_code,
                refund_id,
                txn_id,
                amount,
                paid_at,
                rt.settings.refund_interest_bp,
                source=f"{source}:{number}",
            )
    except Problem as problem:
        outcome = "unknown" if problem.status == 404 else "refused"
        return Line(number, instruction, outcome, problem.code, problem.detail)
    return Line(number, instruction, status)


def _refund_id(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_ID:
        raise Problem(422, "VALIDATION_ERROR", "instruction_id 须为正整数", f"不是指令号:{text}")
    return int(text)


def outcome_counts(lines: list[Line]) -> dict[str, int]:
    found = Counter(line.status for line in lines)
    return {k: found[k] for k in OUTCOMES}
