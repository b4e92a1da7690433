"""Amounts in Chinese capital numerals (大写), as the quote confirmation and the
printed documents state them (R-20: a quote is irrevocable, so it is confirmed in words)."""

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wangua.kit.money import DIGITS, capital_numerals


@pytest.mark.parametrize(
    ("fen", "words"),
    [
        (0, "零元整"),
        (5, "伍分"),
        (50, "伍角"),
        (100, "壹元整"),
        (105, "壹元零伍分"),
        (1000, "壹拾元整"),
        (100_500, "壹仟零伍元整"),
        (168_032, "壹仟陆佰捌拾元叁角贰分"),
        (10_700_053, "壹拾万柒仟元伍角叁分"),
        (12_000_000_000, "壹亿贰仟万元整"),
        (10_001_000_000, "壹亿零壹万元整"),
        (10_000_000_100, "壹亿零壹元整"),
        (46_800_000_000, "肆亿陆仟捌佰万元整"),
        (100_000_000_000_000, "壹万亿元整"),
    ],
)
def test_capital_numerals_as_banks_write_them(fen: int, words: str) -> None:
    assert capital_numerals(fen) == words


def _read_back(words: str) -> int:
    """An independent reader of capital numerals, to check the writer round-trips."""
    value = {"壹": 1, "贰": 2, "叁": 3, "肆": 4, "伍": 5, "陆": 6, "柒": 7, "捌": 8, "玖": 9}
    places = {"拾": 10, "佰": 100, "仟": 1000}
    total = section = number = 0
    yuan, _, cents = words.partition("元")
    if not cents and "元" not in words:
        yuan, cents = "", words
    for char in yuan:
        if char in value:
            number = value[char]
        elif char in places:
            section += number * places[char]
            number = 0
        elif char == "万":
            section += number
            total += section * 10_000
            section = number = 0
        elif char == "亿":
            total = (total + section + number) * 100_000_000
            section = number = 0
    total += section + number
    fen = total * 100
    for digit, unit in pairwise(cents):
        if digit in value and unit == "角":
            fen += value[digit] * 10
        if digit in value and unit == "分":
            fen += value[digit]
    return fen


@given(st.integers(min_value=1, max_value=10**14))
def test_capital_numerals_read_back_to_the_amount(fen: int) -> None:
    words = capital_numerals(fen)
    assert set(words) <= set(DIGITS) | set("拾佰仟万亿元角分整")
    assert "零零" not in words
    assert _read_back(words) == fen
