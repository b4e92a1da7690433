"""CSV that finance staff open in a spreadsheet: text from outside never runs as a formula."""

from __future__ import annotations

from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_row(values: Iterable[object]) -> list[object]:
    """Quote text that a spreadsheet would read as a formula (payer names come from banks)."""
    return [f"'{v}" if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v for v in values]
