"""The county's working-day calendar as data: loaded from chinese-calendar by the migration and
by ``load_workdays`` (idempotent), read in two queries, edited by county officers only, each
edit audited and refused with a message naming the field when it cannot be."""

from __future__ import annotations

from datetime import date
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from tongxin.audit.models import AuditEvent
from tongxin.testing import Actors
from tongxin.workdays import services
from tongxin.workdays.models import CalendarDay, CalendarYear
from tongxin.workdays.tests.conftest import TODAY, UNKNOWN_YEAR, enter_new_year_2027


def test_the_migration_loads_every_year_chinese_calendar_knows(db: None) -> None:
    calendar = services.work_calendar()
    assert set(range(2004, 2027)) <= calendar.years
    assert not calendar.is_workday(date(2024, 10, 1))
    assert calendar.is_workday(date(2024, 9, 29))  # Sunday, made a working day
    assert CalendarDay.objects.get(day=date(2024, 10, 1)).name == "国庆节"


def test_the_calendar_is_read_in_two_queries(db: None, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(2):
        calendar = services.work_calendar()
    assert len(calendar.days_off) > 500


def test_a_county_officer_enters_and_confirms_a_year(actors: Actors, without_2027: int) -> None:
    assert UNKNOWN_YEAR not in services.work_calendar().years
    enter_new_year_2027(actors.county_admin)
    calendar = services.work_calendar()
    assert UNKNOWN_YEAR in calendar.years
    assert not calendar.is_workday(date(2027, 1, 1))
    actions = list(
        AuditEvent.objects.filter(actor=actors.county_admin, action__startswith="workday.")
        .order_by("pk")
        .values_list("action", "object_code")
    )
    assert actions == [
        ("workday.add", "2027-01-01"),
        ("workday.add", "2027-01-02"),
        ("workday.add", "2027-01-03"),
        ("workday.year_confirm", "2027"),
    ]
    services.calendar_day_remove(actor=actors.county_admin, day=date(2027, 1, 3))
    assert services.work_calendar().is_workday(date(2027, 1, 3)) is False  # a Sunday still
    assert AuditEvent.objects.filter(action="workday.remove", object_code="2027-01-03").exists()
    services.calendar_year_reopen(actor=actors.county_admin, year=UNKNOWN_YEAR)
    assert UNKNOWN_YEAR not in services.work_calendar().years


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"day": date(2027, 1, 4), "kind": "workday"}, "day"),  # a Monday cannot be made up
        ({"day": date(2024, 10, 1)}, "day"),  # already there
        ({"day": date(1990, 1, 1)}, "day"),  # not plausible
        ({"day": date(2031, 1, 1)}, "day"),  # far ahead: the notice is not out
        ({"kind": "holiday"}, "kind"),
        ({"name": "  "}, "name"),
        ({"name": "节" * 41}, "name"),
    ],
)
def test_a_day_that_cannot_be_added_is_refused_naming_the_field(
    actors: Actors, without_2027: int, given: dict[str, Any], field: str
) -> None:
    values: dict[str, Any] = {
        "day": date(2027, 2, 6),
        "kind": "day_off",
        "name": "春节",
        **given,
    }
    with pytest.raises(ValidationError) as refused:
        services.calendar_day_add(actor=actors.county_admin, today=TODAY, **values)
    assert field in refused.value.message_dict
    assert not CalendarDay.objects.filter(day__year=UNKNOWN_YEAR).exists()


def test_a_year_without_holidays_cannot_be_confirmed(actors: Actors, without_2027: int) -> None:
    with pytest.raises(ValidationError) as refused:
        services.calendar_year_confirm(actor=actors.county_admin, year=UNKNOWN_YEAR, today=TODAY)
    assert "year" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.calendar_year_confirm(actor=actors.county_admin, year=2024, today=TODAY)
    with pytest.raises(ValidationError):
        services.calendar_day_remove(actor=actors.county_admin, day=date(2027, 5, 5))


@pytest.mark.parametrize(
    "actor", ["auditor", "village_director", "department_officer", "system_admin"]
)
def test_only_a_county_officer_edits_the_calendar(
    actors: Actors, without_2027: int, actor: str
) -> None:
    user = getattr(actors, actor)
    with pytest.raises(PermissionDenied):
        services.calendar_day_add(
            actor=user, day=date(2027, 1, 1), kind="day_off", name="元旦", today=TODAY
        )
    with pytest.raises(PermissionDenied):
        services.calendar_year_confirm(actor=user, year=2026, today=TODAY)
    with pytest.raises(PermissionDenied):
        services.calendar_day_remove(actor=user, day=date(2024, 10, 1))


def test_load_workdays_loads_a_missing_year_once_and_keeps_the_countys_edits(
    actors: Actors,
) -> None:
    # 2025 as if the installation predated it; the county had entered one day by hand.
    CalendarYear.objects.filter(year=2025).delete()
    CalendarDay.objects.filter(day__year=2025).delete()
    CalendarDay.objects.create(day=date(2025, 1, 1), kind="day_off", name="元旦（县录入）")
    # 2024 confirmed, with a day the county removed: a reload must not bring it back.
    CalendarDay.objects.filter(day=date(2024, 10, 7)).delete()
    out = StringIO()
    call_command("load_workdays", stdout=out)
    assert "2025" in out.getvalue()
    assert CalendarYear.objects.filter(year=2025).exists()
    assert CalendarDay.objects.get(day=date(2025, 1, 1)).name == "元旦（县录入）"
    assert CalendarDay.objects.filter(day__year=2025).count() == 28 + 5  # days off, make-up days
    assert not CalendarDay.objects.filter(day=date(2024, 10, 7)).exists()
    assert AuditEvent.objects.filter(action="workday.load").count() == 1
    before = CalendarDay.objects.count()
    again = StringIO()
    call_command("load_workdays", stdout=again)
    assert CalendarDay.objects.count() == before
    assert AuditEvent.objects.filter(action="workday.load").count() == 1
    assert "2026" in again.getvalue()  # the last year the package knows, and what to do next
