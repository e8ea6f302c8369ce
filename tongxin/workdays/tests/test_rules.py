"""Working days as pure functions over the calendar's data: a holiday, a make-up working day,
and a year the calendar does not know (Monday to Friday, flagged as a guess)."""

from __future__ import annotations

from datetime import date

import pytest

from tongxin.workdays.rules import (
    EMPTY,
    CalendarEntry,
    DayKind,
    WorkCalendar,
    add_workdays,
    chinese_calendar_entries,
    chinese_calendar_years,
    next_workday,
)

# National Day 2024 by hand: 1–7 October off, Sunday 29 September and Saturday 12 October worked.
NATIONAL_DAY_2024 = WorkCalendar.of(
    [CalendarEntry(date(2024, 10, d), DayKind.DAY_OFF, "国庆节") for d in range(1, 8)]
    + [
        CalendarEntry(date(2024, 9, 29), DayKind.WORKDAY, "国庆节"),
        CalendarEntry(date(2024, 10, 12), DayKind.WORKDAY, "国庆节"),
    ],
    [2024],
)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2024, 9, 27), True),  # Friday
        (date(2024, 9, 28), False),  # Saturday
        (date(2024, 9, 29), True),  # Sunday, made a working day
        (date(2024, 10, 1), False),  # Tuesday, National Day
        (date(2024, 10, 5), False),  # Saturday inside the holiday
        (date(2024, 10, 8), True),
        (date(2024, 10, 12), True),  # Saturday, made a working day
        (date(2027, 1, 1), True),  # Friday of a year not known: a guess, Monday to Friday
        (date(2027, 1, 2), False),
    ],
)
def test_it_reads_holidays_and_make_up_days(day: date, working: bool) -> None:
    assert NATIONAL_DAY_2024.is_workday(day) is working


def test_it_knows_only_the_years_it_holds() -> None:
    assert NATIONAL_DAY_2024.knows(date(2024, 1, 1))
    assert not NATIONAL_DAY_2024.knows(date(2025, 1, 1))
    assert NATIONAL_DAY_2024.missing_years(date(2023, 12, 1), date(2026, 1, 1)) == (
        2023,
        2025,
        2026,
    )
    assert NATIONAL_DAY_2024.missing_years(date(2024, 1, 1), date(2024, 12, 31)) == ()
    assert EMPTY.missing_years(date(2024, 1, 1), date(2024, 1, 2)) == (2024,)


def test_counting_working_days_skips_the_holiday_and_works_the_make_up_sunday() -> None:
    # Friday 27 September: Sunday 29/9, Monday 30/9, then Tuesday 8/10.
    counted = add_workdays(date(2024, 9, 27), 3, NATIONAL_DAY_2024)
    assert counted.day == date(2024, 10, 8)
    assert not counted.estimated


def test_counting_into_an_unknown_year_is_an_estimate() -> None:
    known_2026 = WorkCalendar.of([], [2026])
    counted = add_workdays(date(2026, 12, 30), 3, known_2026)
    # 31/12, then Friday 1 January 2027 counted as a working day: a guess.
    assert counted.day == date(2027, 1, 4)
    assert counted.guessed_years == (2027,)
    assert counted.estimated
    assert not add_workdays(date(2026, 12, 1), 3, known_2026).estimated


def test_a_period_ending_on_a_rest_day_moves_to_the_next_working_day() -> None:
    assert next_workday(date(2024, 10, 1), NATIONAL_DAY_2024).day == date(2024, 10, 8)
    assert next_workday(date(2024, 10, 8), NATIONAL_DAY_2024).day == date(2024, 10, 8)
    beyond = next_workday(date(2027, 1, 2), NATIONAL_DAY_2024)
    assert (beyond.day, beyond.guessed_years) == (date(2027, 1, 4), (2027,))


def test_chinese_calendar_gives_its_years_with_chinese_names() -> None:
    years = chinese_calendar_years()
    assert years[0] == 2004
    assert 2024 in years
    entries = {e.day: e for e in chinese_calendar_entries([2024])}
    assert entries[date(2024, 10, 1)] == CalendarEntry(date(2024, 10, 1), DayKind.DAY_OFF, "国庆节")
    assert entries[date(2024, 9, 29)].kind == DayKind.WORKDAY
    assert entries[date(2024, 2, 10)].name == "春节"
    assert all(e.day.year == 2024 for e in entries.values())
    # Every make-up working day is a Saturday or a Sunday (the page refuses any other).
    assert all(
        e.day.weekday() >= 5 for e in chinese_calendar_entries(years) if e.kind == DayKind.WORKDAY
    )
