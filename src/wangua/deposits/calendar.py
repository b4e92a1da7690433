"""Working days with the administrator-loaded schedules (R-28b, R-30b).

The chinese-calendar package decides the years it knows; an administrator loads the
State Council's schedule for a later year; until then the system counts weekdays
and warns (`assumed`).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wangua.audit.service import record
from wangua.deposits.models import WorkdaySchedule
from wangua.kit import workdays
from wangua.kit.problems import Problem
from wangua.kit.times import SHANGHAI, rfc3339
from wangua.runtime import Work

log = logging.getLogger(__name__)
ASSUMED_WARNING = "该年度国家法定节假日安排尚未导入,暂按周一至周五计算工作日"


def schedules(session: Session) -> dict[int, workdays.Schedule]:
    rows = session.scalars(select(WorkdaySchedule))
    return {
        row.year: workdays.Schedule(
            frozenset(date.fromisoformat(d) for d in row.holidays),
            frozenset(date.fromisoformat(d) for d in row.workdays),
        )
        for row in rows
    }


def shanghai_date(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def working_days_after(session: Session, start: date, count: int) -> workdays.Counted:
    counted = workdays.add_working_days(start, count, schedules(session))
    if counted.assumed:
        log.warning("working days after %s counted as weekdays: %s", start, ASSUMED_WARNING)
    return counted


def _dates(values: object, field: str, year: int) -> list[str]:
    if not isinstance(values, list):
        raise Problem(422, "VALIDATION_ERROR", "日期清单不正确", f"{field} 须为日期列表")
    out: set[date] = set()
    for value in values:
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            raise Problem(
                422, "VALIDATION_ERROR", "日期格式不正确", f"{field} 中的 {value!r} 不是日期"
            ) from None
        if day.year != year:
            raise Problem(
                422, "VALIDATION_ERROR", "日期不属于该年度", f"{field} 中的 {day} 不在 {year} 年"
            )
        out.add(day)
    return sorted(d.isoformat() for d in out)


def load_schedule(
    work: Work, year: int, holidays: object, working: object, source: str
) -> WorkdaySchedule:
    """An administrator loads the official schedule of a year the package does not know."""
    if workdays.package_knows(year):
        raise Problem(
            409, "YEAR_ALREADY_KNOWN", "该年度工作日安排已内置", f"{year} 年已由官方日历确定"
        )
    if not source.strip():
        raise Problem(422, "SOURCE_REQUIRED", "须注明依据的官方通知")
    off = _dates(holidays, "holidays", year)
    on = _dates(working, "workdays", year)
    if set(off) & set(on):
        raise Problem(422, "VALIDATION_ERROR", "同一天不能既是假日又是调休工作日")
    now = work.now()
    row = work.session.get(WorkdaySchedule, year)
    if row is None:
        row = WorkdaySchedule(year=year, loaded_at=now)
        work.session.add(row)
    row.holidays, row.workdays, row.source = off, on, source.strip()
    row.loaded_by, row.loaded_at = work.actor.user_id, now
    record(
        work,
        "workdays.loaded",
        object_type="workday_schedule",
        object_id=year,
        data={"holidays": off, "workdays": on, "source": row.source},
    )
    return row


def year_view(session: Session, year: int) -> dict[str, Any]:
    row = session.get(WorkdaySchedule, year)
    if workdays.package_knows(year):
        source = "official-calendar"
    elif row is not None:
        source = "loaded"
    else:
        source = "assumed-weekdays"
    return {
        "year": year,
        "known": source != "assumed-weekdays",
        "source": source,
        "warning": ASSUMED_WARNING if source == "assumed-weekdays" else None,
        "holidays": row.holidays if row and source == "loaded" else None,
        "workdays": row.workdays if row and source == "loaded" else None,
        "loaded_at": rfc3339(row.loaded_at) if row and source == "loaded" else None,
    }
