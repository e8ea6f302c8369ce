"""Child protection's tables, one module per entity group: problems found (问题和解决方案) and
their timeline (`problems`); mandatory reports (强制报告, task 6) with their addenda, timeline,
follow-up tasks, routing and the record of cases that went unreported (`reports`); referrals
between departments (转介, `referrals`); guardianship interventions (监护干预, `interventions`).
Every model, choice class and constant is re-exported here, so `tongxin.protection.models`
stays the one place the app imports them from.

A submitted report is immutable: its content columns are guarded by database triggers
(migration 0004), corrections are addenda. Only the workflow columns (status, handling
department, the clocks' moments, the result) change."""

# The order the models are registered in is the order Django lists them, and so the order of
# a child's reverse relations that the registry's merge walks: problems, reports, referrals,
# interventions, as when they were one module.
from tongxin.protection.models.problems import (
    ActionKind,
    Concern,
    ConcernAction,
    ConcernQuerySet,
)

# isort: split
from tongxin.protection.models.reports import (
    CALLER_INSTITUTION_TYPES,
    IMMUTABLE_COLUMNS,
    Channel,
    FailureToReport,
    FailureToReportQuerySet,
    FollowUp,
    Harm,
    MandatoryReport,
    MandatoryReportQuerySet,
    RecipientHow,
    ReportAddendum,
    ReportAttachment,
    ReportCounter,
    ReportEvent,
    ReportHarm,
    ReportingInstitutionType,
    ReportRecipient,
    ReportStatus,
    ReportTask,
    RoutingVersion,
    TaskKind,
    TaskStatus,
    Urgency,
)

# isort: split
from tongxin.protection.models.referrals import (
    Referral,
    ReferralQuerySet,
    ReferralSection,
    ReferralStatus,
)

# isort: split
from tongxin.protection.models.interventions import (
    AssessmentConclusion,
    Intervention,
    InterventionAssessment,
    InterventionDocument,
    InterventionKind,
    InterventionQuerySet,
    Placement,
)

__all__ = [
    "CALLER_INSTITUTION_TYPES",
    "IMMUTABLE_COLUMNS",
    "ActionKind",
    "AssessmentConclusion",
    "Channel",
    "Concern",
    "ConcernAction",
    "ConcernQuerySet",
    "FailureToReport",
    "FailureToReportQuerySet",
    "FollowUp",
    "Harm",
    "Intervention",
    "InterventionAssessment",
    "InterventionDocument",
    "InterventionKind",
    "InterventionQuerySet",
    "MandatoryReport",
    "MandatoryReportQuerySet",
    "Placement",
    "RecipientHow",
    "Referral",
    "ReferralQuerySet",
    "ReferralSection",
    "ReferralStatus",
    "ReportAddendum",
    "ReportAttachment",
    "ReportCounter",
    "ReportEvent",
    "ReportHarm",
    "ReportRecipient",
    "ReportStatus",
    "ReportTask",
    "ReportingInstitutionType",
    "RoutingVersion",
    "TaskKind",
    "TaskStatus",
    "Urgency",
]
