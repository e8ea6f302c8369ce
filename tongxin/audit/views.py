from __future__ import annotations

from datetime import UTC, datetime, time

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from tongxin.audit.anchors import AnchorFileError, anchor_path, read_anchors
from tongxin.audit.labels import ACTION_LABELS, action_groups
from tongxin.audit.models import AuditEvent, Result
from tongxin.audit.services import audit_record
from tongxin.core.http import render_page_or_fragment, signed_in_user, staff_view

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
            "anchors": _anchor_summary(),
            "action_unlisted": filters["action"]
            and filters["action"] not in ACTION_LABELS
            and filters["action"] not in {prefix for prefix, _, _ in groups},
        },
    )


@staff_view(allow=lambda u: u.reads_audit)
def anchor_download(request: HttpRequest) -> HttpResponse:
    """The anchor file (decision 016) as it stands, for safekeeping away from the server: dates,
    entry numbers and hashes, nothing about anyone. ``audit_verify --anchors`` checks the trail
    against the copy. The download is itself an audit entry."""
    path = anchor_path()
    content = path.read_bytes() if path.exists() else b""
    try:
        count = len(read_anchors(path))
    except AnchorFileError:
        count = None  # a damaged file is still handed over: audit_verify names the line
    audit_record(
        actor=signed_in_user(request),
        action="audit.anchors_export",
        request=request,
        detail={"anchors": count, "bytes": len(content)},
    )
    response = HttpResponse(content, content_type="text/plain; charset=utf-8")
    day = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="tongxin-audit-anchors-{day}.txt"'
    return response


def _anchor_summary() -> dict[str, object]:
    """How many days the anchor file pins and the last one, for the link to download it."""
    try:
        anchors = read_anchors(anchor_path())
    except AnchorFileError as exc:
        return {
            "error": _("Line %(line)d of the anchor file is not an anchor.") % {"line": exc.line}
        }
    return {"count": len(anchors), "last": anchors[-1].day if anchors else None}


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
