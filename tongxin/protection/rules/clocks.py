"""Time limits and the deadlines they give, as pure rules: the clocks of mandatory reports and
of referrals count with them.

Limits (each a setting, see ``ClockPolicy``) count in hours (exact), in calendar days, or in
working days (the State Council's calendar, kept by the county as data and passed in as a
``workdays.rules.WorkCalendar``: weekends, public holidays and the Saturdays or Sundays made
working days around them). A period in days does not count the day it starts on and ends at the
end of its last day; when that last day is a rest day, the period ends with the next working day
(the rule of 期间 in 民事诉讼法 art. 85 and 行政诉讼法 art. 83). A deadline that counted a day of a
year the calendar does not know is an estimate (``Due.estimated``), shown as one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo

from tongxin.workdays.rules import WorkCalendar, add_workdays, next_workday

# --- limits and working days -----------------------------------------------------------------


class Unit(StrEnum):
    HOURS = "hours"
    DAYS = "days"
    WORKING_DAYS = "working_days"


_LIMIT = re.compile(r"^\s*(\d+)\s*(h|d|wd)\s*$")
_UNIT_SUFFIX = {"h": Unit.HOURS, "d": Unit.DAYS, "wd": Unit.WORKING_DAYS}


@dataclass(frozen=True)
class Limit:
    """A time limit: ``24 hours``, ``15 days``, ``3 working days``."""

    amount: int
    unit: Unit

    def __post_init__(self) -> None:
        if self.amount < 1:
            raise ValueError(f"a limit must be at least 1: {self.amount}")

    @classmethod
    def parse(cls, text: str) -> Limit:
        """``"24h"``, ``"15d"``, ``"3wd"`` (how a county writes it in its settings)."""
        found = _LIMIT.match(text)
        if found is None:
            raise ValueError(f"not a limit (24h, 15d, 3wd): {text!r}")
        return cls(int(found.group(1)), _UNIT_SUFFIX[found.group(2)])

    def __str__(self) -> str:
        suffix = {v: k for k, v in _UNIT_SUFFIX.items()}[self.unit]
        return f"{self.amount}{suffix}"


@dataclass(frozen=True)
class Due:
    """When a clock runs out, and the years whose holidays the count had to guess (none: the
    deadline is certain)."""

    at: datetime
    guessed_years: tuple[int, ...] = ()

    @property
    def estimated(self) -> bool:
        return bool(self.guessed_years)


def _end_of(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.max, tzinfo=tz)


def due(start: datetime, limit: Limit, tz: tzinfo, calendar: WorkCalendar) -> Due:
    """When a clock started at ``start`` (aware) runs out; it is breached after this instant.
    Days are counted on the local calendar of ``tz``, working days on ``calendar``."""
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    if limit.unit == Unit.HOURS:
        return Due(start + timedelta(hours=limit.amount))
    day = start.astimezone(tz).date()
    if limit.unit == Unit.DAYS:
        counted = next_workday(day + timedelta(days=limit.amount), calendar)
    else:
        counted = add_workdays(day, limit.amount, calendar)
    return Due(_end_of(counted.day, tz), counted.guessed_years)


def deadline(start: datetime, limit: Limit, tz: tzinfo, calendar: WorkCalendar) -> datetime:
    """``due(...).at``: the instant alone, for the columns that store it."""
    return due(start, limit, tz, calendar).at


def guessed_years(
    start: datetime, end: datetime, limit: Limit, tz: tzinfo, calendar: WorkCalendar
) -> tuple[int, ...]:
    """The years a clock from ``start`` to its stored deadline ``end`` may have counted without
    knowing their holidays: none for a limit in hours; else every year, from the day after the
    start to the deadline's day, that the calendar does not know (erring towards "estimated")."""
    if limit.unit == Unit.HOURS:
        return ()
    first = start.astimezone(tz).date() + timedelta(days=1)
    return calendar.missing_years(first, end.astimezone(tz).date())


# --- clocks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockPolicy:
    acceptance: Limit = Limit(24, Unit.HOURS)
    result: Limit = Limit(15, Unit.DAYS)
    # For referrals between departments (issue 5, later): accepted within 3 working days.
    referral_acceptance: Limit = Limit(3, Unit.WORKING_DAYS)
    time_zone: str = "Asia/Shanghai"

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.time_zone)


DEFAULT_POLICY = ClockPolicy()
