"""Capital numerals (大写金额) for printed prices (R-28a): exact, and read back to the fen."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wangua.kit.money import MAX_FEN, capital_yuan

DIGITS = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
PLACES = {"拾": 10, "佰": 100, "仟": 1000}


@pytest.mark.parametrize(
    ("fen", "words"),
    [
        (12_200_000_000, "壹亿贰仟贰佰万元整"),
        (100_500, "壹仟零伍元整"),
        (1_005_000, "壹万零伍拾元整"),
        (10_700_000, "壹拾万柒仟元整"),
        (10_001_000_000, "壹亿零壹万元整"),
        (1_000_000_100, "壹仟万零壹元整"),
        (1_000, "壹拾元整"),
        (1_005, "壹拾元零伍分"),
        (150, "壹元伍角整"),
        (155, "壹元伍角伍分"),
        (55, "伍角伍分"),
        (5, "伍分"),
        (0, "零元整"),
        (12_345_678_901_234, "壹仟贰佰叁拾肆亿伍仟陆佰柒拾捌万玖仟零壹拾贰元叁角肆分"),
    ],
)
def test_r28a_capital_numerals_of_known_amounts(fen: int, words: str) -> None:
    assert capital_yuan(fen) == words


def test_r28a_a_negative_amount_has_no_capital_form() -> None:
    with pytest.raises(ValueError, match="negative"):
        capital_yuan(-1)


def read_back(words: str) -> int:
    """The amount in fen that capital numerals state (a reader independent of the writer)."""
    yuan_text, _, small = words.partition("元") if "元" in words else ("", "", words)
    fen = _integer(yuan_text) * 100
    small = small.removesuffix("整").lstrip("零")
    if "角" in small:
        jiao, _, small = small.partition("角")
        fen += DIGITS[jiao] * 10
    if small:
        fen += DIGITS[small.removesuffix("分")]
    return fen


def _integer(text: str) -> int:
    if "亿" in text:
        high, _, low = text.rpartition("亿")
        return _integer(high) * 10**8 + _integer(low)
    if "万" in text:
        high, _, low = text.rpartition("万")
        return _integer(high) * 10**4 + _integer(low)
    total, digit = 0, 0
    for char in text:
        if char in DIGITS:
            digit = DIGITS[char]
        else:
            total, digit = total + digit * PLACES[char], 0
    return total + digit


@given(st.integers(min_value=0, max_value=MAX_FEN))
def test_r28a_capital_numerals_state_the_amount_to_the_fen(fen: int) -> None:
    words = capital_yuan(fen)
    assert read_back(words) == fen
    assert "零零" not in words
    assert words.endswith(("整", "分"))
