"""The compliance page (履职统计), ``/visits/compliance/?division=CODE&period=2024-Q2``, and its
xlsx export.

For county officers, town supervisors and auditors, on their own division or one inside it
(another: 404, as for a division that is not there). The figures are judged as of today:
periods not begun are left out, the current one is judged so far. Each division one level down
links to the same page for it (county → town → village); the chart draws the same rows, as SVG
drawn on the server (decision 013).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.core import periods
from tongxin.core.charts import BarChart, bar_chart
from tongxin.core.forms import period_label, period_picker
from tongxin.core.http import signed_in_user, staff_view
from tongxin.core.periods import Period, PeriodKind
from tongxin.core.xlsx import XLSX_CONTENT_TYPE
from tongxin.geo.models import Division
from tongxin.geo.scope import get_for_user_or_404, in_scope
from tongxin.visits import rules
from tongxin.visits.compliance import (
    ALL_OBLIGATIONS,
    CHILD_UNIT_OBLIGATIONS,
    ComplianceReport,
    Figures,
    compliance_report,
)
from tongxin.visits.exports import compliance_export
from tongxin.visits.rules import Obligation
from tongxin.visits.views.worklist import RISK_LABELS
from tongxin.visits.worklist_sql import mask_name

# Who reads compliance: the county, the towns' supervisors, the auditors (each in scope).
COMPLIANCE_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWN_SUPERVISOR, Role.AUDITOR})
# The misses listed on the page per obligation; the export lists them all.
MISSES_SHOWN = 100

OBLIGATION_LABELS: dict[Obligation, Promise] = {
    Obligation.MONTHLY_CONTACT: gettext_lazy("Monthly contact"),
    Obligation.QUARTERLY_HOME_VISIT: gettext_lazy("Quarterly home visit"),
    Obligation.YEARLY_FAMILY_CONTACT: gettext_lazy("Yearly family contact"),
}
OBLIGATION_NOTES: dict[Obligation, Promise] = {
    Obligation.MONTHLY_CONTACT: gettext_lazy(
        "Children contacted by their village director in every month counted."
    ),
    Obligation.QUARTERLY_HOME_VISIT: gettext_lazy(
        "Children visited at home by their village director in every quarter counted."
    ),
    Obligation.YEARLY_FAMILY_CONTACT: gettext_lazy(
        "Families contacted by their town supervisor in the year (so far, for a shorter period)."
    ),
}


def _reads_compliance(user: User) -> bool:
    return user.role in COMPLIANCE_ROLES and user.reads_child_files


def _percent(figures: Figures) -> float | None:
    return round(100 * figures.rate, 1) if figures.rate is not None else None


@dataclass(frozen=True)
class Cell:
    counted: int
    met: int
    rate: float | None

    @classmethod
    def of(cls, figures: Figures) -> Cell:
        return cls(figures.counted, figures.met, _percent(figures))


@dataclass(frozen=True)
class Row:
    name: str
    url: str
    # (obligation label, figures) per obligation; None where the row does not carry it.
    cells: list[tuple[Promise, Cell | None]]


@dataclass(frozen=True)
class MissRow:
    name: str
    url: str
    village: str
    missed: str
    risk: Promise | None = None  # a raised level on the report's last day judged


@dataclass(frozen=True)
class MissList:
    label: Promise
    total: int
    rows: list[MissRow]
    households: int  # the yearly contact: families that missed it


def _page_url(division: str, period: Period) -> str:
    query = urlencode({"division": division, "period": periods.format_period(period)})
    return f"{reverse('visits:compliance')}?{query}"


def _params(request: HttpRequest, user: User) -> tuple[Division, Period | None, str]:
    """The division (the user's own by default; outside the scope: 404) and the period asked
    for (None with a message when it cannot be read; the current quarter when absent)."""
    code = request.GET.get("division", "").strip() or (user.division_id or "")
    division = get_for_user_or_404(Division.objects.visible_to(user), code=code)
    text = request.GET.get("period", "").strip()
    if not text:
        return division, periods.period_of(timezone.localdate(), PeriodKind.QUARTER), ""
    try:
        return division, periods.parse_period(text), ""
    except ValueError:
        return (
            division,
            None,
            _("The period must be a month (2024-06), a quarter (2024-Q2) or a year (2024)."),
        )


def _rows(report: ComplianceReport, period: Period) -> list[Row]:
    return [
        Row(
            name=row.division.name,
            url=_page_url(row.division.code, period),
            cells=[(OBLIGATION_LABELS[ob], Cell.of(row.figures[ob])) for ob in ALL_OBLIGATIONS],
        )
        for row in report.rows
    ]


def _workers(report: ComplianceReport) -> list[Row]:
    rows = []
    for worker_row in report.workers:
        worker = worker_row.worker
        who = (worker.name or worker.username) if worker else _("No active worker")
        rows.append(
            Row(
                name=f"{who} · {worker_row.division.name}",
                url="",
                cells=[
                    (
                        OBLIGATION_LABELS[ob],
                        Cell.of(worker_row.figures[ob]) if ob in worker_row.figures else None,
                    )
                    for ob in ALL_OBLIGATIONS
                ],
            )
        )
    return rows


def _by_risk(report: ComplianceReport) -> list[Row]:
    """Per risk level, highest first, the per-child obligations' figures (decision 012)."""
    return [
        Row(
            name=str(RISK_LABELS[level]),
            url="",
            cells=[
                (OBLIGATION_LABELS[ob], Cell.of(report.obligations[ob].by_risk[level]))
                for ob in CHILD_UNIT_OBLIGATIONS
            ],
        )
        for level in reversed(rules.RiskLevel)
    ]


def _misses(report: ComplianceReport, user: User) -> list[MissList]:
    lists = []
    for ob in ALL_OBLIGATIONS:
        result = report.obligations[ob]
        rows = [
            MissRow(
                # Every role here reads the files in its scope; the mask is for any other.
                name=miss.name if user.reads_child_files else mask_name(miss.name),
                url=reverse("registry:child_detail", args=[miss.child]),
                village=report.village_names.get(miss.village, miss.village),
                missed="、".join(period_label(p) for p in miss.missed),
                risk=RISK_LABELS[miss.risk] if miss.risk != rules.RiskLevel.LOW else None,
            )
            for miss in result.unmet[:MISSES_SHOWN]
        ]
        lists.append(
            MissList(
                label=OBLIGATION_LABELS[ob],
                total=len(result.unmet),
                rows=rows,
                households=len(result.unmet_households),
            )
        )
    return lists


def _chart(report: ComplianceReport) -> BarChart:
    """The share met of each obligation for each division one level down (or for the division
    itself when it has none), drawn on the server; the table below has the same figures."""
    if report.rows:
        names = [row.division.name for row in report.rows]
        values = {ob: [_percent(row.figures[ob]) for row in report.rows] for ob in ALL_OBLIGATIONS}
    else:
        names = [report.division.name]
        values = {ob: [_percent(report.obligations[ob].total)] for ob in ALL_OBLIGATIONS}
    return bar_chart(
        chart_id="compliance-chart",
        title=_("Share met per obligation, by division"),
        categories=names,
        series=[(str(OBLIGATION_LABELS[ob]), values[ob]) for ob in ALL_OBLIGATIONS],
        maximum=100,
        unit="%",
        decimals=1,
    )


@staff_view(allow=_reads_compliance)
def compliance(request: HttpRequest) -> HttpResponse:
    """The figures per obligation for the division and each division one level down, per
    worker, and the children who missed."""
    user = signed_in_user(request)
    today = timezone.localdate()
    division, period, error = _params(request, user)
    shown = period or periods.period_of(today, PeriodKind.QUARTER)
    report = compliance_report(division, shown, as_of=today)
    ancestors = [d for d in division.ancestors() if in_scope(user, d.code)]
    summary = [
        (
            OBLIGATION_LABELS[ob],
            OBLIGATION_NOTES[ob],
            report.obligations[ob].per_household,
            Cell.of(report.obligations[ob].total),
        )
        for ob in ALL_OBLIGATIONS
    ]
    context = {
        "division": division,
        "ancestors": [(d.name, _page_url(d.code, shown)) for d in ancestors],
        "period": shown,
        "period_code": periods.format_period(shown),
        "period_label": period_label(shown),
        "period_error": error,
        "period_text": request.GET.get("period", "") if error else periods.format_period(shown),
        "picker": period_picker(today, shown),
        "previous_url": _page_url(division.code, periods.shift_period(shown, -1)),
        "next_url": _page_url(division.code, periods.shift_period(shown, 1))
        if periods.shift_period(shown, 1).start <= today
        else "",
        "as_of": today if shown.end >= today else None,
        "labels": [OBLIGATION_LABELS[ob] for ob in ALL_OBLIGATIONS],
        "summary": summary,
        "by_risk": _by_risk(report),
        "risk_labels": [OBLIGATION_LABELS[ob] for ob in CHILD_UNIT_OBLIGATIONS],
        "risk_day": rules.report_day(shown, today),
        "rows": _rows(report, shown),
        "workers": _workers(report),
        "misses": _misses(report, user),
        "misses_shown": MISSES_SHOWN,
        "chart": _chart(report),
        "export_url": f"{reverse('visits:compliance_export')}?"
        + urlencode({"division": division.code, "period": periods.format_period(shown)}),
    }
    return render(request, "visits/compliance.html", context, status=400 if error else 200)


@staff_view(allow=_reads_compliance)
def compliance_export_view(request: HttpRequest) -> HttpResponse:
    """The same report as an xlsx file: figures per division and worker, and every miss.
    Audited with the number of children listed."""
    user = signed_in_user(request)
    division, period, error = _params(request, user)
    if period is None:
        return HttpResponseBadRequest(error)
    exported = compliance_export(
        actor=user, division=division, period=period, as_of=timezone.localdate(), request=request
    )
    response = FileResponse(
        exported.file,
        as_attachment=True,
        filename=exported.filename,
        content_type=XLSX_CONTENT_TYPE,
    )
    # Children's names: no copy kept by the browser or any proxy on the way.
    patch_cache_control(response, no_store=True, private=True)
    return response  # type: ignore[return-value]


urlpatterns: list[URLPattern] = [
    path("compliance/", compliance, name="compliance"),
    path("compliance/export.xlsx", compliance_export_view, name="compliance_export"),
]
