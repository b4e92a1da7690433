"""Money: Decimal yuan at the edges, integer fen inside (see DESIGN.md).

Amounts travel as decimal strings with exactly two decimals and are stored as
integer fen, so nothing is ever rounded or carried as a float.
"""

from __future__ import annotations

import re
from decimal import Decimal

from wangua.kit.problems import Problem

FEN_PER_YUAN = 100
MAX_FEN = 10**17  # a hundred trillion yuan: far above any lot, far below BIGINT
AMOUNT = re.compile(r"[0-9]{1,16}(\.[0-9]{1,2})?")


def parse_amount(value: object, *, field: str = "amount") -> int:
    """A positive amount of yuan with at most two decimals, as integer fen.

    Accepts plain decimal digits ("120000000.00", "5", "5.5") or an integer.
    Floats, exponents, signs and spaces are refused: the value must be exactly
    what the sender meant.
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _invalid(field, value)
    text = str(value)
    if not AMOUNT.fullmatch(text):
        raise _invalid(field, value)
    fen = int(Decimal(text) * FEN_PER_YUAN)
    if not 0 < fen <= MAX_FEN:
        raise _invalid(field, value)
    return fen


def parse_share(value: object, *, field: str = "share") -> int:
    """A contribution share in percent with at most two decimals, as hundredths of a percent."""
    return parse_amount(value, field=field)


def format_fen(fen: int) -> str:
    """Integer fen as the API's yuan string with exactly two decimals."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{whole}.{cents:02d}"


def fen_to_decimal(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2)


def _invalid(field: str, value: object) -> Problem:
    return Problem(
        422,
        "INVALID_AMOUNT",
        "金额格式不正确",
        f'{field} 必须是大于零、最多两位小数的金额字符串(如 "120000000.00"),收到:{value!r}',
    )
