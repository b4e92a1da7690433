"""Working days follow the official holiday calendar (R-29, R-30b)."""

from __future__ import annotations

from datetime import date

from wangua.kit.workdays import add_working_days, year_known


def test_r30b_five_working_days_across_national_day_2025_count_the_adjusted_saturday() -> None:
    counted = add_working_days(date(2025, 9, 30), 5)
    assert counted.day == date(2025, 10, 14) and not counted.assumed


def test_r30b_five_working_days_across_spring_festival_2025() -> None:
    # 2025-01-28 … 2025-02-04 is the holiday and Sunday 2025-01-26 is worked:
    # 01-26, 01-27, 02-05, 02-06, 02-07
    assert add_working_days(date(2025, 1, 24), 5).day == date(2025, 2, 7)


def test_r29_ten_working_days_plain_weeks() -> None:
    assert add_working_days(date(2025, 3, 3), 10).day == date(2025, 3, 17)


def test_unknown_years_count_weekdays_and_say_so() -> None:
    assert not year_known(2099)
    counted = add_working_days(date(2099, 1, 1), 5)
    assert counted.day == date(2099, 1, 8) and counted.assumed
