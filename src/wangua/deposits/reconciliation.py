"""Reconciliation (对账): per lot and per bank account, every fen received is in
exactly one bucket, and the buckets add up to what was received (R-16b, R-30, R-44).

Buckets: `pending` (lot not ended), `unmatched`, `due`, `refunded` (paid back),
`held`, `earnest`, `forfeited`. `qualified` (the deposit amounts that qualified
applications, capped at the deposit) and `interest_paid` are shown beside them.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from wangua.applications.models import Application
from wangua.config import Settings
from wangua.deposits import ledger
from wangua.deposits.banks import banks
from wangua.deposits.models import Guarantee, Payment, Refund
from wangua.kit.money import format_fen
from wangua.kit.spreadsheet import safe_row
from wangua.lots.models import Lot

COLUMNS = (
    "received",
    "qualified",
    "pending",
    "unmatched",
    "due",
    "refunded",
    "held",
    "earnest",
    "forfeited",
    "interest_paid",
)


def _figures(
    session: Session, where: ColumnElement[bool], deposits: dict[int, tuple[int, Any]]
) -> dict[str, dict[str, int]]:
    """Per bank code: the buckets of the payments selected by `where`."""
    payments = list(
        session.execute(
            select(Payment, Application.status, Application.lot_id)
            .outerjoin(Application, Application.id == Payment.application_id)
            .where(where)
        )
    )
    ids = [p.id for p, _, _ in payments]
    rows = list(session.scalars(select(Refund).where(Refund.payment_id.in_(ids)))) if ids else []
    by_bank: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
    bank_of = {p.id: p.bank_code for p, _, _ in payments}
    for code in {p.bank_code for p, _, _ in payments}:
        mine = [(p, status, lot_id) for p, status, lot_id in payments if p.bank_code == code]
        facts = [
            ledger.PaymentFact(p.id, p.amount_fen, p.paid_at, p.application_id) for p, _, _ in mine
        ]
        result = ledger.balance(
            facts,
            [(r.payment_id, r.amount_fen, r.status) for r in rows if bank_of[r.payment_id] == code],
        )
        figures = by_bank[code]
        figures["received"] = result.received
        for bucket, amount in result.buckets.items():
            figures["refunded" if bucket == "paid" else bucket] = amount
        figures["interest_paid"] = sum(
            r.interest_fen for r in rows if r.status == "paid" and bank_of[r.payment_id] == code
        )
        figures["qualified"] = _qualified(mine, deposits)
    return by_bank


def _qualified(
    payments: Sequence[tuple[Payment, str | None, int | None]], deposits: dict[int, tuple[int, Any]]
) -> int:
    on_time: dict[int, int] = defaultdict(int)
    lots: dict[int, int] = {}
    for payment, status, lot_id in payments:
        if status != "qualified" or lot_id is None or payment.application_id is None:
            continue
        deposit, deadline = deposits[lot_id]
        if payment.paid_at <= deadline:
            on_time[payment.application_id] += payment.amount_fen
            lots[payment.application_id] = deposit
    return sum(min(amount, lots[app]) for app, amount in on_time.items())


def _report(
    settings: Settings, by_bank: dict[str, dict[str, int]], extra: dict[str, Any]
) -> dict[str, Any]:
    known = banks(settings)
    accounts = []
    totals = dict.fromkeys(COLUMNS, 0)
    for code in sorted(by_bank):
        figures = by_bank[code]
        bank = known.get(code)
        accounted = sum(figures[b] for b in COLUMNS[2:-1])
        accounts.append(
            {
                "bank_code": code,
                "bank": bank.name if bank else code,
                "account_no": bank.account_no if bank else None,
                **{k: format_fen(v) for k, v in figures.items()},
                "balanced": accounted == figures["received"],
            }
        )
        for key in COLUMNS:
            totals[key] += figures[key]
    accounted = sum(totals[b] for b in COLUMNS[2:-1])
    return {
        **extra,
        "accounts": accounts,
        "totals": {k: format_fen(v) for k, v in totals.items()},
        "balanced": accounted == totals["received"],
    }


def lot_report(session: Session, settings: Settings, lot: Lot) -> dict[str, Any]:
    app_ids = select(Application.id).where(Application.lot_id == lot.id)
    by_bank = _figures(
        session,
        Payment.application_id.in_(app_ids),
        {lot.id: (lot.deposit_fen, lot.deposit_deadline)},
    )
    guarantees: dict[str, int] = defaultdict(int)
    for g in session.scalars(select(Guarantee).where(Guarantee.lot_id == lot.id)):
        guarantees[g.status] += g.amount_fen
    return _report(
        settings,
        by_bank,
        {
            "lot_id": lot.id,
            "lot_code": lot.code,
            "deposit": format_fen(lot.deposit_fen),
            "status": lot.status,
            "guarantees": {k: format_fen(v) for k, v in sorted(guarantees.items())},
        },
    )


def grantor_report(
    session: Session, settings: Settings, grantor: str, codes: list[str]
) -> dict[str, Any]:
    """Per bank account: the grantor's lots' money and the unmatched money on its banks."""
    lots = {
        lot.id: (lot.deposit_fen, lot.deposit_deadline)
        for lot in session.scalars(select(Lot).where(Lot.grantor == grantor))
    }
    app_ids = select(Application.id).where(Application.lot_id.in_(list(lots)))
    where = Payment.application_id.in_(app_ids) | (
        Payment.application_id.is_(None) & Payment.bank_code.in_(codes)
    )
    return _report(settings, _figures(session, where, lots), {"grantor": grantor})


def to_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["bank_code", "bank", "account_no", *COLUMNS, "balanced"])
    for account in report["accounts"]:
        writer.writerow(
            safe_row(
                [account["bank_code"], account["bank"], account["account_no"]]
                + [account[c] for c in COLUMNS]
                + ["yes" if account["balanced"] else "NO"]
            )
        )
    writer.writerow(
        ["total", "", ""]
        + [report["totals"][c] for c in COLUMNS]
        + ["yes" if report["balanced"] else "NO"]
    )
    return out.getvalue()
