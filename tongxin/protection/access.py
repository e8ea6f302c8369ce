"""Who sees what of a mandatory report (强制报告), decided here and nowhere else.

A report, its facts and its attachments are a sensitive section (issue 5):

- county civil-affairs officers whose area holds the report, and the officers of its handling
  department, see everything and move it along the workflow;
- the auditor sees everything, read-only (every read is audited, as everyone's is);
- the child director of the child's village sees that a report exists and the tasks it gives
  the village, never the facts;
- whoever submitted it sees its status and the result told to them, never the handling record;
- names in a report of suspected sexual abuse are shown as *** to everyone but its handlers.

Everyone else gets 404, as for a report that is not there. ``view_for`` is the pure table;
``parties_for`` says what a user is to a report; ``reports_q`` is the same decision as a
database filter for lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q

from tongxin.accounts.roles import Role
from tongxin.geo.scope import NOTHING, in_scope, scope_q
from tongxin.protection.rules import Party, Status, Transition, available_transitions

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tongxin.accounts.models import User
    from tongxin.protection.models import MandatoryReport, ReportTask

MASK = "***"

# Roles that may file a report: the reporting institutions' accounts, and the officers and
# directors who find harm in their own work (village committees have the duty too).
INTAKE_ROLES = frozenset(
    {
        Role.REPORTER,
        Role.VILLAGE_DIRECTOR,
        Role.TOWN_SUPERVISOR,
        Role.COUNTY_ADMIN,
        Role.DEPARTMENT_OFFICER,
    }
)
# Roles that record a report received by phone or in person, and may choose its department.
RECORDING_ROLES = frozenset({Role.COUNTY_ADMIN, Role.DEPARTMENT_OFFICER})
# Roles whose organisation can be a handling department.
HANDLER_ROLES = frozenset({Role.COUNTY_ADMIN, Role.DEPARTMENT_OFFICER})
_FULL_READERS = frozenset({Party.COUNTY, Party.HANDLER, Party.AUDITOR})
_MOVERS = frozenset({Party.COUNTY, Party.HANDLER})


@dataclass(frozen=True)
class ReportView:
    """What one user may see and do of one report."""

    parties: frozenset[Party]
    narrative: bool  # the facts, addenda, timeline and result of handling
    attachments: bool
    reporter_identity: bool
    result_told: bool  # the result told to the reporter
    tasks: bool
    names_masked: bool
    transitions: tuple[Transition, ...]
    adds_addenda: bool

    @property
    def visible(self) -> bool:
        """Listed, and its page opens (else 404)."""
        return bool(self.parties)

    @property
    def level(self) -> str:
        """For the audit entry: which view was shown."""
        if self.narrative:
            return "full"
        if Party.REPORTER in self.parties:
            return "status"
        return "exists" if self.parties else "none"


def view_for(
    parties: frozenset[Party],
    *,
    status: Status,
    names_masked: bool,
    identity_confidential: bool,
    read_only: bool,
) -> ReportView:
    """The pure table: parties (and the report's flags) → what is shown."""
    full = bool(parties & _FULL_READERS)
    return ReportView(
        parties=parties,
        narrative=full,
        attachments=full,
        # A reporter who asked for confidentiality is known to those who act, not to readers.
        reporter_identity=bool(parties & _MOVERS) or (full and not identity_confidential),
        result_told=full or Party.REPORTER in parties,
        tasks=full or Party.VILLAGE in parties,
        names_masked=names_masked and Party.HANDLER not in parties,
        transitions=() if read_only else available_transitions(status, parties),
        adds_addenda=not read_only and bool(parties & (_MOVERS | {Party.REPORTER})),
    )


def _is_handler(user: User, department_id: int | None) -> bool:
    return (
        department_id is not None
        and user.role in HANDLER_ROLES
        and user.organisation_id == department_id
    )


def parties_for(user: User | AnonymousUser, report: MandatoryReport) -> frozenset[Party]:
    """What ``user`` is to ``report`` (empty: nothing, a 404)."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    found: set[Party] = set()
    if report.submitted_by_id == user.pk:
        found.add(Party.REPORTER)
    if in_scope(user, report.division_id):
        if user.role == Role.COUNTY_ADMIN:
            found.add(Party.COUNTY)
        if user.role == Role.AUDITOR:
            found.add(Party.AUDITOR)
        if user.role == Role.VILLAGE_DIRECTOR:
            found.add(Party.VILLAGE)
        if _is_handler(user, report.handling_department_id):
            found.add(Party.HANDLER)
    return frozenset(found)


def report_view(user: User | AnonymousUser, report: MandatoryReport) -> ReportView:
    parties = parties_for(user, report)
    return view_for(
        parties,
        status=Status(report.status),
        names_masked=report.names_masked,
        identity_confidential=report.keep_identity_confidential,
        read_only=bool(getattr(user, "is_read_only", True)),
    )


def reports_q(user: User | AnonymousUser) -> Q:
    """The reports ``user`` sees listed: the database form of ``parties_for`` (non-empty)."""
    if not user.is_authenticated or not user.is_active:
        return NOTHING
    q = Q(submitted_by=user)
    inside = scope_q(user, "division__code")
    if user.role in (Role.COUNTY_ADMIN, Role.AUDITOR, Role.VILLAGE_DIRECTOR):
        q |= inside
    elif user.role in HANDLER_ROLES and user.organisation_id is not None:
        q |= inside & Q(handling_department_id=user.organisation_id)
    return q


def shown_name(name: str, view: ReportView) -> str:
    return MASK if view.names_masked and name else name


# --- intake, tasks, failures to report --------------------------------------------------------


def may_submit(user: User) -> bool:
    return user.is_authenticated and user.role in INTAKE_ROLES and not user.is_read_only


def records_for_others(user: User) -> bool:
    """Records a report received by phone or in person, and may choose the department."""
    return user.role in RECORDING_ROLES and not user.is_read_only


def links_children(user: User) -> bool:
    """May name a registered child (reads children's files)."""
    return user.reads_child_files and not user.is_read_only


# The village does the follow-up; the county does it where no village is known.
TASK_ROLES = frozenset({Role.VILLAGE_DIRECTOR, Role.COUNTY_ADMIN})


def tasks_q(user: User | AnonymousUser) -> Q:
    """Follow-up tasks the user's division holds (a village director: their village)."""
    if not user.is_authenticated or user.role not in TASK_ROLES:
        return NOTHING
    return scope_q(user, "division__code")


def does_task(user: User, task: ReportTask) -> bool:
    return user.role in TASK_ROLES and not user.is_read_only and in_scope(user, task.division_id)


def failures_q(user: User | AnonymousUser) -> Q:
    """Records of cases that went unreported (发现未报): the county and the auditor."""
    if not user.is_authenticated or user.role not in (Role.COUNTY_ADMIN, Role.AUDITOR):
        return NOTHING
    return scope_q(user, "division__code")


def records_failures(user: User) -> bool:
    return user.is_authenticated and user.role == Role.COUNTY_ADMIN
