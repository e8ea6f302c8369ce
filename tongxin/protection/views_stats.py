"""The statistics page of mandatory reports (强制报告统计),
``/reports/stats/?division=CODE&period=2024``.

For county officers and auditors (every report of their area, and the cases found unreported),
and for department officers (the reports their department handles); anyone else, or a division
outside the user's own, gets 404. The period is a month (2024-06), a quarter (2024-Q2) or a
year (2024), the current year by default; one that cannot be read answers 400 with a message
and the current year's figures. Tables say everything; the chart of reports by month is SVG
drawn on the server (decision 013)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from tongxin.accounts.models import User
from tongxin.audit.services import audit_record
from tongxin.core import periods
from tongxin.core.charts import bar_chart
from tongxin.core.forms import period_label, period_picker
from tongxin.core.http import signed_in_user, staff_view
from tongxin.core.periods import Period
from tongxin.geo.models import Division
from tongxin.geo.scope import get_for_user_or_404, in_scope
from tongxin.protection import access
from tongxin.protection.rules import Limit, Unit
from tongxin.protection.stats import ReportStats, default_period, report_stats


def duration_text(value: timedelta | None) -> str:
    """A median for people: hours under two days, else days (one decimal)."""
    if value is None:
        return "—"
    hours = value.total_seconds() / 3600
    if hours < 48:
        return _("%(n)s hours") % {"n": f"{hours:.1f}"}
    return _("%(n)s days") % {"n": f"{hours / 24:.1f}"}


def limit_text(limit: Limit) -> str:
    """A time limit for people: 24 小时, 15 天, 3 个工作日."""
    n = str(limit.amount)
    if limit.unit == Unit.HOURS:
        return _("%(n)s hours") % {"n": n}
    if limit.unit == Unit.DAYS:
        return _("%(n)s days") % {"n": n}
    return _("%(n)s working days") % {"n": n}


def _page_url(division: str, period: Period) -> str:
    query = urlencode({"division": division, "period": periods.format_period(period)})
    return f"{reverse('reports:report_stats')}?{query}"


def stats_read(*, actor: User, stats: ReportStats, request: HttpRequest | None) -> None:
    """The statistics carry no child's data; the look is kept all the same (who, where,
    which period, how many reports)."""
    audit_record(
        actor=actor,
        action="report.stats",
        object_type="division",
        object_code=stats.division.code,
        division_code=stats.division.code,
        request=request,
        detail={"period": periods.format_period(stats.period), "total": stats.total},
    )


@staff_view(allow=access.reads_report_stats)
def report_stats_page(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    today = timezone.localdate()
    code = request.GET.get("division", "").strip() or (user.division_id or "")
    division = get_for_user_or_404(Division.objects.visible_to(user), code=code)
    text = request.GET.get("period", "").strip()
    error = ""
    period = default_period(today)
    if text:
        try:
            period = periods.parse_period(text)
        except ValueError:
            error = _("The period must be a month (2024-06), a quarter (2024-Q2) or a year (2024).")
    stats = report_stats(user, division, period)
    stats_read(actor=user, stats=stats, request=request)
    ancestors = [d for d in division.ancestors() if in_scope(user, d.code)]
    next_period = periods.shift_period(period, 1)
    context: dict[str, Any] = {
        "stats": stats,
        "division": division,
        "ancestors": [(d.name, _page_url(d.code, period)) for d in ancestors],
        "period_code": periods.format_period(period),
        "period_label": period_label(period),
        "period_error": error,
        "picker": period_picker(today, period),
        "previous_url": _page_url(division.code, periods.shift_period(period, -1)),
        "next_url": _page_url(division.code, next_period) if next_period.start <= today else "",
        "division_rows": [
            (b, _page_url(b.code, period) if b.code and b.code != division.code else "")
            for b in stats.by_division
        ],
        "acceptance_median": duration_text(stats.acceptance.median),
        "acceptance_limit": limit_text(stats.acceptance.limit),
        "result_limit": limit_text(stats.result.limit),
        "result_median": duration_text(stats.result.median),
        "chart": bar_chart(
            chart_id="stats-month-chart",
            title=_("Reports by month"),
            categories=[period_label(periods.parse_period(b.key)) for b in stats.by_month],
            series=[(_("Reports"), [b.count for b in stats.by_month])],
        ),
        "api_url": f"{reverse('api:report_stats')}?"
        + urlencode({"division": division.code, "period": periods.format_period(period)}),
    }
    response = render(request, "protection/stats.html", context, status=400 if error else 200)
    add_never_cache_headers(response)
    return response


urlpatterns: list[URLPattern] = [
    path("stats/", report_stats_page, name="report_stats"),
]
