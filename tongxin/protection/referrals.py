"""Problems found (问题和解决方案) and referrals between departments (转介): writes and reads.

A problem has a category, a severity, an owner (a person who keeps the file, or a department),
a due date and a status (open → in progress → resolved / not resolvable, with the solution or
the reason; reopened with a reason), and a timeline of actions. Closing or reopening it, or
changing its severity, refreshes the child's risk level. Changes name the version they were
based on: a stale one is refused with what changed meanwhile.

A problem or a mandatory report is referred to another department with a reason and only the
sections of the file it needs; the receiving department accepts or declines it (with the
reason), then records the outcome. One not accepted within the limit (3 working days) is
escalated to the county and the sender, once.

Every write is one transaction with its audit entry; every read of a problem or a referral is
audited. Texts (descriptions, actions, reasons, outcomes) never go to a log, an audit entry or
a notification: those carry codes, statuses and counts only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from tongxin.accounts.models import Department, Organisation, OrganisationKind, User
from tongxin.accounts.roles import CHILD_FILE_WRITER_ROLES, Role
from tongxin.audit.services import audit_denied, audit_object, audit_record
from tongxin.core.versions import FieldChange, StaleEdit, record_changes
from tongxin.notices import services as notifications
from tongxin.protection import access, policy, rules
from tongxin.protection.models import (
    ActionKind,
    Concern,
    ConcernAction,
    MandatoryReport,
    Referral,
    ReferralQuerySet,
    ReferralSection,
    ReferralStatus,
)
from tongxin.protection.rules import OPEN_STATUSES, ConcernCategory, ConcernStatus, Severity
from tongxin.protection.selectors import PanelLine
from tongxin.protection.services.common import _in_chinese, list_opened
from tongxin.protection.signals import problems_changed
from tongxin.registry.models import Child
from tongxin.workdays.rules import WorkCalendar
from tongxin.workdays.services import work_calendar

# The departments a problem or a report can be referred to (issue 5).
REFERRAL_DEPARTMENTS = (
    Department.EDUCATION,
    Department.POLICE,
    Department.COURT,
    Department.PROCURATORATE,
    Department.HEALTH,
    Department.WOMENS_FEDERATION,
    Department.YOUTH_LEAGUE,
    Department.DISABLED_FEDERATION,
    Department.HUMAN_RESOURCES,
)
PROBLEM_FIELDS = frozenset(
    {"category", "severity", "description", "solution", "owner", "owner_department", "due_on"}
)
REFERRAL_OBJECT = "referral"
PROBLEM_OBJECT = "concern"


class Conflict(Exception):
    """Not possible in the record's present state (the API answers 409)."""


# --- helpers ---------------------------------------------------------------------------------


def _county(village_code: str) -> str:
    return f"{village_code[:6]}000000"


def owner_choices(child: Child) -> QuerySet[User]:
    """The people who may own a problem of ``child``: active users who keep files in an area
    that holds the child's village (its director, the town's supervisor, the county)."""
    village = child.village_id
    return User.objects.filter(
        is_active=True,
        role__in=CHILD_FILE_WRITER_ROLES,
        division_id__in=[village, f"{village[:9]}000", _county(village)],
    ).order_by("role", "name", "username")


def department_choices(county_code: str, keys: Any = None) -> QuerySet[Organisation]:
    """The county's departments (optionally those with one of ``keys``)."""
    departments = Organisation.objects.filter(
        kind=OrganisationKind.DEPARTMENT, division_id=f"{county_code[:6]}000000"
    )
    if keys is not None:
        departments = departments.filter(department__in=list(keys))
    return departments.order_by("name")


def _check_owner(
    child: Child, owner: User | None, owner_department: Organisation | None
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if owner is not None and owner_department is not None:
        errors["owner"] = [_("Choose a person or a department as the owner, not both.")]
    elif owner is not None and not owner_choices(child).filter(pk=owner.pk).exists():
        errors["owner"] = [_("The owner must be someone who keeps this child's file.")]
    elif (
        owner_department is not None
        and not department_choices(child.village_id).filter(pk=owner_department.pk).exists()
    ):
        errors["owner_department"] = [_("Choose a department of this county.")]
    return errors


def _check_problem_fields(fields: dict[str, Any], child: Child, *, new: bool) -> None:
    """``fields``: all of a new problem's, or only those a change changes."""
    if unknown := set(fields) - PROBLEM_FIELDS:
        raise ValueError(f"not problem fields: {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    due_on = fields.get("due_on")
    if due_on is not None and due_on < timezone.localdate():
        errors["due_on"] = [_("The due date cannot be in the past.")]
    if (new or "category" in fields) and fields.get("category") not in ConcernCategory.values:
        errors["category"] = [_("Choose the kind of problem.")]
    if "severity" in fields and fields["severity"] not in Severity.values:
        errors["severity"] = [_("Choose how serious it is.")]
    if (new or "description" in fields) and not str(fields.get("description", "")).strip():
        errors["description"] = [_("Describe the problem found.")]
    for name, limit in (("description", 2000), ("solution", 2000)):
        if len(str(fields.get(name, ""))) > limit:
            errors[name] = [_("At most %(n)d characters.") % {"n": limit}]
    errors.update(_check_owner(child, fields.get("owner"), fields.get("owner_department")))
    if errors:
        raise ValidationError(errors)


def _notify_owner(concern: Concern) -> None:
    """Tell a problem's new owner (a person, or a department's officers): codes only."""
    recipients: list[User] = []
    if concern.owner is not None:
        recipients.append(concern.owner)
    elif concern.owner_department_id is not None:
        recipients.extend(
            User.objects.filter(
                is_active=True,
                role=Role.DEPARTMENT_OFFICER,
                organisation_id=concern.owner_department_id,
            ).order_by("pk")
        )
    title = _in_chinese(
        lambda: (
            _("A problem found is now yours: %(category)s, %(area)s")
            % {"category": concern.get_category_display(), "area": concern.child.village.name}
        )
    )
    url = reverse("reports:problem_detail", args=[concern.public_id])
    for user in recipients:
        notifications.notify(
            recipient=user,
            kind="problem_assigned",
            title=title,
            url=url,
            key=f"problem:{concern.public_id}:owner:{concern.version}",
        )


# --- problems: writes ------------------------------------------------------------------------


@transaction.atomic
def problem_raise(
    *, actor: User, child: Child, fields: dict[str, Any], request: HttpRequest | None = None
) -> Concern:
    """Record a problem found on the child's file (outside a contact's checklist)."""
    if not access.raises_problems(actor, child.village_id):
        raise PermissionDenied
    _check_problem_fields(fields, child, new=True)
    concern = Concern(
        child=child,
        created_by=actor,
        **{
            **fields,
            "description": str(fields["description"]).strip(),
            "solution": str(fields.get("solution", "")).strip(),
        },
    )
    concern.full_clean(exclude=["contact", "created_by", "report", "child"])
    concern._history_user = actor  # type: ignore[attr-defined]  # read by simple-history
    concern.save()
    audit_object(
        actor,
        "concern.raise",
        concern,
        request=request,
        detail={
            "child": str(concern.child.public_id),
            "category": concern.category,
            "severity": concern.severity,
        },
    )
    if concern.owner_id or concern.owner_department_id:
        _notify_owner(concern)
    problems_changed.send(sender=Concern, children=(child,))
    return concern


def _locked(concern: Concern, version: int) -> Concern:
    locked = (
        Concern.objects.select_for_update(of=("self",))
        .select_related("child__village", "owner", "owner_department")
        .get(pk=concern.pk)
    )
    if locked.version != version:
        raise StaleEdit(locked.version, problem_changes(locked, version))
    return locked


def problem_changes(concern: Concern, since_version: int) -> list[FieldChange]:
    """What changed on the problem after ``since_version`` (for a stale edit's answer)."""
    if since_version < 1 or since_version >= concern.version:
        return []
    records = list(concern.history.order_by("history_date", "history_id"))
    label = str(Concern._meta.verbose_name)
    return record_changes(Concern, records, label, since_version)


@transaction.atomic
def problem_update(
    *,
    actor: User,
    concern: Concern,
    version: int,
    changes: dict[str, Any] | None = None,
    status: str | None = None,
    text: str = "",
    request: HttpRequest | None = None,
) -> Concern:
    """Change a problem based on ``version``: its fields (owner, due date, category, severity,
    description, solution: those who keep the file), and/or its status with the solution or
    the reason (they, or its owner). A stale version → StaleEdit; a move the workflow does not
    allow, or any status change of a problem a mandatory report holds open → Conflict."""
    changes = dict(changes or {})
    view = access.problem_view(actor, concern)
    if not view.visible:
        raise Http404
    if (changes and not view.assigns) or (status is not None and not view.acts):
        raise PermissionDenied
    locked = _locked(concern, version)
    before_status = rules.ProblemStatus(locked.status)
    after_status = before_status
    if status is not None and status != locked.status:
        try:
            after_status = rules.ProblemStatus(status)
        except ValueError as exc:
            raise ValidationError({"status": [_("Choose the status from the list.")]}) from exc
        if locked.report_id is not None:
            raise Conflict(
                _("This problem follows its mandatory report: it is closed when the report ends.")
            )
        if not rules.problem_move_allowed(before_status, after_status):
            raise Conflict(
                _("A problem cannot go from “%(before)s” to “%(after)s”.")
                % {
                    "before": locked.get_status_display(),
                    "after": ConcernStatus(after_status).label,
                }
            )
        if rules.problem_move_needs_text(before_status, after_status) and not text.strip():
            message = (
                _("Say why it is reopened.")
                if before_status in rules.PROBLEM_CLOSED
                else _("Give the solution, or the reason it cannot be resolved.")
            )
            raise ValidationError({"text": [message]})
    if "owner" in changes or "owner_department" in changes:
        # A new owner replaces the old one, whichever kind it was.
        changes.setdefault("owner", None)
        changes.setdefault("owner_department", None)
    if unknown := set(changes) - PROBLEM_FIELDS:
        raise ValueError(f"not problem fields: {sorted(unknown)}")
    changed = [k for k, v in changes.items() if getattr(locked, k) != v]
    checked = {k: changes[k] for k in changed}
    if {"owner", "owner_department"} & set(changed):
        checked.update(owner=changes["owner"], owner_department=changes["owner_department"])
    _check_problem_fields(checked, locked.child, new=False)
    moved = after_status != before_status
    if not changed and not moved:
        return locked
    now = timezone.now()
    for key in changed:
        value = changes[key]
        setattr(locked, key, value.strip() if isinstance(value, str) else value)
    if moved:
        locked.status = after_status
        if after_status in rules.PROBLEM_CLOSED:
            locked.outcome = text.strip()
            locked.closed_on = timezone.localdate(now)
        else:
            locked.closed_on = None
    locked.version = version + 1
    locked._history_user = actor  # type: ignore[attr-defined]
    locked.save()
    if moved:
        ConcernAction.objects.create(
            concern=locked,
            at=now,
            actor=actor,
            kind=ActionKind.STATUS,
            text=text.strip(),
            from_status=before_status,
            to_status=after_status,
        )
    reassigned = {"owner", "owner_department"} & set(changed)
    if reassigned or "due_on" in changed:
        due_on = locked.due_on
        ConcernAction.objects.create(
            concern=locked,
            at=now,
            actor=actor,
            kind=ActionKind.ASSIGN,
            owner=locked.owner,
            owner_department=locked.owner_department,
            text=(
                _in_chinese(lambda: _("Due on %(day)s") % {"day": date_format(due_on)})
                if due_on
                else ""
            ),
        )
    detail: dict[str, Any] = {"fields": sorted(changed), "version": locked.version}
    if moved:
        detail.update({"from": before_status.value, "to": after_status.value})
    audit_object(
        actor,
        "concern.update",
        locked,
        request=request,
        detail={"child": str(locked.child.public_id), **detail},
    )
    if reassigned and (locked.owner_id or locked.owner_department_id):
        _notify_owner(locked)
    if moved or "severity" in changed or "category" in changed:
        problems_changed.send(sender=Concern, children=(locked.child,))
    return locked


@transaction.atomic
def problem_action_add(
    *, actor: User, concern: Concern, text: str, request: HttpRequest | None = None
) -> ConcernAction:
    """Record what was done about the problem (an entry of its timeline; the problem itself
    does not change, so no version is needed)."""
    if not access.problem_view(actor, concern).acts:
        raise PermissionDenied
    if not text.strip():
        raise ValidationError({"text": [_("Say what was done.")]})
    if len(text) > 2000:
        raise ValidationError({"text": [_("At most %(n)d characters.") % {"n": 2000}]})
    action = ConcernAction.objects.create(
        concern=concern, actor=actor, kind=ActionKind.ACTION, text=text.strip()
    )
    audit_object(
        actor,
        "concern.action",
        concern,
        request=request,
        detail={"child": str(concern.child.public_id)},
    )
    return action


# --- problems: reads -------------------------------------------------------------------------


def problems_for(user: User) -> QuerySet[Concern]:
    return Concern.objects.filter(access.problems_q(user)).select_related(
        "child__village", "owner", "owner_department"
    )


def get_problem_for_user(user: User, code: Any) -> tuple[Concern, access.ProblemView]:
    """One problem and what the user may do with it, or 404 alike for "not there" and "not
    yours"."""
    try:
        concern = problems_for(user).get(public_id=uuid.UUID(str(code)))
    except (Concern.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    view = access.problem_view(user, concern)
    if not view.visible:
        raise Http404
    return concern, view


def _open_first(problems: QuerySet[Concern]) -> QuerySet[Concern]:
    return problems.order_by(
        Case(
            When(status__in=OPEN_STATUSES, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        F("due_on").asc(nulls_last=True),
        "-created_at",
        "pk",
    )


def child_problems(child: Child) -> QuerySet[Concern]:
    """The child's problems, open ones first (the nearest due first), then the closed."""
    return _open_first(
        Concern.objects.filter(child=child).select_related("owner", "owner_department")
    )


def overdue_q(today: date | None = None) -> Q:
    return Q(status__in=OPEN_STATUSES, due_on__lt=today or timezone.localdate())


def my_problems(user: User) -> QuerySet[Concern]:
    """The problems the user owns, in person or through their department."""
    q = Q(owner=user)
    if user.role == Role.DEPARTMENT_OFFICER and user.organisation_id is not None:
        q |= Q(owner_department_id=user.organisation_id)
    return _open_first(
        Concern.objects.filter(q).select_related("child__village", "owner", "owner_department")
    )


def problem_timeline(concern: Concern) -> list[ConcernAction]:
    return list(
        ConcernAction.objects.filter(concern=concern).select_related("actor", "owner_department")
    )


def problem_opened(*, actor: User, concern: Concern, request: HttpRequest | None = None) -> None:
    audit_object(
        actor,
        "concern.view",
        concern,
        request=request,
        detail={"child": str(concern.child.public_id)},
    )


def problem_list_opened(
    *, actor: User, count: int, child: Child | None = None, request: HttpRequest | None = None
) -> None:
    """The problems of one child (filed under the child), or the actor's list of problems."""
    if child is None:
        list_opened(
            actor=actor,
            action="concern.list",
            object_type=PROBLEM_OBJECT,
            count=count,
            request=request,
        )
        return
    audit_record(
        actor=actor,
        action="concern.list",
        object_type="child",
        object_code=str(child.public_id),
        division_code=child.village_id,
        request=request,
        detail={"count": count},
    )


def problem_access_denied(*, actor: User, code: str, request: HttpRequest | None = None) -> None:
    audit_denied(
        actor=actor, action="concern.view", object_type=PROBLEM_OBJECT, code=code, request=request
    )


def _problem_line(concern: Concern, today: date, *, with_owner: bool = False) -> PanelLine:
    overdue = concern.is_overdue(today)
    text = f"{concern.child.name} — {concern.get_category_display()}"
    if concern.due_on:
        text += " · " + _("due by %(due)s") % {"due": date_format(concern.due_on, "DATE_FORMAT")}
    if overdue:
        text += " · " + _("overdue")
    if with_owner and (concern.owner or concern.owner_department):
        text += f" · {concern.owner or concern.owner_department}"
    url = reverse("reports:problem_detail", args=[concern.public_id])
    return PanelLine(text, url, "field-error" if overdue else "")


def my_problems_panel(user: User, limit: int = 10) -> tuple[list[PanelLine], int]:
    """The owner's open problems, the overdue first: a home panel."""
    today = timezone.localdate()
    open_ = my_problems(user).filter(status__in=OPEN_STATUSES)
    return [_problem_line(c, today) for c in open_[:limit]], open_.count()


def overdue_problems_panel(user: User, limit: int = 10) -> tuple[list[PanelLine], int]:
    """Overdue problems in the supervisor's area (a town supervisor's villages, the county),
    with their owners: a home panel."""
    if not user.reads_child_files:
        return [], 0
    today = timezone.localdate()
    overdue = (
        Concern.objects.visible_to(user)
        .filter(overdue_q(today))
        .select_related("child__village", "owner", "owner_department")
        .order_by("due_on", "pk")
    )
    return [_problem_line(c, today, with_owner=True) for c in overdue[:limit]], overdue.count()


# --- referrals: writes -----------------------------------------------------------------------


def _source_child(concern: Concern | None, report: MandatoryReport | None) -> Child | None:
    if concern is not None:
        return concern.child
    assert report is not None
    return report.child


def _check_sections(
    sections: list[str], concern: Concern | None, report: MandatoryReport | None
) -> list[str]:
    chosen = [s for s in ReferralSection.values if s in set(sections)]
    errors: list[str] = []
    if not sections:
        errors.append(_("Choose at least one section to share."))
    elif len(chosen) != len(set(sections)):
        errors.append(_("Choose the sections from the list."))
    elif ReferralSection.PROBLEM in chosen and concern is None:
        errors.append(_("Only a problem's referral shares the problem."))
    elif ReferralSection.REPORT in chosen and report is None:
        errors.append(_("Only a report's referral shares what the report says."))
    elif ReferralSection.FAMILY in chosen and _source_child(concern, report) is None:
        errors.append(_("The child is not linked to a file yet: there is no family to share."))
    if errors:
        raise ValidationError({"sections": errors})
    return chosen


def _department_recipients(department_id: int) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True, role=Role.DEPARTMENT_OFFICER, organisation_id=department_id
        ).order_by("pk")
    )


def _county_admins(county_code: str) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True, role=Role.COUNTY_ADMIN, division_id=f"{county_code}000000"
        ).order_by("pk")
    )


def _send_mail(notes: list[Any]) -> None:

    if notes:
        transaction.on_commit(partial(notifications.email_pending, notes))


@transaction.atomic
def referral_send(
    *,
    actor: User,
    department: Organisation,
    reason: str,
    sections: list[str],
    concern: Concern | None = None,
    report: MandatoryReport | None = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Referral:
    """Refer a problem (county officers, town supervisors who keep the file) or a mandatory
    report (county officers, the handling department) to another department of the county,
    sharing only ``sections``. Its officers are told at once; the acceptance clock starts."""
    if (concern is None) == (report is None):
        raise ValueError("refer a problem or a report")
    if concern is not None and not access.refers_problem(actor, concern):
        raise PermissionDenied
    if report is not None and not access.refers_report(actor, report):
        raise PermissionDenied
    if concern is not None and not concern.is_open:
        raise Conflict(_("A closed problem is not referred: reopen it first."))
    if report is not None and not report.is_open:
        raise Conflict(_("An ended report is not referred."))
    division_id = concern.child.village_id if concern is not None else report.division_id  # type: ignore[union-attr]
    county_code = division_id[:6]
    errors: dict[str, list[str]] = {}
    allowed = department_choices(county_code, REFERRAL_DEPARTMENTS).exclude(
        pk=actor.organisation_id or 0
    )
    if not allowed.filter(pk=department.pk).exists():
        errors["department"] = [_("Choose a department of this county to refer to.")]
    if not reason.strip():
        errors["reason"] = [_("Give the reason for the referral.")]
    elif len(reason) > 2000:
        errors["reason"] = [_("At most %(n)d characters.") % {"n": 2000}]
    try:
        chosen = _check_sections(sections, concern, report)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        chosen = []
    if errors:
        raise ValidationError(errors)
    already = Referral.objects.open().filter(department=department)
    already = already.filter(concern=concern) if concern else already.filter(report=report)
    if already.exists():
        raise Conflict(_("It is already referred to this department and still open there."))
    now = now or timezone.now()
    referral = Referral.objects.create(
        county_code=county_code,
        division_id=division_id,
        child=_source_child(concern, report),
        concern=concern,
        report=report,
        department=department,
        reason=reason.strip(),
        sections=chosen,
        sent_by=actor,
        sent_at=now,
        acceptance_due_at=rules.referral_acceptance_due(
            now, policy.clock_policy(), calendar=work_calendar()
        ),
    )
    if concern is not None:
        ConcernAction.objects.create(
            concern=concern,
            at=now,
            actor=actor,
            kind=ActionKind.REFERRAL,
            owner_department=department,
            text=reason.strip(),
            to_status=ReferralStatus.SENT,
        )
    audit_object(
        actor,
        "referral.send",
        referral,
        request=request,
        division_code=referral.division_id,
        detail={
            "department": str(referral.department.public_id),
            "source": "problem" if concern else "report",
            "source_code": str((concern or report).public_id),  # type: ignore[union-attr]
            "sections": chosen,
        },
    )
    _notify_sent(referral)
    return referral


def _notify_sent(referral: Referral) -> None:

    due = timezone.localtime(referral.acceptance_due_at)
    title = _in_chinese(
        lambda: (
            _("New referral for your department: accept or decline by %(due)s")
            % {"due": date_format(due, "SHORT_DATETIME_FORMAT")}
        )
    )
    url = reverse("reports:referral_detail", args=[referral.public_id])
    notes = []
    for user in _department_recipients(referral.department_id):
        note, created = notifications.notify(
            recipient=user,
            kind="referral_received",
            title=title,
            url=url,
            key=f"referral:{referral.public_id}:sent",
        )
        if created:
            notes.append(note)
    _send_mail(notes)


def _notify_sender(referral: Referral) -> None:

    def text() -> str:
        if referral.status == ReferralStatus.ACCEPTED:
            return _("%(department)s accepted your referral") % {
                "department": referral.department.name
            }
        if referral.status == ReferralStatus.DECLINED:
            return _("%(department)s declined your referral") % {
                "department": referral.department.name
            }
        return _("%(department)s recorded the outcome of your referral") % {
            "department": referral.department.name
        }

    notifications.notify(
        recipient=referral.sent_by,
        kind="referral_" + referral.status,
        title=_in_chinese(text),
        url=reverse("reports:referral_detail", args=[referral.public_id]),
        key=f"referral:{referral.public_id}:{referral.status}",
    )


@transaction.atomic
def referral_transition(
    *,
    actor: User,
    referral: Referral,
    transition: str,
    reason: str = "",
    outcome: str = "",
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Referral:
    """Accept, decline (with the reason) or complete (with the outcome) a referral: its
    receiving department's officers only (others → PermissionDenied); not from this status →
    Conflict; a missing reason or outcome → ValidationError."""
    if actor.is_read_only:
        raise PermissionDenied
    try:
        step = rules.ReferralTransition(transition)
    except ValueError as exc:
        raise ValidationError({"transition": [_("Not a step of the referral.")]}) from exc
    locked = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("department", "sent_by", "concern", "report")
        .get(pk=referral.pk)
    )
    # The receiving department, while the referral is open (closed: it holds nothing more).
    if access.ReferralParty.RECEIVER not in access.referral_view(actor, locked).parties:
        raise PermissionDenied
    before = rules.ReferralStatus(locked.status)
    try:
        target = rules.referral_target(before, step)
    except ValueError as exc:
        raise Conflict(
            _("This step is not possible while the referral is “%(status)s”.")
            % {"status": locked.get_status_display()}
        ) from exc
    needs = rules.REFERRAL_STEPS[step][2]
    if needs == "reason" and not reason.strip():
        raise ValidationError({"reason": [_("Give the reason for declining.")]})
    if needs == "outcome" and not outcome.strip():
        raise ValidationError({"outcome": [_("Record the outcome.")]})
    now = now or timezone.now()
    locked.status = target
    if step in (rules.ReferralTransition.ACCEPT, rules.ReferralTransition.DECLINE):
        locked.decided_by, locked.decided_at = actor, now
    if step == rules.ReferralTransition.DECLINE:
        locked.decline_reason = reason.strip()[:2000]
    if step == rules.ReferralTransition.COMPLETE:
        locked.done_by, locked.done_at = actor, now
        locked.outcome = outcome.strip()[:2000]
    locked.version += 1
    locked.save()
    if locked.concern is not None:
        ConcernAction.objects.create(
            concern=locked.concern,
            at=now,
            actor=actor,
            kind=ActionKind.REFERRAL,
            owner_department=locked.department,
            text=(reason or outcome).strip()[:2000],
            from_status=before,
            to_status=target,
        )
    audit_object(
        actor,
        f"referral.{step.value}",
        locked,
        request=request,
        division_code=locked.division_id,
        detail={
            "department": str(locked.department.public_id),
            **{"from": before.value, "to": target},
        },
    )
    _notify_sender(locked)
    return locked


def _overdue_title(referral: Referral) -> str:
    return _("Referral to %(department)s not accepted in time (sent %(sent)s)") % {
        "department": referral.department.name,
        "sent": date_format(timezone.localtime(referral.sent_at), "DATE_FORMAT"),
    }


def referral_escalations(*, now: datetime | None = None) -> int:
    """Escalate each referral not accepted (nor declined) by its deadline to the county's
    civil-affairs officers and its sender, once (``manage.py report_clocks``, hourly);
    returns the notifications written."""
    now = now or timezone.now()
    late = (
        Referral.objects.filter(status=ReferralStatus.SENT, acceptance_due_at__lt=now)
        .select_related("department", "sent_by")
        .order_by("pk")
    )
    written: list[Any] = []
    admins: dict[str, list[User]] = {}
    for referral in late:
        if referral.county_code not in admins:
            admins[referral.county_code] = _county_admins(referral.county_code)
        title = _in_chinese(partial(_overdue_title, referral))
        recipients = {u.pk: u for u in [*admins[referral.county_code], referral.sent_by]}
        for user in recipients.values():
            if not user.is_active:
                continue
            note, created = notifications.notify(
                recipient=user,
                kind="referral_overdue",
                title=title,
                url=reverse("reports:referral_detail", args=[referral.public_id]),
                key=(
                    f"referral:{referral.public_id}:overdue:"
                    f"{referral.acceptance_due_at.isoformat()}"
                ),
            )
            if created:
                written.append(note)
        if referral.escalated_at is None:
            Referral.objects.filter(pk=referral.pk).update(escalated_at=now)
            audit_record(
                actor=None,
                action="referral.escalate",
                object_type=REFERRAL_OBJECT,
                object_code=str(referral.public_id),
                division_code=referral.division_id,
                detail={"department": str(referral.department.public_id)},
            )
    notifications.email_pending(written)
    return len(written)


# --- referrals: reads ------------------------------------------------------------------------


def referrals_for(user: User) -> ReferralQuerySet:
    return Referral.objects.visible_to(user).select_related(
        "department", "division", "sent_by", "report", "concern", "child"
    )


def get_referral_for_user(user: User, code: Any) -> tuple[Referral, access.ReferralView]:
    """One referral and what the user may see of it, or 404 alike for "not there", "not
    yours" and "no longer yours" (a receiver once it is declined or done)."""
    try:
        referral = referrals_for(user).get(public_id=uuid.UUID(str(code)))
    except (Referral.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    view = access.referral_view(user, referral)
    if not view.visible:
        raise Http404
    return referral, view


def referral_opened(
    *,
    actor: User,
    referral: Referral,
    view: access.ReferralView,
    request: HttpRequest | None = None,
) -> None:
    """Every opening, with the view and the sections shown (never their content)."""
    audit_object(
        actor,
        "referral.view",
        referral,
        request=request,
        division_code=referral.division_id,
        detail={
            "department": str(referral.department.public_id),
            "view": view.level,
            "sections": list(view.sections),
        },
    )


def referral_access_denied(*, actor: User, code: str, request: HttpRequest | None = None) -> None:
    audit_denied(
        actor=actor, action="referral.view", object_type=REFERRAL_OBJECT, code=code, request=request
    )


def referral_list_opened(*, actor: User, count: int, request: HttpRequest | None = None) -> None:
    list_opened(
        actor=actor,
        action="referral.list",
        object_type=REFERRAL_OBJECT,
        count=count,
        request=request,
    )


def referrals_of(
    user: User, *, concern: Concern | None = None, report: MandatoryReport | None = None
) -> list[tuple[Referral, access.ReferralView]]:
    """The referrals of a problem or a report the user may see, newest first."""
    found = referrals_for(user)
    found = found.filter(concern=concern) if concern is not None else found.filter(report=report)
    return [(r, access.referral_view(user, r)) for r in found]


def referral_is_overdue(referral: Referral, now: datetime | None = None) -> bool:
    return rules.referral_overdue(
        rules.ReferralStatus(referral.status), referral.acceptance_due_at, now or timezone.now()
    )


def referral_due_guessed_years(
    referral: Referral, calendar: WorkCalendar, clock_policy: rules.ClockPolicy
) -> tuple[int, ...]:
    """The years whose holidays the referral's acceptance deadline guessed (none: certain; or
    the referral no longer waits for acceptance)."""
    if referral.status != ReferralStatus.SENT:
        return ()
    return rules.guessed_years(
        referral.sent_at,
        referral.acceptance_due_at,
        clock_policy.referral_acceptance,
        clock_policy.tz,
        calendar,
    )


@transaction.atomic
def referral_deadlines_refresh(*, years: Any) -> int:
    """The working-day calendar changed for ``years``: the acceptance deadlines of referrals
    still waiting that count days of those years are counted again (with the limit in force
    now). Returns how many moved."""
    wanted = sorted(set(years))
    clock_policy = policy.clock_policy()
    limit = clock_policy.referral_acceptance
    if not wanted or limit.unit == rules.Unit.HOURS:
        return 0
    calendar = work_calendar()
    moved = 0
    waiting = Referral.objects.filter(
        status=ReferralStatus.SENT,
        sent_at__year__lte=wanted[-1],
        acceptance_due_at__year__gte=wanted[0],
    ).values_list("pk", "sent_at", "acceptance_due_at")
    for pk, sent_at, stored in waiting:
        counted = rules.deadline(sent_at, limit, clock_policy.tz, calendar)
        if counted != stored:
            Referral.objects.filter(pk=pk).update(acceptance_due_at=counted)
            moved += 1
    return moved


@dataclass(frozen=True)
class Shared:
    """The sections a referral shows one viewer: plain data for the page and the API."""

    child: dict[str, Any] | None = None
    family: dict[str, Any] | None = None
    problem: dict[str, Any] | None = None
    report: dict[str, Any] | None = None


def _masked(value: str, view: access.ReferralView) -> str:
    return access.MASK if view.names_masked and value else value


def shared_sections(referral: Referral, view: access.ReferralView) -> Shared:
    """The shared sections the viewer may see, built from the file as it is now (the minimum:
    no ID numbers, no phone of the child, no reporter, no attachments)."""
    shown = set(view.sections)
    child = referral.child
    report = referral.report
    data: dict[str, Any] = {}
    if ReferralSection.CHILD in shown:
        if child is not None:
            data["child"] = {
                "name": _masked(child.name, view),
                "gender": child.get_gender_display(),
                "birth_date": child.birth_date,
                "village": child.village.name,
                "school": child.school,
                "grade": child.grade,
                "enrolment": child.get_enrolment_display(),
                "categories": [c.get("code", "") for c in child.categories],
            }
        elif report is not None:
            data["child"] = {
                "name": _masked(report.child_name, view),
                "gender": report.get_child_gender_display(),
                "age": report.child_age,
                "village": report.child_village.name if report.child_village else "",
                "address": _masked(report.child_address, view),
            }
    if ReferralSection.FAMILY in shown and child is not None:
        household = child.household
        data["family"] = {
            "address": _masked(household.address, view),
            "caregiver_name": _masked(household.caregiver_name, view),
            "caregiver_relation": household.caregiver_relation,
            "caregiver_phone": household.caregiver_phone,
            "dibao": household.dibao,
            "tekun": household.tekun,
            "parents": [
                {
                    "role": p.get_role_display(),
                    "status": p.get_status_display(),
                    "capacity": p.get_capacity_display(),
                    "away": any(m.returned_on is None for m in p.migrations.all()),
                }
                for p in household.parents.prefetch_related("migrations").order_by("role")
            ],
        }
    if ReferralSection.PROBLEM in shown and referral.concern is not None:
        concern = referral.concern
        data["problem"] = {
            "category": concern.get_category_display(),
            "severity": concern.get_severity_display(),
            "description": concern.description,
            "solution": concern.solution,
            "status": concern.get_status_display(),
            "due_on": concern.due_on,
        }
    if ReferralSection.REPORT in shown and report is not None:
        data["report"] = {
            "receipt_no": report.receipt_no,
            "urgency": report.get_urgency_display(),
            "harms": [h.get_harm_display() for h in report.harms.order_by("pk")],
            "facts": report.facts,
            "discovered_at": report.discovered_at,
            "discovered_where": report.discovered_where,
        }
    return Shared(**data)


def incoming_panel(user: User, limit: int = 10) -> tuple[list[PanelLine], int]:
    """Open referrals to the officer's department, those awaiting acceptance first (the
    overdue flagged): a home panel."""
    if user.role != Role.DEPARTMENT_OFFICER or user.organisation_id is None:
        return [], 0
    waiting = (
        referrals_for(user)
        .filter(department_id=user.organisation_id)
        .open()
        .order_by(
            Case(
                When(status=ReferralStatus.SENT, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            "acceptance_due_at",
            "pk",
        )
    )
    now = timezone.now()
    lines = []
    for referral in waiting[:limit]:
        overdue = referral_is_overdue(referral, now)
        text = _("%(area)s · %(status)s · sent %(sent)s") % {
            "area": referral.division.name,
            "status": referral.get_status_display(),
            "sent": date_format(timezone.localtime(referral.sent_at), "DATE_FORMAT"),
        }
        if referral.status == ReferralStatus.SENT:
            text += " · " + _("accept by %(due)s") % {
                "due": date_format(
                    timezone.localtime(referral.acceptance_due_at), "SHORT_DATETIME_FORMAT"
                )
            }
        lines.append(
            PanelLine(
                text,
                reverse("reports:referral_detail", args=[referral.public_id]),
                "field-error" if overdue else "",
            )
        )
    return lines, waiting.count()


def referral_source_in(user: User, *, problem: Any = None, report: Any = None) -> Any:
    """The problem or report to refer, fetched through the user's own access (404 else)."""
    if problem:
        return get_problem_for_user(user, problem)[0]
    if report:
        from tongxin.protection import selectors

        return selectors.get_report_for_user(user, report)[0]
    raise Http404
