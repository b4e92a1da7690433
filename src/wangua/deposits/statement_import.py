"""`wangua bank import FILE.csv`: statement lines of a bank without push, matched
exactly like notifications (R-16a).

The file has a header row with the notification's fields: txn_id, account_no,
amount, paid_at, memo, payer_name, payer_account (UTF-8, a BOM is allowed).
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from wangua.deposits.intake import credit_from, refuse, store
from wangua.kit.problems import Problem
from wangua.runtime import Runtime

FIELDS = ("txn_id", "account_no", "amount", "paid_at", "memo", "payer_name", "payer_account")


def import_statement(rt: Runtime, bank_code: str, path: Path) -> tuple[Counter[str], list[str]]:
    """Counts per outcome (`matched`, `unmatched`, `duplicate`, `refused`) and the
    refusals, one line each."""
    counts: Counter[str] = Counter()
    refusals: list[str] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [f for f in FIELDS if f not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing columns {', '.join(missing)}")
        for number, line in enumerate(reader, start=2):
            data = {key: (value or "") for key, value in line.items() if key in FIELDS}
            try:
                credit = credit_from(data)
            except Problem as problem:
                raw = ",".join(data.get(f, "") for f in FIELDS).encode()
                refuse(rt, bank_code, problem, raw, f"{path.name}:{number}")
                counts["refused"] += 1
                refusals.append(f"line {number}: {problem.code} {problem.detail}")
                continue
            counts[store(rt, bank_code, credit)] += 1
    return counts, refusals
