"""Working days (工作日) on the official PRC calendar, adjusted working weekends included.

The chinese-calendar package knows the State Council's schedule up to the year it
was released for. For a later year an administrator may load the official schedule
(`Schedule`: the holidays and the adjusted working weekend days). For a year known
to neither we count Monday to Friday and say so (`assumed=True`), so callers can
warn until the year's schedule is known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar


@dataclass(frozen=True)
class Counted:
    day: date
    assumed: bool
    """True when some day counted lies in a year the official schedule is not known for."""


@dataclass(frozen=True)
class Schedule:
    """One year's official schedule as published: days off and adjusted working days."""

    holidays: frozenset[date]
    workdays: frozenset[date]

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5


Schedules = Mapping[int, Schedule]
NO_SCHEDULES: Schedules = {}


def package_knows(year: int) -> bool:
    """Whether the chinese-calendar package carries the official schedule of `year`."""
    try:
        chinese_calendar.is_workday(date(year, 6, 30))
    except NotImplementedError:
        return False
    return True


def year_known(year: int, schedules: Schedules = NO_SCHEDULES) -> bool:
    return package_knows(year) or year in schedules


def is_workday(day: date, schedules: Schedules = NO_SCHEDULES) -> tuple[bool, bool]:
    """(is it a working day, was that assumed from the weekday)."""
    try:
        return bool(chinese_calendar.is_workday(day)), False
    except NotImplementedError:
        loaded = schedules.get(day.year)
        if loaded is not None:
            return loaded.is_workday(day), False
        return day.weekday() < 5, True


def add_working_days(start: date, count: int, schedules: Schedules = NO_SCHEDULES) -> Counted:
    """The `count`-th working day after `start` (R-28b, R-29, R-30b count this way)."""
    day, left, assumed = start, count, False
    while left > 0:
        day += timedelta(days=1)
        working, guessed = is_workday(day, schedules)
        assumed = assumed or guessed
        if working:
            left -= 1
    return Counted(day, assumed)
