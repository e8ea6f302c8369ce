"""Who sees what of a mandatory report (强制报告), decided here and nowhere else.

A report, its facts and its attachments are a sensitive section (issue 5):

- county civil-affairs officers whose area holds the report, and the officers of its handling
  department, see everything and move it along the workflow;
- the officers of every other department it went to at once (``ReportRecipient``: the police
  and civil affairs both receive a suspected crime) see everything and add to it, but do not
  move it;
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
from enum import StrEnum
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q

from tongxin.accounts.roles import Role
from tongxin.geo.scope import NOTHING, in_scope, scope_q
from tongxin.protection.rules import (
    REFERRAL_OPEN,
    Party,
    ReferralStatus,
    ReferralTransition,
    Status,
    Transition,
    available_transitions,
    referral_transitions,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tongxin.accounts.models import User
    from tongxin.protection.models import Concern, MandatoryReport, Referral, ReportTask

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
_FULL_READERS = frozenset({Party.COUNTY, Party.HANDLER, Party.RECIPIENT, Party.AUDITOR})
_MOVERS = frozenset({Party.COUNTY, Party.HANDLER})
# Those who act on a report: they know a confidential reporter, and add to the report.
_ACTORS = _MOVERS | {Party.RECIPIENT}


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
        reporter_identity=bool(parties & _ACTORS) or (full and not identity_confidential),
        result_told=full or Party.REPORTER in parties,
        tasks=full or Party.VILLAGE in parties,
        names_masked=names_masked and Party.HANDLER not in parties,
        transitions=() if read_only else available_transitions(status, parties),
        adds_addenda=not read_only and bool(parties & (_ACTORS | {Party.REPORTER})),
    )


def _is_handler(user: User, department_id: int | None) -> bool:
    return (
        department_id is not None
        and user.role in HANDLER_ROLES
        and user.organisation_id == department_id
    )


def recipient_ids(report: MandatoryReport) -> frozenset[int]:
    """The departments the report is with now: the handling one and those it went to at once
    (prefetched ``recipients`` when there; a transfer ends the old handler's part)."""
    return frozenset(r.department_id for r in report.recipients.all() if r.passed_on_at is None)


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
        # A county officer reads it all already: only a department's officer needs asking.
        elif (
            user.role == Role.DEPARTMENT_OFFICER
            and user.organisation_id is not None
            and user.organisation_id in recipient_ids(report)
        ):
            found.add(Party.RECIPIENT)
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
    elif user.role == Role.DEPARTMENT_OFFICER and user.organisation_id is not None:
        q |= inside & (
            Q(handling_department_id=user.organisation_id) | _received_by(user.organisation_id)
        )
    return q


def _received_by(department_id: int) -> Q:
    """Reports a department has now (``recipient_ids`` as a filter)."""
    from tongxin.protection.models import ReportRecipient

    return Q(
        Exists(
            ReportRecipient.objects.filter(
                report=OuterRef("pk"), department_id=department_id, passed_on_at__isnull=True
            )
        )
    )


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


# --- problems found (问题和解决方案) ------------------------------------------------------------
#
# A problem is part of the child's file: those who read the file in their area see it, those
# who keep the file act on it (record what was done, change its status, give it to another
# owner, refer it to a department). Its owner acts on it too: a person (who keeps the file) or
# a department, whose officers see the problem itself — the child's name and village, the
# problem, its timeline — and nothing else of the file.


@dataclass(frozen=True)
class ProblemView:
    """What one user may see and do of one problem."""

    visible: bool
    acts: bool  # record an action, change the status
    assigns: bool  # give it to another owner, change the due date
    refers: bool  # refer it to a department
    file: bool  # reads the child's file (links to it)


def _owns(user: User, concern: Concern) -> bool:
    if concern.owner_id is not None and concern.owner_id == user.pk:
        return True
    return (
        concern.owner_department_id is not None
        and user.role == Role.DEPARTMENT_OFFICER
        and user.organisation_id == concern.owner_department_id
    )


def problem_view(user: User | AnonymousUser, concern: Concern) -> ProblemView:
    if not user.is_authenticated or not user.is_active:
        return ProblemView(False, False, False, False, False)
    file = user.reads_child_files and in_scope(user, concern.child.village_id)
    keeps = file and user.keeps_child_files and not user.is_read_only
    owner = _owns(user, concern) and not user.is_read_only
    return ProblemView(
        visible=file or _owns(user, concern),
        acts=keeps or owner,
        assigns=keeps,
        refers=keeps and user.role in REFERRING_ROLES,
        file=file,
    )


def problems_q(user: User | AnonymousUser) -> Q:
    """The problems ``user`` sees listed: the database form of ``problem_view(...).visible``."""
    if not user.is_authenticated or not user.is_active:
        return NOTHING
    q = Q(owner=user)
    if user.reads_child_files:
        q |= scope_q(user, "child__village__code")
    if user.role == Role.DEPARTMENT_OFFICER and user.organisation_id is not None:
        q |= Q(owner_department_id=user.organisation_id)
    return q


def raises_problems(user: User, village_code: str) -> bool:
    return user.keeps_child_files and not user.is_read_only and in_scope(user, village_code)


# --- referrals (转介) --------------------------------------------------------------------------
#
# A referral shares only the sections it names (最少必要信息), and only while it is open:
#
# - the receiving department's officers see the referral and its shared sections while it is
#   sent or accepted, and move it (accept, decline, complete); once declined or done, nothing;
# - county civil-affairs officers of the area see everything, the auditor too (read-only);
# - whoever sent it sees the referral itself (reason, status, outcome), not the sections;
# - the child's village director and town supervisor see that it exists: the department, the
#   status and the dates;
# - names in a referred report of suspected sexual abuse show as *** but to the receivers.
#
# Problems are referred by county officers and town supervisors who keep the file; reports by
# the county officers and the handling department's officers.

REFERRING_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWN_SUPERVISOR})


class ReferralParty(StrEnum):
    COUNTY = "county"
    AUDITOR = "auditor"
    RECEIVER = "receiver"
    SENDER = "sender"
    LOCAL = "local"  # the village director or town supervisor of the child's area


_REFERRAL_FULL = frozenset({ReferralParty.COUNTY, ReferralParty.AUDITOR, ReferralParty.RECEIVER})


@dataclass(frozen=True)
class ReferralView:
    parties: frozenset[ReferralParty]
    record: bool  # the reason, the decline reason, the outcome
    sections: tuple[str, ...]  # the shared sections shown
    transitions: tuple[ReferralTransition, ...]
    names_masked: bool

    @property
    def visible(self) -> bool:
        return bool(self.parties)

    @property
    def level(self) -> str:
        """For the audit entry: which view was shown."""
        if self.sections:
            return "shared"
        if self.record:
            return "record"
        return "exists" if self.parties else "none"


def referral_view_for(
    parties: frozenset[ReferralParty],
    *,
    status: ReferralStatus,
    sections: tuple[str, ...],
    names_masked: bool,
    read_only: bool,
) -> ReferralView:
    """The pure table: parties (and the referral's state) → what is shown."""
    if status not in REFERRAL_OPEN:
        parties = parties - {ReferralParty.RECEIVER}
    full = bool(parties & _REFERRAL_FULL)
    receiver = ReferralParty.RECEIVER in parties
    return ReferralView(
        parties=parties,
        record=full or ReferralParty.SENDER in parties,
        sections=sections if full else (),
        transitions=referral_transitions(status) if receiver and not read_only else (),
        names_masked=names_masked and not receiver,
    )


def referral_parties(user: User | AnonymousUser, referral: Referral) -> frozenset[ReferralParty]:
    """What ``user`` is to ``referral`` (empty: nothing, a 404). The receiver is one whatever
    the status; ``referral_view_for`` drops it once the referral is closed."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    found: set[ReferralParty] = set()
    if referral.sent_by_id == user.pk:
        found.add(ReferralParty.SENDER)
    if in_scope(user, referral.division_id):
        if user.role == Role.COUNTY_ADMIN:
            found.add(ReferralParty.COUNTY)
        elif user.role == Role.AUDITOR:
            found.add(ReferralParty.AUDITOR)
        elif user.role in (Role.VILLAGE_DIRECTOR, Role.TOWN_SUPERVISOR):
            found.add(ReferralParty.LOCAL)
        elif (
            user.role == Role.DEPARTMENT_OFFICER and user.organisation_id == referral.department_id
        ):
            found.add(ReferralParty.RECEIVER)
    return frozenset(found)


def referral_view(user: User | AnonymousUser, referral: Referral) -> ReferralView:
    report = referral.report
    return referral_view_for(
        referral_parties(user, referral),
        status=ReferralStatus(referral.status),
        sections=tuple(referral.sections),
        names_masked=report is not None and report.names_masked,
        read_only=bool(getattr(user, "is_read_only", True)),
    )


def referrals_q(user: User | AnonymousUser) -> Q:
    """The referrals ``user`` sees listed: the database form of ``referral_view(...).visible``."""
    if not user.is_authenticated or not user.is_active:
        return NOTHING
    q = Q(sent_by=user)
    inside = scope_q(user, "division__code")
    if user.role in (
        Role.COUNTY_ADMIN,
        Role.AUDITOR,
        Role.VILLAGE_DIRECTOR,
        Role.TOWN_SUPERVISOR,
    ):
        q |= inside
    elif user.role == Role.DEPARTMENT_OFFICER and user.organisation_id is not None:
        q |= inside & Q(
            department_id=user.organisation_id, status__in=[s.value for s in REFERRAL_OPEN]
        )
    return q


def refers_problem(user: User, concern: Concern) -> bool:
    return problem_view(user, concern).refers


def refers_report(user: User, report: MandatoryReport) -> bool:
    """The county officers and the handling department's officers refer a report."""
    if user.is_read_only:
        return False
    return bool(parties_for(user, report) & _MOVERS)


# --- guardianship interventions (监护干预) -----------------------------------------------------
#
# A sensitive section, like the reports:
#
# - county civil-affairs officers of the child's area read every intervention on the child,
#   record them and end them;
# - the officers of the handling department of a mandatory report about the child read the
#   interventions linked to one of their department's reports, record interventions linked to
#   such a report, and end those;
# - the auditor reads every intervention in the area, read-only (every read audited);
# - the child's village director knows only that one exists: no kind, date or document;
# - everyone else (town supervisor, another department, the reporter, …) gets 404.

INTERVENTION_FULL = "full"
INTERVENTION_EXISTS = "exists"
INTERVENTION_NONE = ""


def interventions_q(user: User | AnonymousUser) -> Q:
    """The interventions ``user`` reads in full (a filter over Intervention)."""
    if not user.is_authenticated or not user.is_active:
        return NOTHING
    inside = scope_q(user, "child__village__code")
    if user.role in (Role.COUNTY_ADMIN, Role.AUDITOR):
        return inside
    if user.role == Role.DEPARTMENT_OFFICER and user.organisation_id is not None:
        return inside & Q(report__handling_department_id=user.organisation_id)
    return NOTHING


def handled_reports_q(user: User | AnonymousUser) -> Q:
    """The reports whose handling department is the user's (a filter over MandatoryReport)."""
    if not user.is_authenticated or user.role != Role.DEPARTMENT_OFFICER:
        return NOTHING
    if user.organisation_id is None:
        return NOTHING
    return scope_q(user, "division__code") & Q(handling_department_id=user.organisation_id)


def child_interventions_level(
    user: User | AnonymousUser, *, village_code: str, handles_a_report: bool
) -> str:
    """What ``user`` sees of a child's interventions: INTERVENTION_FULL (the records),
    INTERVENTION_EXISTS (that there is one) or INTERVENTION_NONE (404).
    ``handles_a_report``: the user's department handles a mandatory report about the child."""
    if not user.is_authenticated or not user.is_active or not in_scope(user, village_code):
        return INTERVENTION_NONE
    if user.role in (Role.COUNTY_ADMIN, Role.AUDITOR):
        return INTERVENTION_FULL
    if user.role == Role.DEPARTMENT_OFFICER and handles_a_report:
        return INTERVENTION_FULL
    if user.role == Role.VILLAGE_DIRECTOR:
        return INTERVENTION_EXISTS
    return INTERVENTION_NONE


# Roles that may record or end an intervention (each within the rules below).
INTERVENTION_WRITER_ROLES = frozenset({Role.COUNTY_ADMIN, Role.DEPARTMENT_OFFICER})


def records_interventions(
    user: User | AnonymousUser, *, village_code: str, report_department_id: int | None
) -> bool:
    """May record (or end, or assess) an intervention on a child of ``village_code`` linked to
    a report handled by ``report_department_id`` (None: linked to none)."""
    if not user.is_authenticated or user.is_read_only or not in_scope(user, village_code):
        return False
    if user.role == Role.COUNTY_ADMIN:
        return True
    return (
        user.role == Role.DEPARTMENT_OFFICER
        and user.organisation_id is not None
        and report_department_id == user.organisation_id
    )


# --- statistics of mandatory reports -----------------------------------------------------------
#
# The county officers and the auditor read the statistics of every report in their area, and
# the count of cases found unreported (发现未报). A department officer reads them for the
# reports their department handles now, without the cases found unreported (those are the
# county's record). Nobody else reads them (404).

STATS_ROLES = frozenset({Role.COUNTY_ADMIN, Role.AUDITOR, Role.DEPARTMENT_OFFICER})


def reads_report_stats(user: User | AnonymousUser) -> bool:
    if not user.is_authenticated or user.role not in STATS_ROLES:
        return False
    return user.role != Role.DEPARTMENT_OFFICER or user.organisation_id is not None


def report_stats_q(user: User) -> Q:
    """The reports the user's statistics count (a filter over MandatoryReport)."""
    if not reads_report_stats(user):
        return NOTHING
    if user.role == Role.DEPARTMENT_OFFICER:
        return handled_reports_q(user)
    return scope_q(user, "division__code")


def stats_count_failures(user: User) -> bool:
    """Whether the statistics show the cases found unreported (the county's record)."""
    return reads_report_stats(user) and user.role in (Role.COUNTY_ADMIN, Role.AUDITOR)
