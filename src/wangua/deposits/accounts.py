"""Virtual sub-accounts (虚拟子账户): one random account number per application,
unique and never reused; asking again returns the same one (R-16a)."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wangua.applications.models import Application
from wangua.audit.service import lot_stream, record
from wangua.config import Settings
from wangua.deposits.banks import bank_for_grantor, banks, digits
from wangua.deposits.models import DepositAccount
from wangua.kit.money import format_fen
from wangua.kit.problems import Problem, not_found
from wangua.kit.times import rfc3339
from wangua.lots.models import Lot
from wangua.lots.repository import lock_lot
from wangua.runtime import Work

SUFFIX_DIGITS = 8


def issue(work: Work, settings: Settings, application_id: int) -> tuple[DepositAccount, bool]:
    """The application's sub-account; (account, newly issued)."""
    application = work.session.get(Application, application_id)
    if application is None or application.user_id != work.actor.user_id:
        raise not_found("竞买申请")
    lot = lock_lot(work, application.lot_id)
    existing = account_of(work.session, application.id)
    if existing is not None:
        return existing, False
    if lot.status not in ("announced", "listing") or work.now() > lot.deposit_deadline:
        raise Problem(409, "DEPOSIT_CLOSED", "保证金交纳已截止")
    bank = bank_for_grantor(settings, lot.grantor)
    prefix = digits(bank.account_no)
    number = f"{prefix}{secrets.randbelow(10**SUFFIX_DIGITS):0{SUFFIX_DIGITS}d}"
    while work.session.scalar(select(DepositAccount.id).where(DepositAccount.account_no == number)):
        number = f"{prefix}{secrets.randbelow(10**SUFFIX_DIGITS):0{SUFFIX_DIGITS}d}"
    account = DepositAccount(
        application_id=application.id,
        bank_code=bank.code,
        account_no=number,
        issued_at=work.now(),
    )
    work.session.add(account)
    work.session.flush()
    record(
        work,
        "deposit_account.issued",
        stream=lot_stream(lot.id),
        object_type="application",
        object_id=application.id,
        data={"bank": bank.code, "account_no": number},
    )
    return account, True


def account_of(session: Session, application_id: int) -> DepositAccount | None:
    return session.scalars(
        select(DepositAccount).where(DepositAccount.application_id == application_id)
    ).one_or_none()


def application_by_account(session: Session, bank_code: str, account_no: str) -> int | None:
    """R-16a: the application a credit to a sub-account of this bank belongs to."""
    if not account_no:
        return None
    return session.scalar(
        select(DepositAccount.application_id).where(
            DepositAccount.account_no == digits(account_no),
            DepositAccount.bank_code == bank_code,
        )
    )


def instructions(
    session: Session, settings: Settings, application: Application, lot: Lot
) -> dict[str, Any]:
    """R-16a: where the application's deposit goes: the bank and master account of the
    lot's grantor, or the application's own sub-account (and its bank) once issued."""
    account = account_of(session, application.id)
    if account is None:
        bank, sub_account = bank_for_grantor(settings, lot.grantor), None
    else:
        bank, sub_account = banks(settings)[account.bank_code], account.account_no
    return {
        "amount": format_fen(lot.deposit_fen),
        "bank": bank.name,
        "bank_code": bank.code,
        "account_name": bank.account_name,
        "account_no": sub_account or bank.account_no,
        "master_account_no": bank.account_no,
        "sub_account_no": sub_account,
        "deadline": rfc3339(lot.deposit_deadline),
        "memo": application.order_no,
    }


def account_view(
    settings: Settings, account: DepositAccount, application: Application, lot: Lot
) -> dict[str, Any]:
    bank = banks(settings)[account.bank_code]
    return {
        "application_id": application.id,
        "order_no": application.order_no,
        "bank": bank.name,
        "bank_code": bank.code,
        "account_name": bank.account_name,
        "account_no": account.account_no,
        "master_account_no": bank.account_no,
        "amount": format_fen(lot.deposit_fen),
        "deadline": rfc3339(lot.deposit_deadline),
        "memo": application.order_no,
        "issued_at": rfc3339(account.issued_at),
    }
