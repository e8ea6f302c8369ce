"""Referrals between departments (转介): the writes.

A problem or a mandatory report is referred to another department with a reason and only the
sections of the file it needs; the receiving department accepts or declines it (with the
reason), then records the outcome. One not accepted within the limit (3 working days) is
escalated to the county and the sender, once.

Every write is one transaction with its audit entry, and so is every read of a referral. Texts
(reasons, outcomes) never go to a log, an audit entry or a notification: those carry codes,
statuses and counts only.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from tongxin.accounts.models import Department, Organisation, User
from tongxin.accounts.roles import Role
from tongxin.audit.services import audit_denied, audit_object, audit_record
from tongxin.notices import services as notifications
from tongxin.protection import access, policy, rules
from tongxin.protection.models import (
    ActionKind,
    Concern,
    ConcernAction,
    MandatoryReport,
    Referral,
    ReferralSection,
    ReferralStatus,
)
from tongxin.protection.problems import Conflict, department_choices
from tongxin.protection.services.common import in_chinese, list_opened
from tongxin.registry.models import Child
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
REFERRAL_OBJECT = "referral"


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
    title = in_chinese(
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
        title=in_chinese(text),
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
        title = in_chinese(partial(_overdue_title, referral))
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
