"""What the audit log calls each action and object type, in the reader's language.

The trail stores stable codes (``auth.login``, ``mandatoryreport``): they never change with a
translation, and filters and exports rely on them. People read these labels instead. Every code
written anywhere in the code has its label here (``tongxin/audit/tests/test_labels.py`` scans the
code for them); an unknown code, from an older version, shows as itself.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# The first part of an action code (``auth`` of ``auth.login``): the groups of the filter.
AREA_LABELS: dict[str, Promise] = {
    "auth": _("Sign-in"),
    "user": _("Users"),
    "role_grant": _("Role requests"),
    "organisation": _("Organisations"),
    "divisions_load": _("Divisions"),
    "child": _("Children's files"),
    "household": _("Households"),
    "agreement": _("Care agreements"),
    "duplicates": _("Possible duplicates"),
    "registry": _("Demo data"),
    "ledger": _("Ledger import"),
    "payment_roll": _("Payment rolls"),
    "contact": _("Contacts"),
    "worklog": _("Work log"),
    "risk": _("Risk levels"),
    "cadence": _("Cadence policy"),
    "compliance": _("Compliance"),
    "export": _("Exports"),
    "visits": _("Reminders"),
    "concern": _("Problems found"),
    "referral": _("Referrals"),
    "report": _("Mandatory reports"),
    "intervention": _("Interventions"),
    "benefit": _("Benefits"),
    "workday": _("Holidays and working days"),
    "audit": _("Audit log"),
}

ACTION_LABELS: dict[str, Promise] = {
    "auth.login": _("Signed in"),
    "auth.logout": _("Signed out"),
    "auth.login_failed": _("Sign-in failed"),
    "auth.lockout": _("Account locked after failed sign-ins"),
    "auth.second_factor": _("Passed the second factor"),
    "auth.second_factor_failed": _("Second factor failed"),
    "auth.second_factor_enrolled": _("Enrolled an authenticator app"),
    "user.create": _("Created a user"),
    "user.update": _("Changed a user"),
    "user.role_change": _("Changed a user's role"),
    "user.password_change": _("Changed a password"),
    "user.password_reset": _("Gave a user a one-time password"),
    "auth.second_factor_reset": _("Reset a user's second factor"),
    "auth.unlock": _("Unlocked an account"),
    "auth.token_revoke": _("Revoked API tokens"),
    "role_grant.request": _("Asked for a role that needs a second person"),
    "role_grant.approve": _("Approved a role request"),
    "role_grant.reject": _("Rejected a role request"),
    "role_grant.withdraw": _("Withdrew a role request"),
    "organisation.create": _("Registered an organisation"),
    "organisation.update": _("Changed an organisation"),
    "divisions_load": _("Loaded the divisions"),
    "child.register": _("Opened a child's file"),
    "child.update": _("Changed a child's file"),
    "child.status": _("Changed a file's status"),
    "child.manual_decision": _("Recorded a manual classification"),
    "child.view": _("Viewed a child's file"),
    "child.id_reveal": _("Revealed a full ID number"),
    "child.id_reveal_export": _("Exported full ID numbers"),
    "child.export": _("Exported the list of children"),
    "child.merge": _("Merged duplicate files"),
    "child.archive": _("Archived files closed past the retention period"),
    "child.copy": _("Printed a copy of a file for the guardian"),
    "child.mark_distinct": _("Marked two files as different children"),
    "child.locate": _("Looked up a file outside the area"),
    "child.transfer_request": _("Asked for a file's transfer"),
    "child.transfer_request_decide": _("Decided on a transfer request"),
    "household.create": _("Registered a household"),
    "household.update": _("Changed a household"),
    "household.parent_save": _("Saved a parent"),
    "household.migration_save": _("Saved a spell of work away"),
    "household.transfer": _("Moved a household to another village"),
    "agreement.create": _("Archived a care agreement"),
    "agreement.terminate": _("Terminated a care agreement"),
    "agreement.caregiver_incapable": _("Recorded that a caregiver lacks capacity"),
    "agreement.document_view": _("Opened a care agreement's scan"),
    "duplicates.refresh": _("Searched for possible duplicate files"),
    "registry.generate": _("Generated demo files"),
    "ledger.preview": _("Checked a ledger"),
    "ledger.apply": _("Imported a ledger"),
    "ledger.expire": _("Deleted ledgers that waited too long for their import"),
    "payment_roll.upload": _("Uploaded a payment roll"),
    "payment_roll.preview": _("Read a payment roll's preview"),
    "payment_roll.refuse": _("Refused a payment roll with bad lines"),
    "payment_roll.apply": _("Applied a payment roll"),
    "payment_roll.unmatched": _("Read the children to register from the payment rolls"),
    "contact.record": _("Recorded a contact"),
    "contact.view": _("Viewed a contact"),
    "contact.update": _("Changed a contact"),
    "contact.addendum": _("Added to a contact"),
    "worklog.record": _("Recorded work in the log"),
    "risk.override": _("Set a risk level by hand"),
    "risk.override_clear": _("Ended a risk level set by hand"),
    "cadence.policy_add": _("Changed the cadence policy"),
    "compliance.export": _("Exported compliance figures"),
    "visits.remind": _("Sent reminders and escalations"),
    "concern.raise": _("Raised a problem"),
    "concern.update": _("Changed a problem"),
    "concern.action": _("Recorded action on a problem"),
    "concern.view": _("Viewed a problem"),
    "concern.list": _("Listed problems"),
    "referral.send": _("Sent a referral"),
    "referral.accept": _("Accepted a referral"),
    "referral.decline": _("Declined a referral"),
    "referral.complete": _("Completed a referral"),
    "referral.escalate": _("Escalated a referral not accepted in time"),
    "referral.view": _("Viewed a referral"),
    "referral.list": _("Listed referrals"),
    "report.submit": _("Submitted a mandatory report"),
    "report.accept": _("Accepted a report"),
    "report.start_verification": _("Started verifying a report"),
    "report.record_result": _("Recorded a report's result"),
    "report.inform_reporter": _("Told the reporter the result"),
    "report.close": _("Closed a report"),
    "report.reject": _("Rejected a report"),
    "report.transfer": _("Transferred a report to another department"),
    "report.addendum": _("Added to a report"),
    "report.edit": _("Changed a report"),
    "report.view": _("Viewed a report"),
    "report.attachment_view": _("Opened a report's attachment"),
    "report.list": _("Listed reports"),
    "report.stats": _("Viewed report statistics"),
    "report.task_done": _("Completed a follow-up task"),
    "report.failure_record": _("Recorded a failure to report"),
    "report.routing_change": _("Changed where reports are routed"),
    "intervention.record": _("Recorded an intervention"),
    "intervention.assess": _("Assessed an intervention"),
    "intervention.end": _("Ended an intervention"),
    "intervention.view": _("Viewed an intervention"),
    "intervention.document_view": _("Opened an intervention's document"),
    "intervention.list": _("Listed a child's interventions"),
    "benefit.standard_add": _("Added a version of a benefit standard"),
    "benefit.enrolment_create": _("Enrolled in a benefit programme"),
    "benefit.enrolment_update": _("Changed a benefit enrolment"),
    "benefit.enrolment_end": _("Ended a benefit enrolment"),
    "benefit.enrolment_list": _("Listed benefit enrolments"),
    "workday.add": _("Added a holiday or make-up working day"),
    "workday.remove": _("Removed a day from the holiday calendar"),
    "workday.year_confirm": _("Confirmed a year's holidays"),
    "workday.year_reopen": _("Reopened a year's holidays"),
    "workday.load": _("Loaded the holiday calendar"),
    "export.download": _("Downloaded an export written in the background"),
    "audit.anchors_export": _("Downloaded the audit trail's anchors"),
}

OBJECT_LABELS: dict[str, Promise] = {
    "user": _("user"),
    "organisation": _("organisation"),
    "division": _("division"),
    "child": _("child"),
    "household": _("household"),
    "careagreement": _("care agreement"),
    "duplicate_candidate": _("possible duplicate"),
    "transfer_request": _("transfer request"),
    "import_batch": _("ledger import"),
    "payment_roll": _("payment roll"),
    "contact": _("contact"),
    "worklog": _("work log entry"),
    "cadence_policy": _("contact cadence policy"),
    "remind": _("reminders"),
    "concern": _("problem found"),
    "referral": _("referral"),
    "mandatoryreport": _("mandatory report"),
    "failuretoreport": _("failure to report"),
    "routingversion": _("routing table of reports"),
    "intervention": _("intervention"),
    "benefit_standard": _("benefit standard"),
    "benefitenrolment": _("benefit enrolment"),
    "calendarday": _("calendar day"),
    "calendaryear": _("calendar year"),
    "export": _("export"),
}


def action_label(code: str) -> str:
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code


def object_label(code: str) -> str:
    label = OBJECT_LABELS.get(code)
    return str(label) if label is not None else code


def action_groups() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """The filter's choices: per area, the prefix that selects all of it (``auth.``), its label,
    and its actions (code, label). An area that is one action (``divisions_load``) is its code."""
    groups: dict[str, list[tuple[str, str]]] = {area: [] for area in AREA_LABELS}
    for code, label in ACTION_LABELS.items():
        groups[code.split(".")[0]].append((code, str(label)))
    return [
        (area if area in ACTION_LABELS else f"{area}.", str(label), groups[area])
        for area, label in AREA_LABELS.items()
    ]
