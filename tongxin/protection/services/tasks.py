"""Writes of a report's follow-up tasks (跟进任务): the village registers, or finds, the child a
report describes, and the report links the file."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tongxin.accounts.models import User
from tongxin.audit.services import audit_object
from tongxin.geo.models import code_prefix
from tongxin.geo.scope import in_scope
from tongxin.protection import access
from tongxin.protection.models import MandatoryReport, ReportEvent, ReportTask, TaskStatus
from tongxin.protection.services.problems import raise_report_problems
from tongxin.protection.services.reports import ReportConflict
from tongxin.registry.models import Child


@transaction.atomic
def report_task_complete(
    *,
    actor: User,
    task: ReportTask,
    child: Child,
    request: HttpRequest | None = None,
) -> ReportTask:
    """The described child is registered (or found registered): link the file to the report.
    The child then has the report's high-severity problem, as a linked child has."""
    if not access.does_task(actor, task) or not in_scope(actor, child.village_id):
        raise PermissionDenied
    locked = ReportTask.objects.select_for_update().select_related("division").get(pk=task.pk)
    if locked.status != TaskStatus.OPEN:
        raise ReportConflict(_("This task is already done."))
    if not child.village_id.startswith(code_prefix(locked.division_id, locked.division.level)):
        raise ValidationError({"child": [_("The child's file is in another village.")]})
    now = timezone.now()
    locked.status, locked.done_at, locked.done_by = TaskStatus.DONE, now, actor
    locked.save(update_fields=["status", "done_at", "done_by"])
    report = MandatoryReport.objects.select_for_update().get(pk=locked.report_id)
    audit_object(
        actor,
        "report.task_done",
        report,
        request=request,
        detail={"receipt_no": report.receipt_no, "task": str(locked.public_id)},
    )
    if report.child_id is None:
        report.child = child
        report.save(update_fields=["child"])
        ReportEvent.objects.create(report=report, at=now, actor=actor, action="child_linked")
        if report.is_open:
            raise_report_problems(actor, report, child, request)
    return locked
