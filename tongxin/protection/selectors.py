"""Reads of mandatory reports: the scoped fetch (404 alike for "not there" and "not yours"),
the list with its clocks, and the home-page panels."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from tongxin.accounts.models import OrganisationKind, User
from tongxin.accounts.roles import Role
from tongxin.geo.scope import scope_q
from tongxin.protection import access, policy, rules
from tongxin.protection.models import (
    Concern,
    MandatoryReport,
    MandatoryReportQuerySet,
    Referral,
    ReferralStatus,
    ReportAttachment,
    ReportHarm,
    ReportRecipient,
    ReportTask,
    TaskStatus,
    Urgency,
)
from tongxin.registry.models import Child
from tongxin.workdays.rules import WorkCalendar
from tongxin.workdays.services import work_calendar

if TYPE_CHECKING:
    from tongxin.visits.models import Contact

FLAGGED_URGENCIES = (Urgency.IMMINENT, Urgency.URGENT)


def _lookup(code: Any) -> dict[str, Any]:
    """A report's code in a URL: its UUID, or its receipt number (GT-2024-000123)."""
    text = str(code).strip()
    try:
        return {"public_id": uuid.UUID(text)}
    except ValueError:
        return {"receipt_no": text.upper()}


def reports_for(user: User) -> MandatoryReportQuerySet:
    """The user's reports, with what a list row shows, newest first (and, for a department's
    officer, the departments each went to: what they are to it depends on them)."""
    reports = (
        MandatoryReport.objects.visible_to(user)
        .select_related("handling_department", "division", "child", "child_village")
        .prefetch_related(Prefetch("harms", queryset=ReportHarm.objects.order_by("pk")))
    )
    if user.role == Role.DEPARTMENT_OFFICER:
        reports = reports.prefetch_related("recipients")
    return reports


def get_report_for_user(user: User, code: Any) -> tuple[MandatoryReport, access.ReportView]:
    """One report and what the user may see of it, or 404."""
    try:
        report = reports_for(user).get(**_lookup(code))
    except (MandatoryReport.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    view = access.report_view(user, report)
    if not view.visible:  # the list filter and the table agree; this keeps them honest
        raise Http404
    return report, view


def get_attachment_for_user(
    report: MandatoryReport, view: access.ReportView, code: Any
) -> ReportAttachment:
    """One attachment (of the report or of one of its addenda) for a user whose ``view`` of the
    report shows its attachments, or 404 alike for "not there" and "not yours"."""
    if not view.attachments:
        raise Http404
    try:
        attachment = ReportAttachment.objects.get(report=report, public_id=uuid.UUID(str(code)))
    except (ReportAttachment.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    if not attachment.file:
        raise Http404
    return attachment


@dataclass(frozen=True)
class Row:
    """A report as one user sees it in a list, with its clocks at ``now``."""

    report: MandatoryReport
    view: access.ReportView
    acceptance: rules.Clock
    result: rules.Clock

    @property
    def child_name(self) -> str:
        report = self.report
        name = report.child.name if report.child else report.child_name
        return access.shown_name(name, self.view)

    @property
    def current_clock(self) -> rules.Clock | None:
        """The clock that runs now, if one does."""
        for clock in (self.acceptance, self.result):
            if clock.running:
                return clock
        return None

    @property
    def flagged(self) -> bool:
        """Urgent and not yet accepted: flagged on the handlers' home pages."""
        return (
            self.report.urgency in FLAGGED_URGENCIES
            and self.report.status in rules.AWAITING_ACCEPTANCE
        )


def row_for(
    report: MandatoryReport,
    view: access.ReportView,
    now: datetime,
    clock_policy: rules.ClockPolicy,
    calendar: WorkCalendar,
) -> Row:
    acceptance, result = rules.report_clocks(report.times(), now, clock_policy, calendar=calendar)
    return Row(report, view, acceptance, result)


def report_rows(user: User, reports: list[MandatoryReport]) -> list[Row]:
    """The rows of a list, the calendar read once for all of them."""
    now = timezone.now()
    clock_policy = policy.clock_policy()
    calendar = work_calendar()
    return [row_for(r, access.report_view(user, r), now, clock_policy, calendar) for r in reports]


def recipients_of(report: MandatoryReport) -> list[ReportRecipient]:
    """The departments the report went to, and when, in order."""
    return list(
        ReportRecipient.objects.filter(report=report)
        .select_related("department")
        .order_by("sent_at", "pk")
    )


STATUS_FILTERS = ("open", "awaiting", "breached", "ended", "all")


def filter_reports(
    reports: MandatoryReportQuerySet, status: str, now: datetime | None = None
) -> MandatoryReportQuerySet:
    """The list's filter: open (default), awaiting acceptance, a clock breached, ended, all."""
    now = now or timezone.now()
    if status == "awaiting":
        return reports.filter(status__in=rules.AWAITING_ACCEPTANCE)
    if status == "breached":
        from django.db.models import Q

        return reports.filter(
            Q(status__in=rules.AWAITING_ACCEPTANCE, acceptance_due_at__lt=now)
            | Q(status__in=[rules.Status.ACCEPTED, rules.Status.VERIFYING], result_due_at__lt=now)
        )
    if status == "ended":
        return reports.filter(status__in=rules.ENDED)
    if status == "all":
        return reports
    return reports.open()


def handling_departments(report: MandatoryReport) -> QuerySet[Any]:
    """The departments of the report's county it can be transferred to."""
    from tongxin.accounts.models import Organisation

    return (
        Organisation.objects.filter(
            kind=OrganisationKind.DEPARTMENT, division_id=f"{report.county_code}000000"
        )
        .exclude(pk=report.handling_department_id or 0)
        .order_by("name")
    )


def open_tasks_for(user: User, report: MandatoryReport | None = None) -> QuerySet[ReportTask]:
    tasks = ReportTask.objects.filter(access.tasks_q(user), status=TaskStatus.OPEN)
    if report is not None:
        tasks = tasks.filter(report=report)
    return tasks.select_related("report", "division").order_by("due_on", "pk")


def get_task_for_user(user: User, public_id: Any) -> ReportTask:
    try:
        return (
            ReportTask.objects.filter(access.tasks_q(user))
            .select_related("report", "division")
            .get(public_id=public_id)
        )
    except (ReportTask.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


# --- home-page panels ------------------------------------------------------------------------


class PanelLine:
    """One line of a home-page panel; a link when the user may open the report."""

    def __init__(self, text: str, url: str = "", css: str = "") -> None:
        self.text, self.url, self.css = text, url, css

    def __html__(self) -> SafeString:
        if self.url:
            return format_html(
                '<a href="{}"><strong class="{}">{}</strong></a>', self.url, self.css, self.text
            )
        return format_html('<strong class="{}">{}</strong>', self.css, self.text)

    def __str__(self) -> str:
        return str(self.__html__())


def _urgent_reports(user: User) -> QuerySet[MandatoryReport]:
    """Urgent reports awaiting acceptance: the county officers', in their area; a department's,
    those it handles or received at once."""
    if not user.is_authenticated or user.role not in (Role.COUNTY_ADMIN, Role.DEPARTMENT_OFFICER):
        return MandatoryReport.objects.none()
    where = (
        scope_q(user, "division__code")
        if user.role == Role.COUNTY_ADMIN
        else access.reports_q(user)
    )
    return MandatoryReport.objects.filter(
        where, status__in=rules.AWAITING_ACCEPTANCE, urgency__in=FLAGGED_URGENCIES
    )


def urgent_count(user: User) -> int:
    return _urgent_reports(user).count()


def urgent_panel_items(user: User, limit: int = 10) -> list[PanelLine]:
    """Urgent reports not yet accepted that the user has, oldest first: on the home page of
    every department it went to and of the county until accepted."""
    reports = (
        _urgent_reports(user)
        .select_related("handling_department", "division")
        .prefetch_related("recipients")
        .order_by("submitted_at", "pk")[:limit]
    )
    now = timezone.now()
    lines = []
    for report in reports:
        view = access.report_view(user, report)
        due = report.acceptance_due_at
        late = due is not None and now > due
        text = _("%(receipt)s · %(urgency)s · %(area)s · %(department)s · accept by %(due)s") % {
            "receipt": report.receipt_no,
            "urgency": report.get_urgency_display(),
            "area": report.division.name,
            "department": report.handling_department.name if report.handling_department else "—",
            "due": date_format(timezone.localtime(due), "SHORT_DATETIME_FORMAT") if due else "—",
        }
        url = reverse("reports:report_detail", args=[report.public_id]) if view.visible else ""
        # app.css's error colour: the home page carries no stylesheet of ours.
        lines.append(PanelLine(text, url, "field-error" if late else "urgent"))
    return lines


def my_reports_count(user: User) -> int:
    return MandatoryReport.objects.filter(submitted_by=user).count()


def my_reports_panel_items(user: User, limit: int = 5) -> list[PanelLine]:
    """The reporter's latest reports with their status."""
    if not user.is_authenticated:
        return []
    reports = MandatoryReport.objects.filter(submitted_by=user).order_by("-submitted_at", "-pk")
    return [
        PanelLine(
            f"{r.receipt_no} · {r.get_status_display()}",
            reverse("reports:report_detail", args=[r.public_id]),
        )
        for r in reports[:limit]
    ]


# --- deadlines counted over a year without its holidays --------------------------------------


@dataclass(frozen=True)
class Guessed:
    """Running clocks whose deadline is an estimate: how many, and how many count each year
    whose holidays are missing."""

    clocks: int = 0
    years: dict[int, int] = field(default_factory=dict)


def guessed_deadlines(
    calendar: WorkCalendar, *, user: User | None = None, now: datetime | None = None
) -> Guessed:
    """Running clocks whose deadline counts days of a year the working-day calendar does not
    know (an estimate). Report acceptance and result clocks and referrals
    waiting for acceptance; in ``user``'s area, or everywhere (the hourly job). A constant
    number of queries, none when the calendar knows last year to three years ahead."""
    now = now or timezone.now()
    this_year = timezone.localdate(now).year
    unknown = [y for y in range(this_year - 1, this_year + 3) if y not in calendar.years]
    if not unknown:
        return Guessed()
    clock_policy = policy.clock_policy()
    reports = MandatoryReport.objects.all()
    referrals = Referral.objects.all()
    if user is not None:
        reports = reports.filter(scope_q(user, "division__code"))
        referrals = referrals.filter(scope_q(user, "division__code"))
    running: list[tuple[Any, str, str, rules.Limit]] = [
        (
            reports.filter(status__in=rules.AWAITING_ACCEPTANCE),
            "received_at",
            "acceptance_due_at",
            clock_policy.acceptance,
        ),
        (
            reports.filter(status__in=[rules.Status.ACCEPTED, rules.Status.VERIFYING]),
            "accepted_at",
            "result_due_at",
            clock_policy.result,
        ),
        (
            referrals.filter(status=ReferralStatus.SENT),
            "sent_at",
            "acceptance_due_at",
            clock_policy.referral_acceptance,
        ),
    ]
    clocks, years = 0, dict[int, int]()
    for rows, start, end, limit in running:
        if limit.unit == rules.Unit.HOURS:
            continue
        spans = rows.filter(
            **{f"{start}__year__lte": unknown[-1], f"{end}__year__gte": unknown[0]}
        ).values_list(start, end)
        for started, due in spans:
            guessed = rules.guessed_years(started, due, limit, clock_policy.tz, calendar)
            clocks += bool(guessed)
            for year in guessed:
                years[year] = years.get(year, 0) + 1
    return Guessed(clocks, dict(sorted(years.items())))


def calendar_warning(user: User) -> SafeString | None:
    """For a county officer's home page: the deadlines in their area that are estimates, the
    years whose holidays are missing, and the way to enter them."""
    if not user.is_authenticated or user.role != Role.COUNTY_ADMIN:
        return None
    found = guessed_deadlines(work_calendar(), user=user)
    if not found.clocks:
        return None
    text = _(
        "The holidays of %(years)s are not in the working-day calendar: %(count)d deadlines "
        "count them as ordinary weeks and are only estimates."
    ) % {"years": "、".join(str(y) for y in found.years), "count": found.clocks}
    return format_html(
        '{} <a href="{}?year={}">{}</a>',
        text,
        reverse("workdays:workdays"),
        next(iter(found.years)),
        _("Enter the holidays"),
    )


# --- problems found, as the apps that raise or count them read them --------------------------


@dataclass(frozen=True, slots=True)
class OpenProblemCounts:
    """A child's open problems as its risk level counts them."""

    high: int  # of high severity
    psychological: int  # psychological or behavioural


NO_OPEN_PROBLEMS = OpenProblemCounts(high=0, psychological=0)


def open_problem_counts(child_ids: Iterable[int]) -> dict[int, OpenProblemCounts]:
    """Each child's open problems that count for its risk level, in one query; a child
    without open problems is left out."""
    return {
        row["child_id"]: OpenProblemCounts(high=row["high"], psychological=row["psych"])
        for row in Concern.objects.filter(child_id__in=child_ids, status__in=rules.OPEN_STATUSES)
        .values("child_id")
        .annotate(
            high=Count("pk", filter=Q(severity=rules.Severity.HIGH)),
            psych=Count("pk", filter=Q(category=rules.ConcernCategory.PSYCHOLOGICAL)),
        )
    }


def child_open_problems(child: Child) -> list[Concern]:
    """The child's open problems for its file, the soonest due first."""
    return list(
        Concern.objects.open()
        .filter(child=child)
        .select_related("owner", "contact")
        .order_by("due_on", "created_at")
    )


def contact_problems(contact: Contact) -> list[Concern]:
    """The problems found during ``contact``, with their child and owner."""
    return list(Concern.objects.filter(contact=contact).select_related("child", "owner"))


def contact_problems_prefetch() -> Prefetch[Any]:
    """Prefetches each contact's problems (``contact.concerns``) with their child, in the
    order they were raised: one query for any number of contacts."""
    return Prefetch("concerns", queryset=Concern.objects.select_related("child").order_by("pk"))
