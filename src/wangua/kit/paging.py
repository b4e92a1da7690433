"""Paging of list endpoints (API.md: `?limit=&cursor=`, the next page in `Link: rel="next"`)
where the cursor is not an ascending id: newest-first lists and lists keyed by a name."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from wangua.kit.problems import Problem

LARGEST_ID = 2**63 - 1


def invalid_cursor() -> Problem:
    return Problem(422, "INVALID_CURSOR", "分页游标不正确")


def before_id(cursor: str | None) -> int | None:
    """A newest-first list's cursor: the id of the last item seen (None: the first page)."""
    return id_cursor(cursor) or None


def id_cursor(cursor: str | None) -> int:
    """An oldest-first list's cursor: the id of the last item seen (0: the first page)."""
    if cursor is None or cursor == "":
        return 0
    value = stored_number(cursor)
    if value is None:
        raise invalid_cursor()
    return value


def stored_number(text: str) -> int | None:
    """The number `text` writes in ASCII digits, if a BIGINT holds it; else None. (Python's
    `isdigit` also takes digits such as "¹" or "３", which `int` or the database refuse.)"""
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= LARGEST_ID else None


def link_after(
    request: Request, response: Response, items: list[Any], limit: int, cursor: str | None
) -> None:
    """`web.link_next` for a cursor of any text (a file name, a fingerprint)."""
    if len(items) == limit and cursor is not None:
        url = request.url.include_query_params(limit=limit, cursor=cursor)
        response.headers["Link"] = f'<{url}>; rel="next"'
