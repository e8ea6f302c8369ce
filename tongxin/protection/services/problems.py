"""Writes of the problems (问题) a report or a contact raises: a report's child is under
protection (a high-severity problem) until the report ends; a contact's checklist raises the
problems it found. Problems name the receipt or the contact, never a report's facts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tongxin.accounts.models import User
from tongxin.audit.services import audit_object
from tongxin.protection import access, rules
from tongxin.protection.models import Concern, MandatoryReport
from tongxin.protection.rules import OPEN_STATUSES, ConcernStatus, Severity
from tongxin.protection.signals import problems_changed
from tongxin.registry.models import Child

if TYPE_CHECKING:
    from tongxin.visits.models import Contact
from tongxin.protection.services.common import in_chinese


def raise_report_problems(
    actor: User, report: MandatoryReport, child: Child, request: HttpRequest | None
) -> None:
    """A child in a report has a high-severity problem (one per category its harms raise)
    until the report ends; the problem names the receipt, never the facts or the harm."""
    description = in_chinese(
        lambda: (
            _("Mandatory report %(receipt)s: the child is under protection until it is closed.")
            % {"receipt": report.receipt_no}
        )
    )
    for category in rules.concern_categories(rules.Harm(h) for h in report.harm_values):
        concern = Concern(
            child=child,
            category=category,
            severity=Severity.HIGH,
            description=description,
            created_by=actor,
            report=report,
        )
        save_raised(concern, actor, request, report=str(report.public_id))
    problems_changed.send(sender=Concern, children=(child,))


@dataclass(frozen=True)
class ContactProblem:
    """A problem found during a contact (联系/走访中发现的问题), from one checklist item marked
    "concern", about the children it names (each gets its own problem to follow up)."""

    children: Sequence[Child]
    checklist_item: str
    category: str
    description: str
    solution: str = ""
    severity: str = Severity.MEDIUM
    owner: User | None = None
    due_on: date | None = None


def contact_problems_raise(
    *,
    actor: User,
    contact: Contact,
    problems: Sequence[ContactProblem],
    request: HttpRequest | None = None,
) -> list[Concern]:
    """Record the problems found during ``contact`` (in its transaction: the caller records the
    contact), then tell of the children concerned, each once. Only children of the contact's
    household; the author must keep their files, as for any problem raised."""
    raised: list[Concern] = []
    for problem in problems:
        for child in problem.children:
            if child.household_id != contact.household_id:
                raise ValueError("a contact's problem is about a child of its household")
            if not access.raises_problems(actor, child.village_id):
                raise PermissionDenied
            concern = Concern(
                child=child,
                contact=contact,
                checklist_item=problem.checklist_item,
                category=problem.category,
                severity=problem.severity,
                description=problem.description.strip(),
                solution=problem.solution.strip(),
                owner=problem.owner,
                due_on=problem.due_on,
                created_by=actor,
            )
            save_raised(concern, actor, request, contact=str(contact.public_id))
            raised.append(concern)
    if raised:
        children = tuple({c.child_id: c.child for c in raised}.values())
        problems_changed.send(sender=Concern, children=children)
    return raised


def end_report_problems(actor: User, report: MandatoryReport) -> None:
    outcome = in_chinese(
        lambda: _("The mandatory report %(receipt)s ended.") % {"receipt": report.receipt_no}
    )
    today = timezone.localdate()
    for concern in Concern.objects.filter(report=report, status__in=OPEN_STATUSES):
        concern.status = ConcernStatus.RESOLVED
        concern.outcome = outcome
        concern.closed_on = today
        concern.version += 1
        concern._history_user = actor  # type: ignore[attr-defined]
        concern.save(update_fields=["status", "outcome", "closed_on", "version"])
    if report.child is not None:
        problems_changed.send(sender=Concern, children=(report.child,))


def save_raised(concern: Concern, actor: User, request: HttpRequest | None, **source: str) -> None:
    """Save a problem just raised (its history names the actor) with its audit entry, which
    says what raised it (``report=…`` or ``contact=…``)."""
    concern._history_user = actor  # type: ignore[attr-defined]  # read by simple-history
    concern.save()
    audit_object(
        actor,
        "concern.raise",
        concern,
        division_code=concern.child.village_id,
        request=request,
        detail={
            "child": str(concern.child.public_id),
            "category": concern.category,
            "severity": concern.severity,
            **source,
        },
    )
