"""Templates for the pages: Jinja2, Simplified Chinese by default, English on request.

Messages in templates are written in Chinese and wrapped in `_()`; the English
catalogue is `locale/en.po` (read with Babel at start). The locale comes from the
`lang` cookie, set by the language switch; without it, Chinese.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.messages.pofile import read_po
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from wangua.kit.messages import N_
from wangua.kit.money import capital_numerals, format_fen
from wangua.kit.times import as_utc

HERE = Path(__file__).parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
LOCALES = ("zh", "en")


LOT_STATUS = {
    "draft": N_("草稿"),
    "announced": N_("公告期"),
    "listing": N_("挂牌中"),
    "inquiry": N_("询问中"),
    "timed_bidding": N_("限时竞价中"),
    "sold": N_("已成交"),
    "unsold": N_("未成交"),
    "suspended": N_("已中止"),
    "terminated": N_("已终止"),
    "voided": N_("结果已撤销"),
}
APPLICATION_STATUS = {
    "awaiting_deposit": N_("等待保证金到账"),
    "qualified": N_("已取得竞买资格"),
    "rejected": N_("未取得竞买资格"),
}
PHASE = {"listing": N_("挂牌报价"), "timed": N_("限时竞价")}


@cache
def catalogue(locale: str) -> dict[str, str]:
    """msgid → translation for `locale`; Chinese needs none."""
    if locale == "zh":
        return {}
    with (HERE / "locale" / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string}


def locale_of(request: Request) -> str:
    chosen = request.cookies.get("lang", "zh")
    return chosen if chosen in LOCALES else "zh"


def translator(locale: str) -> Any:
    messages = catalogue(locale)

    def gettext(message: str, **values: Any) -> str:
        text = messages.get(message, message)
        return text.format(**values) if values else text

    return gettext


def shanghai(value: datetime | str | None, pattern: str = "%Y-%m-%d %H:%M:%S") -> str:
    """Times are stored in UTC and shown in Asia/Shanghai."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value).astimezone(SHANGHAI).strftime(pattern)


def yuan(value: int | str | None) -> str:
    """Integer fen (or an API amount string) as yuan with thousands separators."""
    if value is None or value == "":
        return "—"
    text = format_fen(value) if isinstance(value, int) else value
    whole, _, cents = text.partition(".")
    return f"{int(whole):,}.{cents or '00'}"


def capital(value: int | str) -> str:
    """The amount in Chinese capital numerals (大写), as on a cheque."""
    if isinstance(value, str):
        whole, _, cents = value.partition(".")
        value = int(whole) * 100 + int((cents + "00")[:2])
    return capital_numerals(value)


def replace_page(params: Any, page: int) -> str:
    """The current query string with another page number, for the pager."""
    kept = [(k, v) for k, v in params.multi_items() if k != "page"]
    return urlencode([*kept, ("page", str(page))])


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(shanghai=shanghai, yuan=yuan, capital=capital, replace_page=replace_page)
    env.globals.update(LOT_STATUS=LOT_STATUS, PHASE=PHASE, APPLICATION_STATUS=APPLICATION_STATUS)
    return env


ENVIRONMENT = _environment()


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    locale = locale_of(request)
    values = {
        "request": request,
        "locale": locale,
        "_": translator(locale),
        "viewer": getattr(request.state, "viewer", None),
        **(context or {}),
    }
    body = ENVIRONMENT.get_template(template).render(values)
    return HTMLResponse(body, status_code=status_code, headers=headers)


def fragment(request: Request, template: str, context: dict[str, Any] | None = None) -> str:
    """A template rendered to a string, for Server-Sent Events."""
    return fragment_in(locale_of(request), template, {"request": request, **(context or {})})


def fragment_in(locale: str, template: str, context: dict[str, Any] | None = None) -> str:
    """A fragment that depends on nobody's request, only the locale: rendered once for
    every watcher who reads that language (pages/board.py)."""
    values = {"locale": locale, "_": translator(locale), **(context or {})}
    return ENVIRONMENT.get_template(template).render(values)
