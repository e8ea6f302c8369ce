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
from tongxin.audit.services import audit_object, audit_record
from tongxin.core.versions import StaleEdit, record_changes
from tongxin.geo.scope import check_writer, in_scope
from tongxin.lib.plausible import event_date_error
from tongxin.protection import services as protection
from tongxin.protection.rules import ConcernCategory, Severity
from tongxin.registry.models import Child, ChildStatus, Household
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
    RiskOverride,
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
        "child_not_seen_reason",
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
    # The children it is about, each credited by the contact; none given: the contact's child
    # (the first it names), never every sibling of a home visit.
    children: tuple[Child, ...] = ()


@dataclass(frozen=True)
class Recorded:
    contact: Contact
    created: bool  # False: an earlier request with the same Idempotency-Key recorded it


def _gap_message(gap: rules.ContactGap) -> str:
    messages = {
        rules.ContactGap.NOBODY_REACHED: _(
            "Say whom the contact reached: the child, the caregiver or a parent."
        ),
        rules.ContactGap.CHILD_NOT_SEEN: _(
            "A home visit records that the child was seen, or why not: tick the child or give "
            "the reason."
        ),
        rules.ContactGap.LIVING_NOT_SEEN: _(
            "A home visit records the living conditions: choose good or concern."
        ),
        rules.ContactGap.SAFETY_NOT_SEEN: _(
            "A home visit records the safety items: choose good or concern."
        ),
    }
    return messages[gap]


def contact_errors(
    fields: dict[str, Any], *, today: date, born: date | None
) -> dict[str, list[str]]:
    """What is wrong with a contact's fields, by field: the one check the form, the API and the
    services share. ``born``: the birth date of the child whose contact it is (a contact cannot
    predate it)."""
    if unknown := set(fields) - CONTACT_FIELDS:
        raise ValueError(f"not contact fields: {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    kind = fields.get("kind")
    if kind not in ContactKind.values:
        errors["kind"] = [_("Choose how the contact was made.")]
    day = fields.get("day")
    if not isinstance(day, date):
        errors["day"] = [_("Give the date of the contact.")]
    elif message := event_date_error(day, today=today, not_before=born):
        errors["day"] = [message]
    for name in CHECKLIST_FIELDS:
        if fields.get(name, Check.NOT_SEEN) not in Check.values:
            errors[name] = [_("Choose good, concern or not seen.")]
    gaps = rules.contact_gaps(
        kind=str(kind),
        met_child=bool(fields.get("met_child")),
        met_caregiver=bool(fields.get("met_caregiver")),
        met_parent=bool(fields.get("met_parent")),
        child_not_seen_reason=str(fields.get("child_not_seen_reason") or ""),
        checks={name: str(fields.get(name, Check.NOT_SEEN)) for name in CHECKLIST_FIELDS},
    )
    for name, gap in gaps.items():
        errors.setdefault(name, []).append(_gap_message(gap))
    return errors


def _validate_contact(fields: dict[str, Any], today: date, born: date | None) -> None:
    if errors := contact_errors(fields, today=today, born=born):
        raise ValidationError(errors)


def credited_children(
    household: Household, children: list[Child], kind: str, day: date
) -> list[Child]:
    """The children a contact counts for: a home visit counts for every child of the household
    who was registered by then and still active; another kind for the children named. A child
    born after the contact's day is never credited (a sibling born since: the contact was not
    about them)."""
    named = [c for c in children if c.birth_date <= day]
    if kind == ContactKind.HOME_VISIT:
        siblings = list(
            household.children.filter(
                status=ChildStatus.ACTIVE, registered_on__lte=day, birth_date__lte=day
            )
        )
        seen = {s.pk for s in siblings}
        return siblings + [c for c in named if c.pk not in seen]
    return named


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
    check_writer(actor, household.village_id)
    key = idempotency_key.strip()[:100]
    if key:
        existing = Contact.objects.filter(author=actor, idempotency_key=key).first()
        if existing is not None:
            return Recorded(existing, created=False)
    today = timezone.localdate()
    # The first child named is the one whose contact it is (its file's form).
    _validate_contact(fields, today, children[0].birth_date if children else None)
    if any(c.household_id != household.pk for c in children):
        raise ValidationError({"children": [_("Every child must belong to the household.")]})
    if not children and fields["kind"] != ContactKind.HOME_VISIT:
        raise ValidationError({"children": [_("Choose the child the contact was about.")]})
    credited = credited_children(household, children, fields["kind"], fields["day"])
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
    audit_object(
        actor,
        "contact.record",
        contact,
        division_code=household.village_id,
        request=request,
        detail={"kind": contact.kind, "day": contact.day.isoformat(), "children": len(credited)},
    )
    # Protection tells of the children with new problems: their risk is refreshed then.
    protection.contact_problems_raise(
        actor=actor,
        contact=contact,
        problems=_contact_problems(contact, children[0] if children else None, credited, problems),
        request=request,
    )
    return Recorded(contact, created=True)


def _contact_problems(
    contact: Contact, child: Child | None, credited: list[Child], problems: Any
) -> list[protection.ContactProblem]:
    """The problems as protection records them, each about the children it names (by default
    the child whose contact it is), checked against the contact."""
    found = []
    for problem in problems:
        item = problem.checklist_item
        if item not in CHECKLIST_FIELDS:
            raise ValueError(f"not a checklist item: {item}")
        if getattr(contact, item) != Check.CONCERN:
            raise ValidationError(
                {item: [_("A problem needs its checklist item marked 'concern'.")]}
            )
        if not problem.description.strip():
            raise ValidationError({item: [_("Describe the problem found.")]})
        about = list(problem.children) or ([child] if child is not None else [])
        if not about:
            # A home visit recorded for no child in particular: the problem names its child.
            raise ValidationError(
                {f"{item}_children": [_("Choose the child the problem is about.")]}
            )
        if any(c.pk not in {k.pk for k in credited} for c in about):
            raise ValidationError(
                {
                    f"{item}_children": [
                        _("A problem can be about a child this contact counts for only.")
                    ]
                }
            )
        found.append(
            protection.ContactProblem(
                children=about,
                checklist_item=item,
                category=CHECKLIST_CATEGORY[item],
                description=problem.description,
                solution=problem.solution,
                severity=problem.severity,
                owner=problem.owner,
                due_on=problem.due_on,
            )
        )
    return found


def contact_opened(*, actor: User, contact: Contact, request: HttpRequest | None = None) -> None:
    """A contact was read (its page or the API): attributable like a read of the file."""
    audit_object(
        actor,
        "contact.view",
        contact,
        request=request,
    )


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
    named = [cr.child for cr in contact.credits.select_related("child")]
    # Its form is the oldest credited child's: the day may not predate every child's birth.
    born = min((c.birth_date for c in named), default=None)
    _validate_contact(merged, timezone.localdate(), born)
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
        if contact.kind != ContactKind.HOME_VISIT:
            # Kept: the children it was credited to (a home visit's siblings included), but
            # those born after its new day.
            credited = [c for c in named if c.birth_date <= contact.day]
        else:
            credited = credited_children(contact.household, named, contact.kind, contact.day)
        _write_credits(contact, credited)
    audit_object(
        actor,
        "contact.update",
        contact,
        request=request,
        detail={"fields": sorted(changed)},
    )
    return contact


@transaction.atomic
def addendum_add(
    *, actor: User, contact: Contact, text: str, request: HttpRequest | None = None
) -> ContactAddendum:
    """Add to a contact without changing it: its author after the edit window, or a
    supervisor or officer with the file in scope."""
    check_writer(actor, contact.village_id)
    if not text.strip():
        raise ValidationError({"text": [_("Write the addendum.")]})
    addendum = ContactAddendum.objects.create(contact=contact, author=actor, text=text.strip())
    audit_object(
        actor,
        "contact.addendum",
        contact,
        request=request,
    )
    return addendum


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
    audit_object(
        actor,
        "worklog.record",
        entry,
        object_type="worklog",
        division_code=actor.division_id,
        request=request,
        detail={"kind": entry.kind, "children": len(children)},
    )
    return entry


def _end_overrides(actor: User, child: Child, day: date) -> list[RiskOverride]:
    """End the overrides that still hold on ``day`` or later: from ``day`` on they no longer
    apply (one set earlier the same day never applied)."""
    ending = list(
        RiskOverride.objects.select_for_update().filter(
            child=child, cleared_on__isnull=True, ends_on__gte=day
        )
    )
    RiskOverride.objects.filter(pk__in=[o.pk for o in ending]).update(
        cleared_on=day, cleared_by=actor, cleared_at=timezone.now()
    )
    return ending


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
    """An officer sets the child's level from today until ``until`` (inclusive), with a
    reason; the computed level stays beside it. An override still in force ends today: the
    history keeps both."""
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
    replaced = _end_overrides(actor, child, today)
    override = RiskOverride.objects.create(
        child=child,
        level=level,
        starts_on=today,
        ends_on=until,
        reason=reason.strip(),
        set_by=actor,
    )
    risk.override, risk.level = override, level
    risk.version += 1
    risk.save()
    audit_object(
        actor,
        "risk.override",
        child,
        request=request,
        detail={
            "level": level,
            "previous": previous,
            "computed": risk.computed_level,
            "until": until.isoformat(),
            "replaced": len(replaced),
        },
    )
    return risk


@transaction.atomic
def risk_override_clear(
    *, actor: User, child: Child, request: HttpRequest | None = None
) -> ChildRisk:
    """The override in force ends today: the computed level applies from today on (the
    history keeps the override for the days it held)."""
    if actor.role not in RISK_OVERRIDE_ROLES or not in_scope(actor, child.village_id):
        raise PermissionDenied
    today = timezone.localdate()
    cleared = _end_overrides(actor, child, today)
    risk = risk_refresh(child, as_of=today)
    if cleared:
        audit_object(
            actor,
            "risk.override_clear",
            child,
            object_type="child",
            division_code=child.village_id,
            request=request,
            detail={"level": cleared[-1].level, "computed": risk.computed_level},
        )
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
    audit_record(
        actor=actor,
        action="cadence.policy_add",
        object_type="cadence_policy",
        object_code=version.effective_from.isoformat(),
        division_code=actor.division_id or "",
        request=request,
    )
    return version
