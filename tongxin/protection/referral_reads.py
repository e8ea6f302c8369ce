"""Referrals between departments (转介): the reads. Which referrals a user sees, one fetched
through the user's access, the sections of the file it shows one viewer (names masked where
the viewer may not read them), and the home page's panel of referrals waiting.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Case, IntegerField, Value, When
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.protection import access, rules
from tongxin.protection.models import (
    Concern,
    MandatoryReport,
    Referral,
    ReferralQuerySet,
    ReferralSection,
    ReferralStatus,
)
from tongxin.protection.selectors import PanelLine
from tongxin.workdays.rules import WorkCalendar


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
