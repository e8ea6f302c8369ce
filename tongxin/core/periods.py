"""Report periods: calendar months, quarters and years, numbered, shifted, split and written
as ``2024-06``, ``2024-Q2`` or ``2024``. Pure (no Django): the visits rules and the statistics of
mandatory reports count by them."""

from __future__ import annotations

import calendar
import re
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


# How long a kind of period is, shortest first.
PERIOD_RANK = {PeriodKind.MONTH: 0, PeriodKind.QUARTER: 1, PeriodKind.YEAR: 2}


class Period(NamedTuple):
    """A calendar month, quarter or year; ``end`` is its last day."""

    start: date
    end: date
    kind: PeriodKind

    def __str__(self) -> str:
        return format_period(self)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def period_index(day: date, kind: PeriodKind) -> int:
    """Periods of one kind numbered consecutively (month and quarter counts since year 0)."""
    if kind is PeriodKind.MONTH:
        return day.year * 12 + day.month - 1
    if kind is PeriodKind.QUARTER:
        return day.year * 4 + (day.month - 1) // 3
    return day.year


@lru_cache(maxsize=4096)
def period_at(index: int, kind: PeriodKind) -> Period:
    if kind is PeriodKind.MONTH:
        year, month0 = divmod(index, 12)
        first, last = month0 + 1, month0 + 1
    elif kind is PeriodKind.QUARTER:
        year, quarter0 = divmod(index, 4)
        first, last = 3 * quarter0 + 1, 3 * quarter0 + 3
    else:
        year, first, last = index, 1, 12
    return Period(date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1]), kind)


def period_of(day: date, kind: PeriodKind | str) -> Period:
    """The calendar period of ``kind`` that contains ``day``."""
    kind = PeriodKind(kind)
    return period_at(period_index(day, kind), kind)


def shift_period(period: Period, by: int) -> Period:
    """The period ``by`` periods later (earlier when negative)."""
    return period_at(period_index(period.start, period.kind) + by, period.kind)


def periods_in(period: Period, kind: PeriodKind | str) -> tuple[Period, ...]:
    """The periods of ``kind`` that make up ``period`` (``kind`` no longer than it)."""
    kind = PeriodKind(kind)
    if PERIOD_RANK[kind] > PERIOD_RANK[period.kind]:
        raise ValueError(f"a {period.kind} is not made of {kind}s")
    first, last = period_index(period.start, kind), period_index(period.end, kind)
    return tuple(period_at(i, kind) for i in range(first, last + 1))


_PERIOD_RE = re.compile(r"(\d{4})(?:-(?:(\d{2})|Q([1-4])))?", re.ASCII)  # \d alone takes ２０２４


def parse_period(text: str) -> Period:
    """``2024-06`` (month), ``2024-Q2`` (quarter) or ``2024`` (year); ValueError otherwise."""
    match = _PERIOD_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a period (2024-06, 2024-Q2 or 2024): {text!r}")
    year = int(match[1])
    if year < 1:
        raise ValueError(f"not a period: {text!r}")
    if match[2] is not None:
        month = int(match[2])
        if not 1 <= month <= 12:
            raise ValueError(f"not a month: {text!r}")
        return period_of(date(year, month, 1), PeriodKind.MONTH)
    if match[3] is not None:
        return period_of(date(year, 3 * int(match[3]) - 2, 1), PeriodKind.QUARTER)
    return period_of(date(year, 1, 1), PeriodKind.YEAR)


def format_period(period: Period) -> str:
    year = period.start.year
    if period.kind is PeriodKind.MONTH:
        return f"{year:04d}-{period.start.month:02d}"
    if period.kind is PeriodKind.QUARTER:
        return f"{year:04d}-Q{(period.start.month - 1) // 3 + 1}"
    return f"{year:04d}"
