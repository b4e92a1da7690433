"""Working days (工作日) on the official PRC calendar, adjusted working weekends included.

The chinese-calendar package knows the State Council's schedule up to the year it
was released for. For a later year we count Monday to Friday and say so
(`assumed=True`), so callers can warn until the year's schedule is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar


@dataclass(frozen=True)
class Counted:
    day: date
    assumed: bool
    """True when some day counted lies in a year the official schedule is not known for."""


def year_known(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 30))
    except NotImplementedError:
        return False
    return True


def is_workday(day: date) -> tuple[bool, bool]:
    """(is it a working day, was that assumed from the weekday)."""
    try:
        return bool(chinese_calendar.is_workday(day)), False
    except NotImplementedError:
        return day.weekday() < 5, True


def add_working_days(start: date, count: int) -> Counted:
    """The `count`-th working day after `start` (R-28b, R-29, R-30b count this way)."""
    day, left, assumed = start, count, False
    while left > 0:
        day += timedelta(days=1)
        working, guessed = is_workday(day)
        assumed = assumed or guessed
        if working:
            left -= 1
    return Counted(day, assumed)
