"""Working days in mainland China (工作日), as pure functions over the calendar's data.

The State Council publishes each December the next year's holiday arrangement (国务院办公厅关于
部分节假日安排的通知): the days off of each public holiday, and the Saturdays or Sundays made
working days in exchange (调休上班). Every other day follows the week: Monday to Friday work.

A ``WorkCalendar`` holds those days and the years whose arrangement it holds in full. For a day
of a year it does not know, ``is_workday`` still answers Monday to Friday, but the answer is a
guess: callers ask ``missing_years`` and must show a deadline counted over such a day as an
estimate (预计), never as certain. No ORM here: the county's table (``workdays.models``) and the
``chinese_calendar`` package both come in as plain data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum


class DayKind(StrEnum):
    DAY_OFF = "day_off"  # 放假: a public holiday's day off
    WORKDAY = "workday"  # 调休上班: a weekend day worked in exchange


@dataclass(frozen=True)
class CalendarEntry:
    """One day of a holiday arrangement: its kind and the holiday it belongs to (春节 …)."""

    day: date
    kind: DayKind
    name: str


@dataclass(frozen=True)
class WorkCalendar:
    """The holiday arrangement as data: ``days_off`` (holidays, weekends inside them included),
    ``workdays`` (weekend days made working days) and ``years`` (the years known in full)."""

    days_off: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)
    years: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def of(cls, entries: Iterable[CalendarEntry], years: Iterable[int]) -> WorkCalendar:
        days = list(entries)
        return cls(
            days_off=frozenset(e.day for e in days if e.kind == DayKind.DAY_OFF),
            workdays=frozenset(e.day for e in days if e.kind == DayKind.WORKDAY),
            years=frozenset(years),
        )

    def knows(self, day: date) -> bool:
        return day.year in self.years

    def is_workday(self, day: date) -> bool:
        """A working day; outside the years known, Monday to Friday (a guess)."""
        if day in self.workdays:
            return True
        if day in self.days_off:
            return False
        return day.weekday() < 5

    def missing_years(self, first: date, last: date) -> tuple[int, ...]:
        """The years from ``first`` to ``last`` (both counted) that the calendar does not know."""
        return tuple(y for y in range(first.year, last.year + 1) if y not in self.years)


EMPTY = WorkCalendar()


@dataclass(frozen=True)
class Counted:
    """A day reached by counting, and the years whose holidays the count had to guess."""

    day: date
    guessed_years: tuple[int, ...] = ()

    @property
    def estimated(self) -> bool:
        return bool(self.guessed_years)


def _guessed(days: Iterable[date], calendar: WorkCalendar) -> tuple[int, ...]:
    return tuple(sorted({d.year for d in days if not calendar.knows(d)}))


def add_workdays(start: date, amount: int, calendar: WorkCalendar) -> Counted:
    """The ``amount``-th working day after ``start`` (``start`` itself is not counted)."""
    day, counted, seen = start, 0, []
    while counted < amount:
        day += timedelta(days=1)
        seen.append(day)
        if calendar.is_workday(day):
            counted += 1
    return Counted(day, _guessed(seen, calendar))


def next_workday(day: date, calendar: WorkCalendar) -> Counted:
    """``day`` if it is a working day, else the first working day after it (a period whose last
    day is a rest day ends with the next working day)."""
    seen = [day]
    while not calendar.is_workday(day):
        day += timedelta(days=1)
        seen.append(day)
    return Counted(day, _guessed(seen, calendar))


# --- the chinese_calendar package as a source ----------------------------------------------

# The package names holidays in English; the table keeps the names the notices use.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def chinese_calendar_years() -> tuple[int, ...]:
    """The years the installed ``chinese_calendar`` knows (it raises beyond them)."""
    import chinese_calendar

    return tuple(sorted({d.year for d in chinese_calendar.holidays}))


def chinese_calendar_entries(years: Iterable[int]) -> list[CalendarEntry]:
    """The days of ``years`` as the installed ``chinese_calendar`` has them, by date."""
    import chinese_calendar

    wanted = set(years)
    found = [
        CalendarEntry(day, DayKind.DAY_OFF, HOLIDAY_NAMES.get(name, name))
        for day, name in chinese_calendar.holidays.items()
        if day.year in wanted
    ] + [
        CalendarEntry(day, DayKind.WORKDAY, HOLIDAY_NAMES.get(name, name))
        for day, name in chinese_calendar.workdays.items()
        if day.year in wanted
    ]
    return sorted(found, key=lambda e: e.day)
