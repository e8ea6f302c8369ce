"""The report clocks' writes: alerts of breached clocks (once per clock), and the stored
deadlines counted again when the working-day calendar changes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tongxin.accounts.models import User
from tongxin.notices import services as notifications
from tongxin.protection import policy, rules
from tongxin.protection.models import MandatoryReport
from tongxin.protection.services.common import in_chinese, recipients_of_notices
from tongxin.workdays.services import work_calendar


def report_clock_alerts(*, now: datetime | None = None) -> int:
    """Alert the handling department and the county of each breached clock, once per clock
    (``manage.py report_clocks``, run every hour); returns the notifications written."""
    now = now or timezone.now()
    breached = MandatoryReport.objects.select_related("handling_department").filter(
        Q(status__in=rules.AWAITING_ACCEPTANCE, acceptance_due_at__lt=now)
        | Q(
            status__in=[rules.Status.ACCEPTED, rules.Status.VERIFYING],
            result_due_at__lt=now,
        )
    )
    written: list[Any] = []
    recipients: dict[tuple[str, int | None], list[User]] = {}
    for report in breached.order_by("pk"):
        awaiting = report.status in rules.AWAITING_ACCEPTANCE
        clock = rules.ClockName.ACCEPTANCE if awaiting else rules.ClockName.RESULT
        due = report.acceptance_due_at if awaiting else report.result_due_at
        assert due is not None

        def text(report: MandatoryReport = report, awaiting: bool = awaiting) -> str:
            if awaiting:
                return _("Mandatory report %(receipt)s: not accepted in time") % {
                    "receipt": report.receipt_no
                }
            return _("Mandatory report %(receipt)s: no result in time") % {
                "receipt": report.receipt_no
            }

        title = in_chinese(text)
        group = (report.county_code, report.handling_department_id)
        if group not in recipients:
            recipients[group] = recipients_of_notices(
                report.county_code, [report.handling_department]
            )
        for user in recipients[group]:
            note, created = notifications.notify(
                recipient=user,
                kind="report_clock",
                title=title,
                url=reverse("reports:report_detail", args=[report.public_id]),
                key=f"report:{report.public_id}:breach:{clock.value}:{due.isoformat()}",
            )
            if created:
                written.append(note)
    notifications.email_pending(written)
    return len(written)


def _span_q(start: str, end: str, years: Iterable[int]) -> Q:
    """Clocks whose days, from ``start`` to the stored deadline ``end``, may include one of
    ``years`` (local years; a superset is fine: each is counted again exactly)."""
    wanted = sorted(years)
    return Q(**{f"{start}__year__lte": wanted[-1], f"{end}__year__gte": wanted[0]})


@transaction.atomic
def deadlines_refresh(*, years: Iterable[int]) -> int:
    """The working-day calendar changed for ``years``: the stored deadlines of the running
    clocks that count days of those years are counted again, with the limits in force now
    (as the report's page counts them), so that the lists, the alerts and the statistics read
    the deadline the page shows. Returns how many deadlines moved."""
    wanted = set(years)
    clock_policy = policy.clock_policy()
    if not wanted:
        return 0
    calendar = work_calendar()
    moved = 0
    running = (
        ("acceptance_due_at", "received_at", clock_policy.acceptance, rules.AWAITING_ACCEPTANCE),
        (
            "result_due_at",
            "accepted_at",
            clock_policy.result,
            frozenset({rules.Status.ACCEPTED, rules.Status.VERIFYING}),
        ),
    )
    for due_field, start_field, limit, statuses in running:
        if limit.unit == rules.Unit.HOURS:
            continue
        clocks = MandatoryReport.objects.filter(
            _span_q(start_field, due_field, wanted), status__in=statuses
        ).values_list("pk", start_field, due_field)
        for pk, start, stored in clocks:
            counted = rules.deadline(start, limit, clock_policy.tz, calendar)
            if counted != stored:
                MandatoryReport.objects.filter(pk=pk).update(**{due_field: counted})
                moved += 1
    return moved
