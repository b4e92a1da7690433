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


DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("", "拾", "佰", "仟")
MYRIADS = ("", "万", "亿", "万亿")


def _four_digits(group: int) -> str:
    text, zero = "", False
    for place in range(3, -1, -1):
        digit = group // 10**place % 10
        if digit == 0:
            zero = bool(text)
            continue
        if zero:
            text += "零"
            zero = False
        text += DIGITS[digit] + PLACES[place]
    return text


def capital_numerals(fen: int) -> str:
    """An amount in Chinese capital numerals (大写) as banks write them: 壹亿贰仟万元整,
    壹仟零伍元叁角, 壹元零伍分. "整" follows 元 only; no amount is negative."""
    if fen < 0:
        raise ValueError("amounts written in capitals are never negative")
    yuan, cents = divmod(fen, FEN_PER_YUAN)
    groups = [yuan // 10 ** (4 * i) % 10**4 for i in range(len(MYRIADS))]
    text, zero = "", False
    for index in range(len(MYRIADS) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            zero = bool(text)
            continue
        if text and (zero or group < 1000):
            text += "零"
        text += _four_digits(group) + MYRIADS[index]
        zero = False
    text = f"{text}元" if text else ""
    if cents == 0:
        return (text or "零元") + "整"
    jiao, fen_digit = divmod(cents, 10)
    if jiao:
        text += DIGITS[jiao] + "角"
    elif text:
        text += "零"
    if fen_digit:
        text += DIGITS[fen_digit] + "分"
    return text


def _invalid(field: str, value: object) -> Problem:
    return Problem(
        422,
        "INVALID_AMOUNT",
        "金额格式不正确",
        f'{field} 必须是大于零、最多两位小数的金额字符串(如 "120000000.00"),收到:{value!r}',
    )
