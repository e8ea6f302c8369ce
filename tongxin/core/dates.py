"""Pure date arithmetic the rules share: calendar months, birthdays, dates written in Chinese."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(day: date, months: int) -> date:
    """``day`` plus calendar months; a day the target month lacks becomes its last day."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    if day.day <= 28:
        return date(year, month, day.day)
    last = _DAYS_IN_MONTH[month0]
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        last = 29
    return date(year, month, min(day.day, last))


def birthday(birth_date: date, age: int) -> date:
    """The day the child turns ``age``: 1 March in a common year for a child born on 29 Feb."""
    try:
        return birth_date.replace(year=birth_date.year + age)
    except ValueError:
        return date(birth_date.year + age, 3, 1)


@lru_cache(maxsize=65536)  # a county's children share a few thousand birth and departure dates
def cn_date(day: date) -> str:
    """``2024年1月10日``."""
    return f"{day.year}年{day.month}月{day.day}日"
