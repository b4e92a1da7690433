"""The lot form: what staff type, read into the API's `LotCreate` (R-02, R-03).

Money is typed in yuan (thousands separators allowed) and sent as the API's yuan string;
times are typed as Asia/Shanghai wall time (`datetime-local`) and sent as RFC 3339 in
UTC. What was typed is kept, so a refused form comes back as the user left it, with a
message next to each field that is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from wangua.kit.messages import N_
from wangua.kit.money import format_fen, parse_amount
from wangua.kit.problems import Problem
from wangua.kit.times import rfc3339
from wangua.lots.assets import ASSET_TYPES
from wangua.lots.schemas import LotCreate
from wangua.pages.rendering import SHANGHAI

PLANNING_ROWS = 8
PLANNING_KEYS = ("容积率", "建筑密度", "绿地率", "建筑限高")
"""The indicators almost every lot states, offered as the first rows; they are data (the
lot's own wording), not messages to translate."""

TEXT = ("code", "name", "grantor", "asset_type", "layer", "location", "land_use")
MONEY = ("start_price", "increment", "deposit", "price_cap")
TIMES = ("application_deadline", "deposit_deadline", "listing_start", "listing_end")
INPUT = "%Y-%m-%dT%H:%M"

PYDANTIC_MESSAGES = {
    "missing": N_("此项必填"),
    "string_too_short": N_("此项必填"),
    "string_too_long": N_("内容过长"),
    "greater_than": N_("须大于零"),
    "less_than_equal": N_("超出允许的上限"),
    "decimal_max_places": N_("最多两位小数"),
    "decimal_max_digits": N_("数值过大"),
}
INVALID = N_("格式不正确")
INVALID_MONEY = N_("须为大于零、最多两位小数的金额(元)")
INVALID_TIME = N_("请填写日期和时间")
DUPLICATE_KEY = N_("规划指标名称重复")

PROBLEM_FIELDS = {
    "LOT_CODE_TAKEN": "code",
    "UNKNOWN_GRANTOR": "grantor",
    "FORBIDDEN": "grantor",
    "INVALID_PRICE_CAP": "price_cap",
    "INVALID_SCHEDULE": "listing_end",
    "ANNOUNCEMENT_TOO_LATE": "listing_start",
    "LISTING_TOO_SHORT": "listing_end",
}
"""Which field a service refusal is about, so its message stands next to it."""


@dataclass
class LotForm:
    """The form as typed, and what is wrong with it, field by field."""

    values: dict[str, str]
    planning: list[tuple[str, str]]
    errors: dict[str, str] = field(default_factory=dict)

    def refused(self, problem: Problem) -> None:
        """Put a service's refusal next to the field it is about."""
        name = PROBLEM_FIELDS.get(problem.code)
        if name is not None:
            self.errors.setdefault(name, problem.detail)


def shanghai_input(text: str) -> datetime | None:
    """A `datetime-local` value read as Asia/Shanghai wall time; None if it is not one."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value


def _at(day: datetime, hour: int) -> str:
    return day.astimezone(SHANGHAI).replace(hour=hour, minute=0).strftime(INPUT)


def blank(now: datetime, grantor: str | None) -> LotForm:
    """A new form: the actor's grantor and a schedule that meets R-09a and R-09b."""
    start = now + timedelta(days=21)
    end = start + timedelta(days=10)
    values = {
        "grantor": grantor or "",
        "asset_type": "state_construction_land",
        "layer": "surface",
        "term_years": "70",
        "listing_start": _at(start, 9),
        "listing_end": _at(end, 15),
        "application_deadline": _at(end - timedelta(days=2), 17),
        "deposit_deadline": _at(end - timedelta(days=2), 17),
    }
    keys = [*PLANNING_KEYS, *[""] * (PLANNING_ROWS - len(PLANNING_KEYS))]
    return LotForm(values, [(key, "") for key in keys])


def read(form: Any) -> tuple[LotCreate | None, LotForm]:
    """The API body the form stands for, or None with the reasons next to the fields."""
    names = (*TEXT, *MONEY, *TIMES, "area_m2", "term_years")
    values = {name: str(form.get(name, "")).strip() for name in names}
    values["has_reserve"] = "yes" if form.get("has_reserve") == "yes" else ""
    rows = [
        (str(form.get(f"planning_key_{i}", "")).strip(), str(form.get(f"planning_value_{i}", "")))
        for i in range(PLANNING_ROWS)
    ]
    typed = LotForm(values, rows)
    body: dict[str, Any] = {name: values[name] for name in (*TEXT, "area_m2", "term_years")}
    body["area_m2"] = values["area_m2"].replace(",", "")
    body["has_reserve"] = values["has_reserve"] == "yes"
    for name in MONEY:
        text = values[name].replace(",", "")
        if name == "price_cap" and not text:
            body[name] = None
            continue
        try:
            body[name] = format_fen(parse_amount(text, field=name))
        except Problem:
            typed.errors[name] = INVALID_MONEY
    for name in TIMES:
        moment = shanghai_input(values[name])
        if moment is None:
            typed.errors[name] = INVALID_TIME
        body[name] = rfc3339(moment)
    body["planning"] = _planning(rows, typed)
    body["details"] = _details(form, values["asset_type"], typed)
    try:
        lot = LotCreate.model_validate(body)
    except ValidationError as invalid:
        for error in invalid.errors():
            name = str(error["loc"][0]) if error["loc"] else "code"
            typed.errors.setdefault(name, PYDANTIC_MESSAGES.get(error["type"], INVALID))
        return None, typed
    return (None if typed.errors else lot), typed


def _planning(rows: list[tuple[str, str]], typed: LotForm) -> dict[str, str]:
    """Planning indicators (规划指标) as key/value rows; a row without a value is unused."""
    planning: dict[str, str] = {}
    for key, value in rows:
        if not key or not value.strip():
            continue
        if key in planning:
            typed.errors["planning"] = DUPLICATE_KEY
        planning[key] = value.strip()
    return planning


def _details(form: Any, asset_type: str, typed: LotForm) -> dict[str, str]:
    """The fields the chosen asset type needs (Art. 46); those typed for other types are
    kept in the form but not sent."""
    details = {}
    for code, kind in ASSET_TYPES.items():
        for key, _label in kind.required_details:
            value = str(form.get(f"details_{key}", "")).strip()
            typed.values[f"details_{key}"] = value
            if code == asset_type and value:
                details[key] = value
    return details
