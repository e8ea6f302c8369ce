"""The working-day calendar page (工作日历), ``/settings/workdays/?year=2027``: a year's days off
and make-up working days, whether the year is confirmed complete, and for county officers the
forms that add or remove a day and confirm or reopen the year (each audited). The auditor reads
it; everyone else gets 404, and a post from the auditor 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from tongxin.core.http import signed_in_user as _user
from tongxin.core.http import staff_view
from tongxin.workdays import services
from tongxin.workdays.models import CalendarDay, CalendarYear, DayKind


class DayForm(forms.Form):
    # The browser's date picker (an ISO value): the foundation does not import the registry's.
    day = forms.DateField(
        label=gettext_lazy("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind of day"), choices=DayKind.choices, widget=forms.RadioSelect
    )
    name = forms.CharField(
        label=gettext_lazy("Holiday"),
        max_length=services.NAME_MAX_LENGTH,
        help_text=gettext_lazy("e.g. 春节; a make-up working day takes its holiday's name"),
    )


@dataclass(frozen=True)
class YearLink:
    year: int
    confirmed: bool
    current: bool


def _year(request: HttpRequest, today: date) -> tuple[int, str]:
    """The year asked for, and a message when it could not be read (then this year)."""
    raw = request.GET.get("year", request.POST.get("year", ""))
    if not raw:
        return today.year, ""
    text = raw.strip()
    if text.isascii() and text.isdigit() and today.year - 25 <= int(text) <= today.year + 2:
        return int(text), ""
    return today.year, _("The year %(year)s cannot be shown: give a year such as %(now)d.") % {
        "year": raw[:10],
        "now": today.year,
    }


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


def _post(request: HttpRequest, year: int) -> tuple[DayForm | None, bool]:
    """Do what the post asks; (the add form when refused, whether it was refused)."""
    user = _user(request)
    action = request.POST.get("action", "")
    try:
        if action == "add":
            form = DayForm(request.POST)
            if not form.is_valid():
                return form, True
            try:
                services.calendar_day_add(actor=user, request=request, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
                return form, True
            messages.success(request, _("The day was added."))
        elif action == "remove":
            day = _day(request.POST.get("day", ""))
            if day is None:
                raise ValidationError({"day": [_("Choose a day of the list.")]})
            services.calendar_day_remove(actor=user, day=day, request=request)
            messages.success(request, _("The day was removed."))
        elif action == "confirm":
            services.calendar_year_confirm(actor=user, year=year, request=request)
            messages.success(request, _("The holidays of %(year)d are confirmed.") % {"year": year})
        elif action == "reopen":
            services.calendar_year_reopen(actor=user, year=year, request=request)
            messages.success(
                request, _("The holidays of %(year)d are marked incomplete.") % {"year": year}
            )
        else:
            raise ValidationError({"action": [_("Not an action of this page.")]})
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return None, True
    return None, False


@staff_view(allow=services.reads_calendar)
@require_http_methods(["GET", "POST"])
def workdays(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    may_edit = services.may_edit_calendar(user)
    if request.method == "POST" and not may_edit:
        raise PermissionDenied
    today = timezone.localdate()
    year, unreadable = _year(request, today)
    status = 400 if unreadable else 200
    form: DayForm | None = None
    if request.method == "POST" and not unreadable:
        form, refused = _post(request, year)
        if not refused:
            return redirect(f"{reverse('workdays:workdays')}?year={year}")
        status = 400
    if unreadable:
        messages.error(request, unreadable)
    confirmed = set(CalendarYear.objects.values_list("year", flat=True))
    context: dict[str, Any] = {
        "year": year,
        "confirmed": year in confirmed,
        "days": list(CalendarDay.objects.filter(day__year=year).order_by("day")),
        "years": [
            YearLink(y, y in confirmed, y == year) for y in range(today.year - 1, today.year + 3)
        ],
        "may_edit": may_edit,
        "form": form or (DayForm(initial={"kind": DayKind.DAY_OFF}) if may_edit else None),
    }
    return render(request, "workdays/calendar.html", context, status=status)


urlpatterns: list[URLPattern] = [path("workdays/", workdays, name="workdays")]
