"""The audit entries of mandatory reports read: a report or an attachment opened, a list of
reports opened, and those asked for and refused. A read leaves its trace; the narrative never
goes into it."""

from __future__ import annotations

from django.http import HttpRequest

from tongxin.accounts.models import User
from tongxin.audit.models import Result
from tongxin.audit.services import audit_denied, audit_object
from tongxin.protection import access
from tongxin.protection.models import MandatoryReport, ReportAttachment
from tongxin.protection.services.common import list_opened

OBJECT_TYPE = "mandatoryreport"


def report_opened(
    *,
    actor: User,
    report: MandatoryReport,
    view: access.ReportView,
    request: HttpRequest | None = None,
) -> None:
    """Every opening of a report is attributable, with the view shown (never its content)."""
    audit_object(
        actor,
        "report.view",
        report,
        request=request,
        detail={"receipt_no": report.receipt_no, "view": view.level},
    )


def report_attachment_opened(
    *,
    actor: User,
    report: MandatoryReport,
    attachment: ReportAttachment,
    request: HttpRequest | None = None,
) -> None:
    audit_object(
        actor,
        "report.attachment_view",
        report,
        request=request,
        detail={"receipt_no": report.receipt_no, "attachment": str(attachment.public_id)},
    )


def report_attachment_denied(
    *,
    actor: User,
    report: MandatoryReport,
    code: str,
    request: HttpRequest | None = None,
) -> None:
    """An attachment asked for and not shown (not there, or the user's view of the report does
    not show attachments): the attempt is kept, with the code as given."""
    audit_object(
        actor,
        "report.attachment_view",
        report,
        request=request,
        result=Result.DENIED,
        detail={"receipt_no": report.receipt_no, "attachment": code[:64]},
    )


def report_access_denied(*, actor: User, code: str, request: HttpRequest | None = None) -> None:
    """A report asked for and not shown (not there, or not the user's): attempts are kept."""
    audit_denied(
        actor=actor, action="report.view", object_type=OBJECT_TYPE, code=code, request=request
    )


def report_list_opened(*, actor: User, count: int, request: HttpRequest | None = None) -> None:
    list_opened(
        actor=actor, action="report.list", object_type=OBJECT_TYPE, count=count, request=request
    )
