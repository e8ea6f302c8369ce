from __future__ import annotations

from datetime import date, datetime, time

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_date

from tongxin.accounts.decorators import staff_view
from tongxin.audit.models import AuditEvent, Result

PAGE_SIZE = 50


@staff_view(allow=lambda u: u.reads_audit)
def event_list(request: HttpRequest) -> HttpResponse:
    """The audit trail in the reader's division, filterable; newest first."""
    events = AuditEvent.objects.visible_to(request.user)  # type: ignore[arg-type]
    filters = {
        k: request.GET.get(k, "").strip()
        for k in ("action", "user", "object", "result", "since", "until")
    }
    if filters["action"]:
        events = events.filter(action__startswith=filters["action"])
    if filters["user"]:
        events = events.filter(actor_username=filters["user"])
    if filters["object"]:
        events = events.filter(object_code=filters["object"])
    if filters["result"] in Result.values:
        events = events.filter(result=filters["result"])
    if since := _day(filters["since"]):
        events = events.filter(at__gte=timezone.make_aware(datetime.combine(since, time.min)))
    if until := _day(filters["until"]):
        events = events.filter(at__lte=timezone.make_aware(datetime.combine(until, time.max)))
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "audit/event_list.html#results" if request.htmx else "audit/event_list.html"  # type: ignore[attr-defined]
    return render(
        request,
        template,
        {"page": page, "filters": filters, "results": Result.choices},
    )


def _day(value: str) -> date | None:
    """A filter date, or None when it is empty or no real date (``2024-13-45``): a hand-edited
    address shows the unfiltered list rather than an error page."""
    try:
        return parse_date(value)
    except ValueError:
        return None
