"""Statistics of mandatory reports (强制报告统计, issue 5): for a division and a period, the
reports by suspected harm, by kind of reporting institution, by division one level down and by
month; the median time to acceptance and to a result and the share within the time limits; the
outcomes; and the count of cases found unreported (发现未报).

Computed in the database with a constant number of queries (nine, whatever the number of
reports); only the medians are taken in Python, from the durations the database subtracts
(SQLite has no percentile function). Which reports a user's figures count is decided in
``protection.access`` (``report_stats_q``): the county and the auditor every report of their
area, a department officer the reports their department handles now.

Definitions:

- a report counts in the period it was submitted in (local time);
- time to acceptance: from receipt by the department that accepted it (the submission, or the
  latest transfer) to acceptance — what the acceptance clock measures; time to a result: from
  acceptance to the result recorded;
- the share within a limit counts the clocks decided by now: stopped (accepted, a result
  recorded, or the report rejected while the clock ran) or run out while still running; a clock
  still running inside its limit is not counted yet. The same reading as
  ``rules.report_clocks``, against the deadline fixed when each clock started;
- the kind of reporting institution: the one fixed in the report at submission
  (``MandatoryReport.reporting_institution_type``): the reporting organisation's (county
  departments and town governments count as the government, village committees as such, an
  institution by the type it was registered with); a report a village director files online
  without an organisation counts for the village committee, one an officer files so for the
  government; a caller's institution by the kind the officer chose; no institution named is
  "not given".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import Substr, TruncMonth
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.core.periods import Period, PeriodKind, format_period, periods_in
from tongxin.geo.models import PREFIX_LENGTH, Division
from tongxin.protection import access, policy, rules
from tongxin.protection.models import (
    FailureToReport,
    Harm,
    MandatoryReport,
    ReportHarm,
    ReportingInstitutionType,
    ReportStatus,
)

# --- the kind of reporting institution --------------------------------------------------------

# The statistics' names of the kinds, in the order the figures show them.
INSTITUTION_LABELS: dict[str, Promise] = {
    ReportingInstitutionType.SCHOOL: _("Schools"),
    ReportingInstitutionType.KINDERGARTEN: _("Kindergartens and childcare"),
    ReportingInstitutionType.MEDICAL: _("Medical institutions"),
    ReportingInstitutionType.WELFARE: _("Welfare and rescue institutions"),
    ReportingInstitutionType.VILLAGE_COMMITTEE: _("Village and community committees"),
    ReportingInstitutionType.HOTEL: _("Hotels and lodgings"),
    ReportingInstitutionType.GOVERNMENT: _("Government departments"),
    ReportingInstitutionType.OTHER: _("Other institutions"),
    ReportingInstitutionType.NOT_GIVEN: _("No institution given"),
}


# --- figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class DivisionBucket:
    code: str  # "" for the reports placed in no division below
    name: str
    count: int


@dataclass(frozen=True)
class ClockFigures:
    limit: rules.Limit  # the limit in force now (each report's deadline was fixed when it ran)
    measured: int  # reports whose time was measured (accepted; a result recorded)
    median: timedelta | None
    decided: int  # clocks stopped or run out
    within: int  # of those, stopped within the limit

    @property
    def share(self) -> float | None:
        """Within the limit, of the clocks decided (0–1)."""
        return self.within / self.decided if self.decided else None

    @property
    def percent(self) -> float | None:
        share = self.share
        return round(100 * share, 1) if share is not None else None


@dataclass(frozen=True)
class ReportStats:
    division: Division
    period: Period
    department_only: bool  # a department officer's: the reports their department handles
    total: int
    by_harm: list[Bucket]
    by_institution: list[Bucket]
    by_division: list[DivisionBucket]
    by_month: list[Bucket]
    acceptance: ClockFigures
    result: ClockFigures
    outcomes: list[Bucket]
    failures: int | None  # cases found unreported; None where the user does not read them


def median(values: list[timedelta]) -> timedelta | None:
    """The median of the durations (the mean of the middle two for an even count)."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _bounds(period: Period, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(period.start, time.min, tzinfo=tz)
    end = datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def _clock_filters(now: datetime) -> dict[str, Q]:
    """The clocks decided and those stopped within their limit, as ``rules.report_clocks``
    reads them, against the deadlines fixed in the rows."""
    awaiting = [s.value for s in rules.AWAITING_ACCEPTANCE]
    rejected = rules.Status.REJECTED.value
    running_result = [rules.Status.ACCEPTED.value, rules.Status.VERIFYING.value]
    rejected_unaccepted = Q(status=rejected, accepted_at__isnull=True)
    rejected_without_result = Q(
        status=rejected, accepted_at__isnull=False, result_recorded_at__isnull=True
    )
    return {
        "acceptance_decided": Q(accepted_at__isnull=False)
        | Q(status__in=awaiting, acceptance_due_at__lt=now)
        | rejected_unaccepted,
        "acceptance_within": Q(accepted_at__isnull=False, accepted_at__lte=F("acceptance_due_at"))
        | (rejected_unaccepted & Q(ended_at__lte=F("acceptance_due_at"))),
        "result_decided": Q(result_recorded_at__isnull=False)
        | Q(status__in=running_result, result_due_at__lt=now)
        | rejected_without_result,
        "result_within": Q(
            result_recorded_at__isnull=False, result_recorded_at__lte=F("result_due_at")
        )
        | (rejected_without_result & Q(ended_at__lte=F("result_due_at"))),
    }


def stats_reports(user: User, division: Division, period: Period) -> QuerySet[MandatoryReport]:
    """The reports the user's figures count for the division and the period."""
    start, end = _bounds(period, ZoneInfo(settings.TIME_ZONE))
    return MandatoryReport.objects.filter(
        access.report_stats_q(user),
        division__code__startswith=division.prefix,
        submitted_at__gte=start,
        submitted_at__lt=end,
    ).order_by()


def _by_division(reports: QuerySet[MandatoryReport], division: Division) -> list[DivisionBucket]:
    below = list(Division.objects.filter(parent=division).order_by("code"))
    if not below:
        return [DivisionBucket(division.code, division.name, reports.count())]
    length = min(PREFIX_LENGTH[d.level] for d in below)
    counts = {
        row["part"]: row["n"]
        for row in reports.annotate(part=Substr("division_id", 1, length))
        .values("part")
        .annotate(n=Count("pk"))
        .order_by()
    }
    buckets = [DivisionBucket(d.code, d.name, counts.pop(d.code[:length], 0)) for d in below]
    if rest := sum(counts.values()):
        buckets.append(DivisionBucket("", str(_("Not placed in a division below")), rest))
    return buckets


def report_stats(
    user: User, division: Division, period: Period, *, now: datetime | None = None
) -> ReportStats:
    """The figures of ``division`` (inside the user's scope: the caller checked) for
    ``period``. Nine queries, whatever the number of reports."""
    now = now or timezone.now()
    tz = ZoneInfo(settings.TIME_ZONE)
    clock_policy = policy.clock_policy()
    reports = stats_reports(user, division, period)

    # 1: the clocks.
    filters = _clock_filters(now)
    clocks = reports.aggregate(**{k: Count("pk", filter=q) for k, q in filters.items()})
    # 2: the durations, for the medians.
    durations = list(
        reports.filter(accepted_at__isnull=False)
        .annotate(
            to_accept=ExpressionWrapper(
                F("accepted_at") - F("received_at"), output_field=DurationField()
            ),
            to_result=ExpressionWrapper(
                F("result_recorded_at") - F("accepted_at"), output_field=DurationField()
            ),
        )
        .values_list("to_accept", "to_result")
    )
    to_accept = [d for d, _r in durations]
    to_result = [r for _d, r in durations if r is not None]
    # 3: the outcomes (the status now), which also give the total.
    statuses = dict(reports.values_list("status").annotate(n=Count("pk")).order_by())
    outcomes = [Bucket(s.value, str(s.label), statuses.get(s.value, 0)) for s in ReportStatus]
    # 4: by harm (a report of two harms counts under each).
    harms = dict(
        ReportHarm.objects.filter(report__in=reports)
        .values_list("harm")
        .annotate(n=Count("report_id"))
        .order_by()
    )
    # 5: by the kind of reporting institution.
    kinds = dict(
        reports.values_list("reporting_institution_type").annotate(n=Count("pk")).order_by()
    )
    # 6: by month.
    months: dict[tuple[int, int], int] = {}
    for month, n in (
        reports.annotate(month=TruncMonth("submitted_at", tzinfo=tz))
        .values_list("month")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        local = month.astimezone(tz)
        months[local.year, local.month] = n
    month_periods = (
        [period] if period.kind == PeriodKind.MONTH else periods_in(period, PeriodKind.MONTH)
    )
    # 7, 8: by division one level down.
    by_division = _by_division(reports, division)
    # 9: the cases found unreported.
    failures: int | None = None
    if access.stats_count_failures(user):
        failures = FailureToReport.objects.filter(
            access.failures_q(user),
            division__code__startswith=division.prefix,
            found_on__gte=period.start,
            found_on__lte=period.end,
        ).count()
    return ReportStats(
        division=division,
        period=period,
        department_only=user.role == Role.DEPARTMENT_OFFICER,
        total=sum(statuses.values()),
        by_harm=[Bucket(h.value, str(h.label), harms.get(h.value, 0)) for h in Harm],
        by_institution=[
            Bucket(str(key), str(label), kinds.get(key, 0))
            for key, label in INSTITUTION_LABELS.items()
        ],
        by_division=by_division,
        by_month=[
            Bucket(
                format_period(p),
                format_period(p),
                months.get((p.start.year, p.start.month), 0),
            )
            for p in month_periods
        ],
        acceptance=ClockFigures(
            limit=clock_policy.acceptance,
            measured=len(to_accept),
            median=median(to_accept),
            decided=clocks["acceptance_decided"],
            within=clocks["acceptance_within"],
        ),
        result=ClockFigures(
            limit=clock_policy.result,
            measured=len(to_result),
            median=median(to_result),
            decided=clocks["result_decided"],
            within=clocks["result_within"],
        ),
        outcomes=outcomes,
        failures=failures,
    )


def stats_data(stats: ReportStats) -> dict[str, Any]:
    """The figures as plain data (the API's answer, the chart's source)."""

    def clock(figures: ClockFigures) -> dict[str, Any]:
        return {
            "limit": str(figures.limit),
            "measured": figures.measured,
            "median_hours": round(figures.median.total_seconds() / 3600, 2)
            if figures.median is not None
            else None,
            "decided": figures.decided,
            "within": figures.within,
            "share": round(figures.share, 4) if figures.share is not None else None,
        }

    def buckets(items: list[Bucket]) -> list[dict[str, Any]]:
        return [{"key": b.key, "name": b.label, "count": b.count} for b in items]

    return {
        "division": stats.division.code,
        "name": stats.division.name,
        "period": format_period(stats.period),
        "start": stats.period.start,
        "end": stats.period.end,
        "scope": "department" if stats.department_only else "area",
        "total": stats.total,
        "by_harm": buckets(stats.by_harm),
        "by_institution": buckets(stats.by_institution),
        "by_division": [
            {"code": b.code, "name": b.name, "count": b.count} for b in stats.by_division
        ],
        "by_month": [{"month": b.key, "count": b.count} for b in stats.by_month],
        "acceptance": clock(stats.acceptance),
        "result": clock(stats.result),
        "outcomes": buckets(stats.outcomes),
        "failures_to_report": stats.failures,
    }


def default_period(today: date | None = None) -> Period:
    """The year so far."""
    from tongxin.core.periods import period_of

    return period_of(today or timezone.localdate(), PeriodKind.YEAR)
