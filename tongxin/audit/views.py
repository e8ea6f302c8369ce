from __future__ import annotations

from datetime import UTC, datetime, time

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date

from tongxin.audit.labels import ACTION_LABELS, action_groups
from tongxin.audit.models import AuditEvent, Result
from tongxin.core.http import render_page_or_fragment, staff_view

PAGE_SIZE = 50


@staff_view(allow=lambda u: u.reads_audit)
def event_list(request: HttpRequest) -> HttpResponse:
    """The audit trail in the reader's division, filterable; newest first."""
    events = AuditEvent.objects.visible_to(request.user)  # type: ignore[arg-type]
    # NUL never matches anything, and PostgreSQL refuses it in a query: drop it.
    filters = {
        k: request.GET.get(k, "").replace("\x00", "").strip()
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
    if since := _day_bound(filters["since"], time.min):
        events = events.filter(at__gte=since)
    if until := _day_bound(filters["until"], time.max):
        events = events.filter(at__lte=until)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    groups = action_groups()
    return render_page_or_fragment(
        request,
        "audit/event_list.html",
        "audit/event_list.html#results",
        {
            "page": page,
            "filters": filters,
            "results": Result.choices,
            "action_groups": groups,
            # A prefix typed into the address (``child.``) that no choice names stays shown.
            "action_unlisted": filters["action"]
            and filters["action"] not in ACTION_LABELS
            and filters["action"] not in {prefix for prefix, _, _ in groups},
        },
    )


def _day_bound(value: str, at: time) -> datetime | None:
    """The start (``time.min``) or end (``time.max``) of a filter day, or None when the value is
    empty or no usable date (``2024-13-45``; ``0001-01-01``, which has no UTC equivalent): a
    hand-edited address shows the unfiltered list rather than an error page."""
    try:
        day = parse_date(value)
        if day is None:
            return None
        return timezone.make_aware(datetime.combine(day, at)).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
