"""The plausible dates of grown-ups on a child's file, the birth date inside an ID number, and
the check by kind that forms and serializers call (issue 10)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tongxin.lib import plausible
from tongxin.lib.plausible import DateKind

TODAY = date(2026, 12, 7)


@pytest.mark.parametrize(
    ("birth", "ok"),
    [
        (date(1980, 1, 1), True),
        (date(1906, 12, 7), True),  # 120 years back
        (date(1906, 12, 6), False),
        (date(1800, 1, 1), False),
        (date(1, 1, 1), False),
        (date(2026, 12, 8), False),
    ],
)
def test_a_grown_ups_birth_date_is_within_120_years(birth: date, ok: bool) -> None:
    assert (plausible.person_birth_date_error(birth, today=TODAY) is None) is ok


@pytest.mark.parametrize(("year", "ok"), [(1950, True), (1906, True), (1905, False), (2027, False)])
def test_a_year_of_birth_alone(year: int, ok: bool) -> None:
    assert (plausible.birth_year_error(year, today=TODAY) is None) is ok


def test_a_birth_date_other_than_the_id_numbers_names_both() -> None:
    assert plausible.id_birth_date_error(date(2014, 5, 1), in_number=date(2014, 5, 1)) is None
    message = plausible.id_birth_date_error(date(2014, 5, 1), in_number=date(2011, 3, 2))
    assert message is not None
    assert "2014" in message
    assert "2011" in message


@pytest.mark.parametrize(
    ("kind", "day", "ok"),
    [
        (DateKind.BIRTH, date(2099, 1, 1), False),
        (DateKind.BIRTH, date(1990, 1, 1), False),
        (DateKind.PERSON_BIRTH, date(1990, 1, 1), True),
        (DateKind.EVENT, date(2027, 1, 1), False),
        (DateKind.EVENT, datetime(2026, 12, 7, 9, 0), True),
        (DateKind.PLAN, date(2030, 1, 1), True),
        (DateKind.PLAN, date(9999, 12, 31), False),
    ],
)
def test_the_check_by_kind(kind: DateKind, day: date, ok: bool) -> None:
    assert (plausible.date_error(kind, day, today=TODAY) is None) is ok


def test_an_event_by_kind_is_not_before_the_childs_birth() -> None:
    error = plausible.date_error(
        DateKind.EVENT, date(2014, 1, 1), today=TODAY, not_before=date(2014, 5, 1)
    )
    assert error is not None
    assert "2014" in error
