"""Marking messages for the pages' catalogue (scripts/messages)."""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a message for the catalogue; it is translated where it is shown. A problem's
    title (`Problem(status, code, title, …)`) is collected without a mark."""
    return message
