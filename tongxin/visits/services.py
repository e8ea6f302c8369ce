"""Writes of the visits app: contacts and their credits, addenda, problems raised from a
contact, the work log, risk overrides and cadence versions. Each runs in one transaction with
its audit entry; notes and problem texts are never written to the audit detail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.audit.services import audit_record
from tongxin.geo.scope import in_scope
from tongxin.protection.models import Concern, ConcernCategory, Severity
from tongxin.registry.models import Child, ChildStatus, Household
from tongxin.registry.selectors import record_changes
from tongxin.registry.services import StaleEdit
from tongxin.visits import rules
from tongxin.visits.models import (
    CHECKLIST_FIELDS,
    CadencePolicyVersion,
    Check,
    ChildRisk,
    Contact,
    ContactAddendum,
    ContactCredit,
    ContactKind,
    RiskLevel,
    WorkLogEntry,
    policy_versions,
)
from tongxin.visits.risk import risk_refresh

# The fields of a contact its author sets (the rest is bookkeeping).
CONTACT_FIELDS = frozenset(
    {
        "kind",
        "day",
        "time",
        "met_child",
        "met_caregiver",
        "met_parent",
        "notes",
        "latitude",
        "longitude",
        *CHECKLIST_FIELDS,
    }
)
# The checklist item a concern comes from → the problem's category.
CHECKLIST_CATEGORY = {
    "check_living": ConcernCategory.GUARDIANSHIP,
    "check_safety": ConcernCategory.SAFETY,
    "check_schooling": ConcernCategory.SCHOOLING,
    "check_health": ConcernCategory.HEALTH,
    "check_mood": ConcernCategory.PSYCHOLOGICAL,
    "check_caregiver": ConcernCategory.GUARDIANSHIP,
    "check_parents_weekly": ConcernCategory.GUARDIANSHIP,
    "check_agreement": ConcernCategory.GUARDIANSHIP,
}
# Who may set a risk override or change the cadence.
RISK_OVERRIDE_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWN_SUPERVISOR})
POLICY_ROLES = frozenset({Role.COUNTY_ADMIN})


class EditWindowClosed(Exception):
    """The contact is older than the edit window: add an addendum instead."""


def _check_writer(actor: User, village_code: str) -> None:
    if actor.is_read_only or not actor.keeps_child_files or not in_scope(actor, village_code):
        raise PermissionDenied


def _audit(
    actor: User, action: str, obj_type: str, code: Any, division: str, request: Any, **detail: Any
) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=obj_type,
        object_code=str(code),
        division_code=division,
        request=request,
        detail=detail,
    )


@dataclass(frozen=True)
class ProblemInput:
    """A problem found during a contact: the checklist item it comes from, what was found, the
    proposed solution, who owns it and by when."""

    checklist_item: str
    description: str
    solution: str = ""
    severity: str = Severity.MEDIUM
    owner: User | None = None
    due_on: date | None = None
    child: Child | None = None  # default: every child the contact is credited to


@dataclass(frozen=True)
class Recorded:
    contact: Contact
    created: bool  # False: an earlier request with the same Idempotency-Key recorded it


def _validate_contact(fields: dict[str, Any], today: date) -> None:
    if unknown := set(fields) - CONTACT_FIELDS:
        raise ValueError(f"not contact fields: {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    if fields.get("kind") not in ContactKind.values:
        errors["kind"] = [_("Choose how the contact was made.")]
    day = fields.get("day")
    if not isinstance(day, date):
        errors["day"] = [_("Give the date of the contact.")]
    elif day > today:
        errors["day"] = [_("The date of a contact cannot be in the future.")]
    for name in CHECKLIST_FIELDS:
        if fields.get(name, Check.NOT_SEEN) not in Check.values:
            errors[name] = [_("Choose good, concern or not seen.")]
    if errors:
        raise ValidationError(errors)


def _credited(household: Household, children: list[Child], kind: str, day: date) -> list[Child]:
    """The children a contact counts for: a home visit counts for every child of the household
    who was registered by then and still active; another kind for the children named."""
    if kind == ContactKind.HOME_VISIT:
        siblings = list(
            household.children.filter(status=ChildStatus.ACTIVE, registered_on__lte=day)
        )
        named = {c.pk for c in children}
        return (
            siblings + [c for c in children if c.pk not in {s.pk for s in siblings}]
            if named
            else siblings
        )
    return children


def _write_credits(contact: Contact, children: list[Child]) -> None:
    ContactCredit.objects.filter(contact=contact).delete()
    ContactCredit.objects.bulk_create(
        ContactCredit(
            contact=contact,
            child=child,
            household_id=contact.household_id,
            day=contact.day,
            author_role=contact.author_role,
            home_visit=contact.kind == ContactKind.HOME_VISIT,
        )
        for child in children
    )


@transaction.atomic
def contact_record(
    *,
    actor: User,
    household: Household,
    children: list[Child],
    fields: dict[str, Any],
    problems: list[ProblemInput] = (),  # type: ignore[assignment]
    idempotency_key: str = "",
    request: HttpRequest | None = None,
) -> Recorded:
    """Record a contact with a household about ``children`` (a home visit: every child of the
    household). A retried request with the same ``idempotency_key`` returns the first one."""
    _check_writer(actor, household.village_id)
    key = idempotency_key.strip()[:100]
    if key:
        existing = Contact.objects.filter(author=actor, idempotency_key=key).first()
        if existing is not None:
            return Recorded(existing, created=False)
    today = timezone.localdate()
    _validate_contact(fields, today)
    if any(c.household_id != household.pk for c in children):
        raise ValidationError({"children": [_("Every child must belong to the household.")]})
    if not children and fields["kind"] != ContactKind.HOME_VISIT:
        raise ValidationError({"children": [_("Choose the child the contact was about.")]})
    credited = _credited(household, children, fields["kind"], fields["day"])
    if not credited:
        raise ValidationError(
            {"children": [_("No child of this household was registered on that date.")]}
        )
    contact = Contact(
        household=household,
        village_id=household.village_id,
        author=actor,
        author_role=actor.role,
        idempotency_key=key,
        **fields,
    )
    contact._history_user = actor  # type: ignore[attr-defined]
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError:
        # The same key arrived twice at once: the other request recorded it.
        existing = Contact.objects.filter(author=actor, idempotency_key=key).first()
        if existing is None:
            raise
        return Recorded(existing, created=False)
    _write_credits(contact, credited)
    _audit(
        actor,
        "contact.record",
        "contact",
        contact.public_id,
        household.village_id,
        request,
        kind=contact.kind,
        day=contact.day.isoformat(),
        children=len(credited),
    )
    raised = _raise_problems(actor, contact, credited, problems, request)
    for child in {c.pk: c for c in raised}.values():
        risk_refresh(child)
    return Recorded(contact, created=True)


def _raise_problems(
    actor: User,
    contact: Contact,
    credited: list[Child],
    problems: Any,
    request: HttpRequest | None,
) -> list[Child]:
    touched: list[Child] = []
    for problem in problems:
        if problem.checklist_item not in CHECKLIST_FIELDS:
            raise ValueError(f"not a checklist item: {problem.checklist_item}")
        if getattr(contact, problem.checklist_item) != Check.CONCERN:
            raise ValidationError(
                {
                    problem.checklist_item: [
                        _("A problem needs its checklist item marked 'concern'.")
                    ]
                }
            )
        if not problem.description.strip():
            raise ValidationError({problem.checklist_item: [_("Describe the problem found.")]})
        for child in [problem.child] if problem.child else credited:
            concern = Concern(
                child=child,
                contact=contact,
                checklist_item=problem.checklist_item,
                category=CHECKLIST_CATEGORY[problem.checklist_item],
                severity=problem.severity,
                description=problem.description.strip(),
                solution=problem.solution.strip(),
                owner=problem.owner,
                due_on=problem.due_on,
                created_by=actor,
            )
            concern._history_user = actor  # type: ignore[attr-defined]
            concern.save()
            _audit(
                actor,
                "concern.raise",
                "concern",
                concern.public_id,
                child.village_id,
                request,
                child=str(child.public_id),
                category=concern.category,
                severity=concern.severity,
            )
            touched.append(child)
    return touched


def contact_opened(*, actor: User, contact: Contact, request: HttpRequest | None = None) -> None:
    """A contact was read (its page or the API): attributable like a read of the file."""
    _audit(actor, "contact.view", "contact", contact.public_id, contact.village_id, request)


def contact_editable_until(contact: Contact) -> Any:
    return contact.created_at + timedelta(hours=Contact.EDIT_WINDOW_HOURS)


def contact_can_edit(actor: User, contact: Contact) -> bool:
    return (
        contact.author_id == actor.pk
        and not actor.is_read_only
        and timezone.now() <= contact_editable_until(contact)
    )


@transaction.atomic
def contact_update(
    *,
    actor: User,
    contact: Contact,
    version: int,
    changes: dict[str, Any],
    request: HttpRequest | None = None,
) -> Contact:
    """The author's correction within the edit window, based on ``version``."""
    if contact.author_id != actor.pk or actor.is_read_only:
        raise PermissionDenied
    if timezone.now() > contact_editable_until(contact):
        raise EditWindowClosed
    merged = {f: getattr(contact, f) for f in CONTACT_FIELDS} | changes
    _validate_contact(merged, timezone.localdate())
    current = (
        Contact.objects.select_for_update()
        .filter(pk=contact.pk)
        .values_list("version", flat=True)
        .first()
    )
    if current != version:
        records = list(contact.history.order_by("history_date", "history_id"))
        meanwhile = record_changes(Contact, records, str(Contact._meta.verbose_name), version)
        raise StaleEdit(int(current or 0), meanwhile)
    changed = [k for k, v in changes.items() if getattr(contact, k) != v]
    if not changed:
        return contact
    for key in changed:
        setattr(contact, key, changes[key])
    contact.version = version + 1
    contact._history_user = actor  # type: ignore[attr-defined]
    contact.save()
    if {"kind", "day"} & set(changed):
        named = [cr.child for cr in contact.credits.select_related("child")]
        if contact.kind != ContactKind.HOME_VISIT:
            # Kept: the children it was credited to (a home visit's siblings included).
            credited = named
        else:
            credited = _credited(contact.household, named, contact.kind, contact.day)
        _write_credits(contact, credited)
    _audit(
        actor,
        "contact.update",
        "contact",
        contact.public_id,
        contact.village_id,
        request,
        fields=sorted(changed),
    )
    return contact


@transaction.atomic
def addendum_add(
    *, actor: User, contact: Contact, text: str, request: HttpRequest | None = None
) -> ContactAddendum:
    """Add to a contact without changing it: its author after the edit window, or a
    supervisor or officer with the file in scope."""
    _check_writer(actor, contact.village_id)
    if not text.strip():
        raise ValidationError({"text": [_("Write the addendum.")]})
    addendum = ContactAddendum.objects.create(contact=contact, author=actor, text=text.strip())
    _audit(actor, "contact.addendum", "contact", contact.public_id, contact.village_id, request)
    return addendum


@transaction.atomic
def concern_raise(
    *,
    actor: User,
    child: Child,
    fields: dict[str, Any],
    request: HttpRequest | None = None,
) -> Concern:
    """Record a problem found outside a contact."""
    _check_writer(actor, child.village_id)
    allowed = {"category", "severity", "description", "solution", "owner", "due_on"}
    if unknown := set(fields) - allowed:
        raise ValueError(f"not problem fields: {sorted(unknown)}")
    if not str(fields.get("description", "")).strip():
        raise ValidationError({"description": [_("Describe the problem found.")]})
    concern = Concern(child=child, created_by=actor, **fields)
    concern.full_clean(exclude=["contact", "created_by"])
    concern._history_user = actor  # type: ignore[attr-defined]
    concern.save()
    _audit(
        actor,
        "concern.raise",
        "concern",
        concern.public_id,
        child.village_id,
        request,
        child=str(child.public_id),
        category=concern.category,
        severity=concern.severity,
    )
    risk_refresh(child)
    return concern


@transaction.atomic
def worklog_record(
    *,
    actor: User,
    fields: dict[str, Any],
    children: list[Child] = (),  # type: ignore[assignment]
    request: HttpRequest | None = None,
) -> WorkLogEntry:
    """A work-log entry of the actor's own division; the children it concerns must be in scope."""
    if actor.is_read_only or not actor.keeps_child_files or actor.division_id is None:
        raise PermissionDenied
    if any(not in_scope(actor, c.village_id) for c in children):
        raise PermissionDenied
    if fields.get("day") and fields["day"] > timezone.localdate():
        raise ValidationError({"day": [_("The date cannot be in the future.")]})
    entry = WorkLogEntry(author=actor, division_id=actor.division_id, **fields)
    entry.full_clean(exclude=["author", "division"])
    entry.save()
    entry.children.set(children)
    _audit(
        actor,
        "worklog.record",
        "worklog",
        entry.public_id,
        actor.division_id,
        request,
        kind=entry.kind,
        children=len(children),
    )
    return entry


@transaction.atomic
def risk_override_set(
    *,
    actor: User,
    child: Child,
    level: str,
    until: date,
    reason: str,
    request: HttpRequest | None = None,
) -> ChildRisk:
    """An officer sets the child's level until ``until`` (inclusive), with a reason; the
    computed level stays beside it."""
    if actor.role not in RISK_OVERRIDE_ROLES or not in_scope(actor, child.village_id):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    if level not in RiskLevel.values:
        errors["level"] = [_("Choose a risk level.")]
    today = timezone.localdate()
    if until < today:
        errors["until"] = [_("The end date cannot be in the past.")]
    if not reason.strip():
        errors["reason"] = [_("Give the reason for the override.")]
    if errors:
        raise ValidationError(errors)
    risk = risk_refresh(child, as_of=today)
    risk = ChildRisk.objects.select_for_update().get(pk=risk.pk)
    previous = risk.level
    risk.override_level, risk.override_until = level, until
    risk.override_reason, risk.override_by = reason.strip(), actor
    risk.level = level
    risk.version += 1
    risk.save()
    _audit(
        actor,
        "risk.override",
        "child",
        child.public_id,
        child.village_id,
        request,
        level=level,
        previous=previous,
        computed=risk.computed_level,
        until=until.isoformat(),
    )
    return risk


@transaction.atomic
def risk_override_clear(
    *, actor: User, child: Child, request: HttpRequest | None = None
) -> ChildRisk:
    if actor.role not in RISK_OVERRIDE_ROLES or not in_scope(actor, child.village_id):
        raise PermissionDenied
    ChildRisk.objects.filter(pk=child.pk).update(
        override_level="", override_until=None, override_reason="", override_by=None
    )
    risk = risk_refresh(child)
    _audit(actor, "risk.override_clear", "child", child.public_id, child.village_id, request)
    return risk


@transaction.atomic
def policy_version_add(
    *, actor: User, fields: dict[str, Any], request: HttpRequest | None = None
) -> CadencePolicyVersion:
    """A new cadence version from ``effective_from`` (today or later: a past period is never
    re-judged by a rule made after it began)."""
    if actor.role not in POLICY_ROLES:
        raise PermissionDenied
    version = CadencePolicyVersion(created_by=actor, **fields)
    version.full_clean(exclude=["created_by"])
    if version.effective_from < timezone.localdate():
        raise ValidationError({"effective_from": [_("A new policy takes effect today or later.")]})
    rules.check_policies([*policy_versions(), version.as_rule()])
    version.save()
    _audit(
        actor,
        "cadence.policy_add",
        "cadence_policy",
        version.effective_from.isoformat(),
        actor.division_id or "",
        request,
    )
    return version
