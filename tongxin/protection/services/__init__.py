"""Protection's writes, the public entry other apps call (decision 003: each write is one
transaction with its audit entry). One module per thing written: mandatory reports
(`reports`), their notices (`report_notices`) and audited reads (`report_reads`); the problems
reports and contacts raise (`problems`); a report's follow-up tasks (`tasks`); unreported cases
(`failures`); the report clocks (`clocks`); the routing table (`routing`); uploaded files
(`uploads`). What several of them share is in `common`."""

from tongxin.protection.services.clocks import deadlines_refresh, report_clock_alerts
from tongxin.protection.services.failures import failure_record
from tongxin.protection.services.problems import ContactProblem, contact_problems_raise
from tongxin.protection.services.report_reads import (
    report_access_denied,
    report_attachment_denied,
    report_attachment_opened,
    report_list_opened,
    report_opened,
)
from tongxin.protection.services.reports import (
    MAX_ATTACHMENTS,
    ChildDescription,
    ReportConflict,
    report_addendum_add,
    report_edit_refused,
    report_submit,
    report_transition,
)
from tongxin.protection.services.routing import (
    may_change_routing,
    reads_routing,
    routing_version_add,
)
from tongxin.protection.services.tasks import report_task_complete

__all__ = [
    "MAX_ATTACHMENTS",
    "ChildDescription",
    "ContactProblem",
    "ReportConflict",
    "contact_problems_raise",
    "deadlines_refresh",
    "failure_record",
    "may_change_routing",
    "reads_routing",
    "report_access_denied",
    "report_addendum_add",
    "report_attachment_denied",
    "report_attachment_opened",
    "report_clock_alerts",
    "report_edit_refused",
    "report_list_opened",
    "report_opened",
    "report_submit",
    "report_task_complete",
    "report_transition",
    "routing_version_add",
]
