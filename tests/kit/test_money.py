"""Money is exact: integer fen inside, two-decimal yuan strings outside."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wangua.kit.money import MAX_FEN, format_fen, parse_amount
from wangua.kit.problems import Problem


@pytest.mark.parametrize(
    ("text", "fen"),
    [("120000000.00", 12_000_000_000), ("5", 500), ("5.5", 550), ("0.01", 1), (7, 700)],
)
def test_amounts_parse_to_fen(text: object, fen: int) -> None:
    assert parse_amount(text) == fen


@pytest.mark.parametrize(
    "text",
    [
        "0",
        "0.00",
        "-1",
        "1.234",
        "1e3",
        "NaN",
        "Infinity",
        " 5",
        "+5",
        "1,000",
        "",
        "５",
        1.5,
        True,
        None,
        [],
        "99999999999999999999",
    ],
)
def test_bad_amounts_are_refused_with_a_stable_code(text: object) -> None:
    with pytest.raises(Problem) as refused:
        parse_amount(text)
    assert refused.value.code == "INVALID_AMOUNT" and refused.value.status == 422


@given(st.integers(min_value=1, max_value=MAX_FEN))
def test_format_then_parse_is_the_identity(fen: int) -> None:
    text = format_fen(fen)
    assert text.count(".") == 1 and len(text.split(".")[1]) == 2
    assert parse_amount(text) == fen
