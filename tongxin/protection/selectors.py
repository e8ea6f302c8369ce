"""Reads of mandatory reports: the scoped fetch (404 alike for "not there" and "not yours"),
the list with its clocks, and the home-page panels."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from tongxin.accounts.models import OrganisationKind, User
from tongxin.geo.scope import scope_q
from tongxin.protection import access, policy, rules
from tongxin.protection.models import (
    InterventionDocument,
    MandatoryReport,
    MandatoryReportQuerySet,
    ReportAttachment,
    ReportHarm,
    ReportTask,
    TaskStatus,
    Urgency,
)
from tongxin.registry.agreements import DOCUMENT_TYPES

FLAGGED_URGENCIES = (Urgency.IMMINENT, Urgency.URGENT)


def _lookup(code: Any) -> dict[str, Any]:
    """A report's code in a URL: its UUID, or its receipt number (GT-2024-000123)."""
    text = str(code).strip()
    try:
        return {"public_id": uuid.UUID(text)}
    except ValueError:
        return {"receipt_no": text.upper()}


def reports_for(user: User) -> MandatoryReportQuerySet:
    """The user's reports, with what a list row shows, newest first."""
    return (
        MandatoryReport.objects.visible_to(user)
        .select_related("handling_department", "division", "child", "child_village")
        .prefetch_related(Prefetch("harms", queryset=ReportHarm.objects.order_by("pk")))
    )


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


def attachment_content_type(attachment: ReportAttachment | InterventionDocument) -> str:
    """The type its first bytes showed at upload (``registry.agreements.DOCUMENT_TYPES``): a
    report's attachment and an intervention's document alike."""
    known = DOCUMENT_TYPES.get(attachment.kind)
    return known[1] if known else "application/octet-stream"


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
    report: MandatoryReport, view: access.ReportView, now: datetime, clock_policy: rules.ClockPolicy
) -> Row:
    acceptance, result = rules.report_clocks(report.times(), now, clock_policy)
    return Row(report, view, acceptance, result)


def report_rows(user: User, reports: list[MandatoryReport]) -> list[Row]:
    now = timezone.now()
    clock_policy = policy.clock_policy()
    return [row_for(r, access.report_view(user, r), now, clock_policy) for r in reports]


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


def _is_flag_reader(user: User) -> bool:
    """County officers, and officers of the departments told of every new report."""
    if user.role == "county_admin":
        return True
    if user.role != "department_officer" or user.organisation is None:
        return False
    return user.organisation.department in policy.setting("NOTIFY_DEPARTMENTS")


def _urgent_reports(user: User) -> QuerySet[MandatoryReport]:
    if not user.is_authenticated or not _is_flag_reader(user):
        return MandatoryReport.objects.none()
    return MandatoryReport.objects.filter(
        scope_q(user, "division__code"),
        status__in=rules.AWAITING_ACCEPTANCE,
        urgency__in=FLAGGED_URGENCIES,
    )


def urgent_count(user: User) -> int:
    return _urgent_reports(user).count()


def urgent_panel_items(user: User, limit: int = 10) -> list[PanelLine]:
    """Urgent reports not yet accepted in the user's area, oldest first: on every handler's
    home page until accepted. A line opens the report for whoever may open it; the others
    (departments told of it, not handling it) see its number, area and department only."""
    reports = (
        _urgent_reports(user)
        .select_related("handling_department", "division")
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
