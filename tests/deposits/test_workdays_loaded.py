"""Working days for a year the calendar package does not know: weekdays with a
warning until an administrator loads the official schedule (R-30b).

This module moves the shared simulated clock into that year, so it runs last."""

from __future__ import annotations

from datetime import date, timedelta

from tests.deposits.support import let_lapse, refunds
from tests.harness import Account, Stack
from wangua.kit.workdays import Schedule, add_working_days, package_knows


def _next_unknown_year(after: int) -> int:
    """The next year the package does not know whose 8 October is a Friday or a weekend
    day, so the first weekend day after the holiday falls among the five counted."""
    year = after + 1
    while package_knows(year) or date(year, 10, 8).weekday() < 4:
        year += 1
    return year


def test_r30b_refunds_across_a_loaded_national_day_count_its_adjusted_weekend_day(
    stack: Stack, staff: Account, finance: Account
) -> None:
    year = _next_unknown_year(stack.now().year)
    before = stack.anonymous().get(f"/api/v1/workdays/{year}").json()
    assert before["known"] is False and before["source"] == "assumed-weekdays"
    assert before["warning"]
    holidays = [date(year, 10, d) for d in range(1, 8)]
    adjusted = date(year, 10, 8)  # the first weekend day after the holiday is worked
    while adjusted.weekday() < 5:
        adjusted += timedelta(days=1)
    body = {
        "holidays": [d.isoformat() for d in holidays],
        "workdays": [adjusted.isoformat()],
        "source": f"国务院办公厅关于{year}年部分节假日安排的通知",
    }
    assert staff.http.put(f"/api/v1/admin/workdays/{year}", json=body).status_code == 403
    assert stack.admin is not None
    known = stack.admin.http.put("/api/v1/admin/workdays/2025", json=body)
    assert known.status_code == 409 and known.json()["code"] == "YEAR_ALREADY_KNOWN"
    loaded = stack.admin.http.put(f"/api/v1/admin/workdays/{year}", json=body)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["known"] is True and loaded.json()["source"] == "loaded"

    lot = stack.published_lot(
        staff,
        listing_start=f"{year}-09-15T09:00:00+08:00",
        application_deadline=f"{year}-09-28T17:00:00+08:00",
        deposit_deadline=f"{year}-09-29T17:00:00+08:00",
        listing_end=f"{year}-09-30T10:00:00+08:00",
    )
    application = stack.qualified(stack.bidder(), lot)
    let_lapse(stack, lot)
    [row] = [r for r in refunds(finance, lot) if r["application_id"] == application["id"]]
    schedule = Schedule(frozenset(holidays), frozenset({adjusted}))
    expected = add_working_days(date(year, 9, 30), 5, {year: schedule})
    assert not expected.assumed
    assert adjusted <= expected.day  # the adjusted weekend day is one of the five
    assert row["due_date"] == expected.day.isoformat()
    assert row["due_date"] != add_working_days(date(year, 9, 30), 5).day.isoformat()
    assert row["due_date_assumed"] is False and row["warning"] is None
