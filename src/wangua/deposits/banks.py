"""The banks that hold deposit accounts (R-16a).

The default bank is configured by `WANGUA_BANK_SECRET` and `WANGUA_DEPOSIT_*`; a
county may use its own bank and master account, listed in `WANGUA_BANKS` as JSON:
`[{"code", "name", "secret", "account_no", "account_name", "grantors": [...]}]`.
A notification names its bank with the `X-Bank-Id` header; without it, the default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

from wangua.config import Settings
from wangua.deposits.models import DEFAULT_BANK
from wangua.kit.problems import Problem


@dataclass(frozen=True)
class Bank:
    code: str
    name: str
    secret: str
    account_no: str
    account_name: str
    grantors: frozenset[str]


def digits(account_no: str) -> str:
    """An account number as the bank compares it: spaces and dashes removed."""
    return "".join(ch for ch in account_no if ch not in " -")


def banks(settings: Settings) -> dict[str, Bank]:
    return _parse(
        settings.banks,
        settings.bank_secret,
        settings.deposit_bank,
        settings.deposit_account_no,
        settings.deposit_account_name,
    )


@cache
def _parse(raw: str, secret: str, name: str, account_no: str, account_name: str) -> dict[str, Bank]:
    default = Bank(DEFAULT_BANK, name, secret, account_no, account_name, frozenset())
    found = {DEFAULT_BANK: default}
    try:
        listed = json.loads(raw) if raw.strip() else []
    except ValueError as error:
        raise ValueError(f"WANGUA_BANKS is not valid JSON: {error}") from None
    if not isinstance(listed, list):
        raise ValueError("WANGUA_BANKS must be a JSON list")
    for entry in listed:
        try:
            bank = Bank(
                str(entry["code"]),
                str(entry["name"]),
                str(entry["secret"]),
                str(entry["account_no"]),
                str(entry["account_name"]),
                frozenset(str(g) for g in entry.get("grantors", [])),
            )
        except (KeyError, TypeError, AttributeError):
            raise ValueError(
                "each WANGUA_BANKS entry needs code, name, secret, account_no, account_name"
            ) from None
        if bank.code in found:
            raise ValueError(f"WANGUA_BANKS lists bank code {bank.code!r} twice")
        found[bank.code] = bank
    return found


def bank_by_id(settings: Settings, header: str | None) -> Bank:
    """The bank a request names in `X-Bank-Id`; the default bank when absent."""
    code = (header or "").strip() or DEFAULT_BANK
    bank = banks(settings).get(code)
    if bank is None:
        raise Problem(401, "BAD_SIGNATURE", "银行通知签名无效", f"未配置的银行:{code}")
    return bank


def bank_for_grantor(settings: Settings, grantor: str) -> Bank:
    """The bank whose master account takes deposits for a grantor's lots."""
    for bank in banks(settings).values():
        if grantor in bank.grantors:
            return bank
    return banks(settings)[DEFAULT_BANK]


def serves(settings: Settings, bank_code: str, grantor: str | None) -> bool:
    """Whether a grantor's finance officers may see a bank's account."""
    return grantor is not None and bank_for_grantor(settings, grantor).code == bank_code
