"""The working-day calendar: the one read every clock uses, and the county's edits of it (each
in one transaction with its audit entry; docs/decisions/003 and 011).

``work_calendar`` reads the whole table (two small queries: about 35 rows a year) each time it
is called: a request or a job calls it once and passes the ``WorkCalendar`` down to the pure
rules. No process cache: an edit made in one server process would not be seen by the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.audit.services import audit_record
from tongxin.lib.plausible import plan_date_error
from tongxin.workdays import rules
from tongxin.workdays.models import CalendarDay, CalendarYear, DayKind, Source
from tongxin.workdays.signals import workdays_changed

NAME_MAX_LENGTH = CalendarDay._meta.get_field("name").max_length or 40
# The State Council publishes a year's arrangement the autumn before: further ahead is a slip.
YEARS_AHEAD = 2


def work_calendar() -> rules.WorkCalendar:
    """The calendar as the county keeps it, for the pure rules."""
    entries = [
        rules.CalendarEntry(day, rules.DayKind(kind), name)
        for day, kind, name in CalendarDay.objects.values_list("day", "kind", "name")
    ]
    years = CalendarYear.objects.values_list("year", flat=True)
    return rules.WorkCalendar.of(entries, years)


def may_edit_calendar(user: User) -> bool:
    return user.is_authenticated and user.role == Role.COUNTY_ADMIN and not user.is_read_only


def reads_calendar(user: User) -> bool:
    return user.is_authenticated and user.role in (Role.COUNTY_ADMIN, Role.AUDITOR)


def _cn(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _changed(*years: int) -> None:
    workdays_changed.send(sender=CalendarDay, years=tuple(sorted(set(years))))


@transaction.atomic
def calendar_day_add(
    *,
    actor: User,
    day: date,
    kind: str,
    name: str,
    request: HttpRequest | None = None,
    today: date | None = None,
) -> CalendarDay:
    """Add a day off or a make-up working day, with the holiday it belongs to."""
    if not may_edit_calendar(actor):
        raise PermissionDenied
    today = today or timezone.localdate()
    name = " ".join(name.split())
    errors: dict[str, list[str]] = {}
    if problem := plan_date_error(day, today=today, years_ahead=YEARS_AHEAD):
        errors["day"] = [problem]
    elif kind == DayKind.WORKDAY and day.weekday() < 5:
        errors["day"] = [
            _("A make-up working day is a Saturday or a Sunday: %(date)s is a weekday.")
            % {"date": _cn(day)}
        ]
    elif existing := CalendarDay.objects.filter(day=day).first():
        errors["day"] = [
            _("%(date)s is already in the calendar (%(name)s): remove it first.")
            % {"date": _cn(day), "name": existing.name}
        ]
    if kind not in DayKind.values:
        errors["kind"] = [_("Choose a day off or a make-up working day.")]
    if not name:
        errors["name"] = [_("Name the holiday, e.g. 春节.")]
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = [
            _("The holiday's name has at most %(max)d characters.") % {"max": NAME_MAX_LENGTH}
        ]
    if errors:
        raise ValidationError(errors)
    added = CalendarDay.objects.create(
        day=day, kind=kind, name=name, source=Source.COUNTY, created_by=actor
    )
    audit_record(
        actor=actor,
        action="workday.add",
        object_type="calendarday",
        object_code=day.isoformat(),
        division_code=(actor.division_id or "") if actor else "",
        request=request,
        detail={"kind": kind, "name": name},
    )
    _changed(day.year)
    return added


@transaction.atomic
def calendar_day_remove(*, actor: User, day: date, request: HttpRequest | None = None) -> None:
    """Remove a day from the calendar (entered by mistake, or the arrangement changed)."""
    if not may_edit_calendar(actor):
        raise PermissionDenied
    found = CalendarDay.objects.select_for_update().filter(day=day).first()
    if found is None:
        raise ValidationError({"day": [_("%(date)s is not in the calendar.") % {"date": _cn(day)}]})
    found.delete()
    audit_record(
        actor=actor,
        action="workday.remove",
        object_type="calendarday",
        object_code=day.isoformat(),
        division_code=(actor.division_id or "") if actor else "",
        request=request,
        detail={"kind": found.kind, "name": found.name},
    )
    _changed(day.year)


def _check_year(year: int, today: date) -> None:
    if not today.year - 25 <= year <= today.year + YEARS_AHEAD:
        raise ValidationError(
            {"year": [_("%(year)d is not a year the calendar can hold.") % {"year": year}]}
        )


@transaction.atomic
def calendar_year_confirm(
    *, actor: User, year: int, request: HttpRequest | None = None, today: date | None = None
) -> CalendarYear:
    """Say that the table holds the year's whole arrangement: its deadlines become certain."""
    if not may_edit_calendar(actor):
        raise PermissionDenied
    _check_year(year, today or timezone.localdate())
    if CalendarYear.objects.filter(year=year).exists():
        raise ValidationError(
            {"year": [_("The holidays of %(year)d are already confirmed.") % {"year": year}]}
        )
    if not CalendarDay.objects.filter(day__year=year, kind=DayKind.DAY_OFF).exists():
        raise ValidationError(
            {
                "year": [
                    _("Enter the holidays of %(year)d first: it has no day off in the calendar.")
                    % {"year": year}
                ]
            }
        )
    confirmed = CalendarYear.objects.create(year=year, source=Source.COUNTY, confirmed_by=actor)
    audit_record(
        actor=actor,
        action="workday.year_confirm",
        object_type="calendaryear",
        object_code=str(year),
        division_code=(actor.division_id or "") if actor else "",
        request=request,
        detail={},
    )
    _changed(year)
    return confirmed


@transaction.atomic
def calendar_year_reopen(*, actor: User, year: int, request: HttpRequest | None = None) -> None:
    """The year's arrangement is not complete after all: its deadlines are estimates again."""
    if not may_edit_calendar(actor):
        raise PermissionDenied
    deleted, _rows = CalendarYear.objects.filter(year=year).delete()
    if not deleted:
        raise ValidationError(
            {"year": [_("The holidays of %(year)d are not confirmed.") % {"year": year}]}
        )
    audit_record(
        actor=actor,
        action="workday.year_reopen",
        object_type="calendaryear",
        object_code=str(year),
        division_code=(actor.division_id or "") if actor else "",
        request=request,
        detail={},
    )
    _changed(year)


@dataclass(frozen=True)
class Loaded:
    """What ``calendar_load`` did: the years it loaded (with the days added), the years already
    in the table, and the last year the package knows."""

    loaded: dict[int, int] = field(default_factory=dict)
    already: tuple[int, ...] = ()
    package_last_year: int | None = None


@transaction.atomic
def calendar_load(*, years: Iterable[int] | None = None) -> Loaded:
    """Load from the installed ``chinese_calendar`` each year it knows (or each of ``years``)
    that the table does not hold yet. A year already confirmed is left as the county keeps it,
    so a second run changes nothing; in a year not confirmed, a day the county entered is kept
    and the package adds the others."""
    known = rules.chinese_calendar_years()
    wanted = sorted(set(years) & set(known)) if years is not None else list(known)
    present = set(CalendarYear.objects.values_list("year", flat=True))
    to_load = [y for y in wanted if y not in present]
    taken = set(
        CalendarDay.objects.filter(day__year__in=to_load).values_list("day", flat=True)
        if to_load
        else []
    )
    loaded: dict[int, int] = {}
    new_days = []
    for entry in rules.chinese_calendar_entries(to_load):
        loaded.setdefault(entry.day.year, 0)
        if entry.day in taken:
            continue
        loaded[entry.day.year] += 1
        new_days.append(
            CalendarDay(
                day=entry.day, kind=entry.kind, name=entry.name, source=Source.CHINESE_CALENDAR
            )
        )
    CalendarDay.objects.bulk_create(new_days)
    CalendarYear.objects.bulk_create(
        [CalendarYear(year=y, source=Source.CHINESE_CALENDAR) for y in sorted(loaded)]
    )
    if loaded:
        audit_record(
            actor=None,
            action="workday.load",
            object_type="calendaryear",
            object_code="",
            division_code=(None.division_id or "") if None else "",
            request=None,
            detail={"years": sorted(loaded)},
        )
        _changed(*loaded)
    return Loaded(
        loaded=loaded,
        already=tuple(y for y in wanted if y in present),
        package_last_year=known[-1] if known else None,
    )
