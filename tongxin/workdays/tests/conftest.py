"""Calendar fixtures: the year after the last one chinese-calendar 1.11 knows (2027), kept out
of the table whatever the installed package knows, so that its deadlines are estimates."""

from __future__ import annotations

from datetime import date

import pytest

from tongxin.workdays.models import CalendarDay, CalendarYear

UNKNOWN_YEAR = 2027
TODAY = date(2026, 12, 7)


@pytest.fixture
def without_2027(db: None) -> int:
    CalendarDay.objects.filter(day__year=UNKNOWN_YEAR).delete()
    CalendarYear.objects.filter(year=UNKNOWN_YEAR).delete()
    return UNKNOWN_YEAR


def enter_new_year_2027(actor: object) -> None:
    """The county enters 2027's New Year holiday (Friday 1 to Sunday 3 January) and confirms
    the year (a shortened arrangement: enough for the clocks that reach it)."""
    from tongxin.workdays import services

    for day in (1, 2, 3):
        services.calendar_day_add(
            actor=actor,  # type: ignore[arg-type]
            day=date(UNKNOWN_YEAR, 1, day),
            kind="day_off",
            name="元旦",
            today=TODAY,
        )
    services.calendar_year_confirm(actor=actor, year=UNKNOWN_YEAR, today=TODAY)  # type: ignore[arg-type]
