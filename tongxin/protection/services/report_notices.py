"""Whom a mandatory report's notices reach, when it arrives and when it is passed on: the
handling departments' officers and the county's civil-affairs officers, by notice and
e-mail after the commit. Codes and statuses only, never the facts."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from tongxin.accounts.models import Organisation
from tongxin.notices import services as notifications
from tongxin.protection.models import MandatoryReport
from tongxin.protection.services.common import in_chinese, recipients_of_notices


def _send(notes: list[Any]) -> None:
    """E-mail after the commit: a mail server down must not lose the report."""
    if notes:
        transaction.on_commit(partial(notifications.email_pending, notes))


def notify_new_report(report: MandatoryReport, departments: list[Organisation]) -> None:
    """The departments the report went to and the county's civil-affairs officers hear of it
    at once: in the app, and by e-mail. Codes only, no facts, no names."""
    url = reverse("reports:report_detail", args=[report.public_id])
    handler = report.handling_department

    def texts() -> tuple[str, str]:
        title = _("New mandatory report %(receipt)s (%(urgency)s)") % {
            "receipt": report.receipt_no,
            "urgency": report.get_urgency_display(),
        }
        body = _("Handling department: %(department)s. Area: %(area)s.") % {
            "department": handler.name if handler else "—",
            "area": report.division.name,
        }
        return title, body

    title, body = in_chinese(texts)
    notes = []
    for user in recipients_of_notices(report.county_code, departments):
        note, created = notifications.notify(
            recipient=user,
            kind="report_received",
            title=title,
            body=body,
            url=url,
            key=f"report:{report.public_id}:received",
        )
        if created:
            notes.append(note)
    _send(notes)


def notify_report_passed_on(report: MandatoryReport) -> None:

    title = in_chinese(
        lambda: (
            _("Mandatory report %(receipt)s transferred to your department")
            % {"receipt": report.receipt_no}
        )
    )
    notes = []
    for user in recipients_of_notices(report.county_code, [report.handling_department]):
        note, created = notifications.notify(
            recipient=user,
            kind="report_transferred",
            title=title,
            url=reverse("reports:report_detail", args=[report.public_id]),
            key=f"report:{report.public_id}:transfer:{report.received_at.isoformat()}",
        )
        if created:
            notes.append(note)
    _send(notes)
