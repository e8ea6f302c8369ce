"""Writes to the child's file. Each runs in one transaction with its audit entry; each edit
names the version it was based on and is refused when someone else's edit came first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tongxin.accounts.models import User
from tongxin.audit.services import audit_denied, audit_object, audit_record
from tongxin.core.versions import StaleEdit, record_changes_since, record_version
from tongxin.geo.models import Division, Level
from tongxin.geo.scope import check_writer, in_scope
from tongxin.lib import crypto, idcard, plausible
from tongxin.lib.pinyin import name_keys
from tongxin.registry import policy, rules, signals
from tongxin.registry.models import (
    CareAgreement,
    CategorySpan,
    Child,
    ChildStatus,
    Household,
    ManualDecision,
    Migration,
    Parent,
    ParentRole,
)
from tongxin.registry.selectors import (
    child_changes,
    current_facts,
    facts_timeline,
    household_changes,
    parent_facts,
)


class DuplicateIdNumber(Exception):
    """The ID number is already on a file. ``child`` is that file when the user may see it,
    else None: the user learns only that the child is registered elsewhere."""

    def __init__(self, child: Child | None) -> None:
        super().__init__("duplicate ID number")
        self.child = child


def _set_history_user(obj: Model, actor: User | None) -> None:
    obj._history_user = actor  # type: ignore[attr-defined]  # read by simple-history


# --- ID numbers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdNumber:
    """A checked ID number ready to store: normalised, encrypted, hashed, with its warnings."""

    normalised: str
    encrypted: bytes
    lookup: str
    warnings: tuple[str, ...]


def id_number_prepare(
    raw: str,
    *,
    birth_date: date | None = None,
    gender: str | None = None,
    field: str = "id_number",
) -> IdNumber:
    """Validate an ID number (GB 11643): hard errors raise ValidationError on ``field``, and a
    ``birth_date`` other than the one in the number raises it on ``birth_date``, naming both
    dates; soft warnings travel with the result for the form to show."""
    check = idcard.validate(raw, today=timezone.localdate(), gender=gender, known_region=None)
    if check.errors:
        raise ValidationError({field: list(check.errors)})
    _check_id_birth_date(birth_date, check.birth_date)
    return IdNumber(
        normalised=check.number,
        encrypted=crypto.encrypt(check.number),
        lookup=crypto.lookup_hash(check.number),
        warnings=check.warnings,
    )


def _check_id_birth_date(birth_date: date | None, in_number: date | None) -> None:
    if birth_date is None or in_number is None:
        return
    if error := plausible.id_birth_date_error(birth_date, in_number=in_number):
        raise ValidationError({"birth_date": [error]})


def _stored_birth_date(enc: bytes | memoryview | None) -> date | None:
    """The birth date written in a stored ID number (decrypted in memory only)."""
    if not enc:
        return None
    return idcard.validate(crypto.decrypt(enc), today=timezone.localdate()).birth_date


def _check_unique_id(actor: User, lookup: str, exclude_pk: int | None = None) -> None:
    others = Child.objects.filter(id_number_hash=lookup)
    existing = (others.exclude(pk=exclude_pk) if exclude_pk else others).first()
    if existing is None:
        return
    visible = Child.objects.visible_to(actor).filter(pk=existing.pk).exists()
    raise DuplicateIdNumber(existing if visible else None)


# Whose number on the file a reveal asks for: the child's, a parent's (father, mother), the
# family's caregiver's, or the entrusted caregiver's of an agreement ("agreement-<code>").
CHILD_ID = "child"
CAREGIVER_ID = "caregiver"
AGREEMENT_ID_PREFIX = "agreement-"


class NoSuchIdNumber(Exception):
    """The reveal names a person the file does not have."""


def _stored_id(child: Child, whose: str) -> bytes | memoryview | None:
    household = child.household
    if whose == CHILD_ID:
        return child.id_number_enc
    if whose in ParentRole.values:
        parent = Parent.objects.filter(household=household, role=whose).first()
        if parent is None:
            raise NoSuchIdNumber(whose)
        return parent.id_number_enc
    if whose == CAREGIVER_ID:
        return household.caregiver_id_enc
    if whose.startswith(AGREEMENT_ID_PREFIX):
        code = whose.removeprefix(AGREEMENT_ID_PREFIX)
        try:
            agreement = CareAgreement.objects.filter(household=household, public_id=code).first()
        except ValidationError:  # not a UUID
            agreement = None
        if agreement is None:
            raise NoSuchIdNumber(whose)
        return agreement.caregiver_id_enc
    raise NoSuchIdNumber(whose)


def id_number_reveal(
    *, actor: User, child: Child, whose: str = CHILD_ID, request: HttpRequest | None = None
) -> str:
    """A full ID number on the child's file (``whose``: see ``CHILD_ID`` …), for a role
    allowed to see it; every reveal is audited, naming whose number it was."""
    if not actor.reveals_id_numbers or not in_scope(actor, child.village_id):
        raise PermissionDenied
    enc = _stored_id(child, whose)
    if not enc:
        return ""
    number = crypto.decrypt(enc)
    audit_object(actor, "child.id_reveal", child, request=request, detail={"whose": whose})
    return number


# --- classification --------------------------------------------------------------------------


def _store_classification(child: Child, facts: rules.ChildFacts, as_of: date) -> bool:
    """Set the child's current categories from ``facts``; True when they changed."""
    result = rules.classify(facts, as_of, policy.thresholds())
    categories = [{"code": str(c.code), "reason": c.reason} for c in result.categories]
    codes = {c["code"] for c in categories}
    changed = [c["code"] for c in child.categories] != [c["code"] for c in categories]
    child.categories = categories
    child.left_behind = rules.CategoryCode.LEFT_BEHIND in codes
    child.in_difficulty = result.in_difficulty
    child.classified_on = as_of
    return changed


def child_reclassify(child: Child, *, as_of: date | None = None) -> bool:
    """Recompute the child's categories and their history from the recorded facts. Called by
    every service that changes a fact, and daily by ``manage.py reclassify``."""
    as_of = as_of or timezone.localdate()
    changed = _store_classification(child, current_facts(child), as_of)
    Child.objects.filter(pk=child.pk).update(
        categories=child.categories,
        left_behind=child.left_behind,
        in_difficulty=child.in_difficulty,
        classified_on=as_of,
    )
    category_history_rebuild(child, until=as_of)
    signals.child_facts_changed.send(sender=Child, child=child)
    return changed


def category_history_rebuild(child: Child, *, until: date) -> None:
    spans = rules.category_history(
        facts_timeline(child), child.registered_on, until, policy.thresholds()
    )
    CategorySpan.objects.filter(child=child).delete()
    CategorySpan.objects.bulk_create(
        CategorySpan(child=child, code=str(s.code), start=s.start, end=s.end) for s in spans
    )


def _reclassify_household(household: Household) -> None:
    for child in household.children.select_related("village", "household"):
        child_reclassify(child)


# --- households ------------------------------------------------------------------------------

# The family's facts, in the order the file's form asks them.
HOUSEHOLD_FORM_FIELDS = (
    "address",
    "phone",
    "parents_divorced",
    "dibao",
    "dibao_since",
    "tekun",
    "tekun_since",
    "income_source",
    "caregiver_name",
    "caregiver_relation",
    "caregiver_birth_year",
    "caregiver_health",
    "caregiver_capacity",
    "caregiver_phone",
    "caregiver_address",
    "grandparents",
)
# What the services take: those, and the assistance received, which the ledger import reads.
HOUSEHOLD_FIELDS = {*HOUSEHOLD_FORM_FIELDS, "assistance"}
PARENT_FIELDS = {"name", "birth_date", "phone", "status", "capacity", "capacity_note"}


def _check_village(village: Division) -> None:
    if village.level not in (Level.VILLAGE, Level.COMMUNITY):
        raise ValidationError({"village": [_("Choose a village or community.")]})


def _undated_since(obj: Household, changes: dict[str, Any]) -> None:
    """An undated benefit switched on counts from the day it was recorded, unless given."""
    today = timezone.localdate()
    for flag in ("dibao", "tekun"):
        if changes.get(flag) and not getattr(obj, flag) and not changes.get(f"{flag}_since"):
            changes[f"{flag}_since"] = today


@transaction.atomic
def household_create(
    *,
    actor: User,
    village: Division,
    fields: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> Household:
    _check_village(village)
    check_writer(actor, village.code)
    fields = dict(fields or {})
    if unknown := set(fields) - HOUSEHOLD_FIELDS:
        raise ValueError(f"not household fields: {sorted(unknown)}")
    household = Household(village=village, **fields)
    _set_history_user(household, actor)
    household.save()
    audit_object(actor, "household.create", household, request=request)
    return household


@transaction.atomic
def household_update(
    *,
    actor: User,
    household: Household,
    version: int,
    changes: dict[str, Any],
    caregiver_id_number: str | None = None,
    request: HttpRequest | None = None,
) -> Household:
    """Change facts of the household; every child of it is reclassified.
    ``caregiver_id_number`` None (or empty) leaves the caregiver's number as it is."""
    check_writer(actor, household.village_id)
    if unknown := set(changes) - HOUSEHOLD_FIELDS:
        raise ValueError(f"not household fields: {sorted(unknown)}")
    _undated_since(household, changes)
    changed = [k for k, v in changes.items() if getattr(household, k) != v]
    caregiver_id: IdNumber | None = None
    if caregiver_id_number is not None and caregiver_id_number.strip():
        caregiver_id = id_number_prepare(caregiver_id_number, field="caregiver_id_number")
        if caregiver_id.lookup != household.caregiver_id_hash:
            changed.append("caregiver_id_number")
    _bump(Household, household, version, changed, lambda: household_changes(household, version))
    if not changed:
        return household
    update_fields = [k for k in changed if k != "caregiver_id_number"]
    for key in update_fields:
        setattr(household, key, changes[key])
    if caregiver_id is not None and "caregiver_id_number" in changed:
        household.caregiver_id_enc = caregiver_id.encrypted
        household.caregiver_id_hash = caregiver_id.lookup
        update_fields += ["caregiver_id_enc", "caregiver_id_hash"]
    household.version = version + 1
    _set_history_user(household, actor)
    household.save(update_fields=[*update_fields, "version", "updated_at"])
    audit_object(
        actor, "household.update", household, request=request, detail={"fields": sorted(changed)}
    )
    _reclassify_household(household)
    return household


def _bump(
    model: type[Child] | type[Household],
    obj: Child | Household,
    version: int,
    changed: list[str],
    meanwhile: Any,
) -> None:
    """Refuse the edit when the stored version is not the one it was based on. The row is
    locked until the transaction ends (SQLite: the IMMEDIATE transaction serialises writers),
    so two edits based on the same version cannot both pass."""
    current = (
        model.objects.select_for_update()
        .filter(pk=obj.pk)
        .values_list("version", flat=True)
        .first()
    )
    if current != version:
        raise StaleEdit(int(current or 0), meanwhile())


def _lock_household(household: Household) -> None:
    """Family writes take the household's row lock first: two saves of one family's parents or
    spells run one after the other (and two creations of the same parent cannot both pass)."""
    list(Household.objects.select_for_update().filter(pk=household.pk).values_list("pk"))


def _check_record_version(model: type[Model], pk: int | None, version: int, label: str) -> None:
    """Refuse an edit of a parent or a spell based on ``version`` when the row changed since
    (its version is its latest history entry, ``record_version``; 0 for no row yet). Call with
    the household locked."""
    current = record_version(model, pk)
    if current != version:
        raise StaleEdit(current, record_changes_since(model, pk, version, label))


@transaction.atomic
def parent_save(
    *,
    actor: User,
    household: Household,
    role: str,
    fields: dict[str, Any],
    version: int,
    id_number: str | None = None,
    request: HttpRequest | None = None,
) -> Parent:
    """Create or change the father's or mother's record, based on ``version`` (the parent's
    ``record_version``, 0 when there was none): refused with what changed meanwhile when
    someone else saved first. The children are reclassified."""
    check_writer(actor, household.village_id)
    if unknown := set(fields) - PARENT_FIELDS:
        raise ValueError(f"not parent fields: {sorted(unknown)}")
    _lock_household(household)
    stored = Parent.objects.filter(household=household, role=role).first()
    _check_record_version(
        Parent, stored.pk if stored else None, version, str(ParentRole(role).label)
    )
    parent = stored or Parent(household=household, role=ParentRole(role))
    birth_before = parent.birth_date
    for key, value in fields.items():
        setattr(parent, key, value)
    if id_number:
        prepared = id_number_prepare(id_number, birth_date=parent.birth_date)
        parent.id_number_enc = prepared.encrypted
        parent.id_number_hash = prepared.lookup
    elif parent.birth_date != birth_before:
        # A new birth date must agree with the number on file too.
        _check_id_birth_date(parent.birth_date, _stored_birth_date(parent.id_number_enc))
    _set_history_user(parent, actor)
    parent.save()
    audit_object(
        actor,
        "household.parent_save",
        household,
        request=request,
        detail={"role": role, "fields": sorted(fields)},
    )
    _reclassify_household(household)
    return parent


MIGRATION_FIELDS = {"left_on", "known_since", "returned_on", "destination", "work_place", "phone"}


@transaction.atomic
def migration_save(
    *,
    actor: User,
    parent: Parent,
    migration: Migration | None = None,
    fields: dict[str, Any],
    version: int,
    request: HttpRequest | None = None,
) -> Migration:
    """Record a new spell of work away (``version`` 0) or change one, based on ``version``
    (the spell's ``record_version``): refused with what changed meanwhile when someone else
    saved first. The children are reclassified."""
    household = parent.household
    check_writer(actor, household.village_id)
    if unknown := set(fields) - MIGRATION_FIELDS:
        raise ValueError(f"not migration fields: {sorted(unknown)}")
    if migration is not None and migration.parent_id != parent.pk:
        raise ValueError("the spell is not the parent's")
    _lock_household(household)
    label = _("Work away: %(parent)s") % {"parent": ParentRole(parent.role).label}
    _check_record_version(Migration, migration.pk if migration else None, version, label)
    m = migration or Migration(parent=parent)
    for key, value in fields.items():
        setattr(m, key, value)
    if m.left_on is None and m.known_since is None:
        m.known_since = timezone.localdate()
    if m.left_on and m.returned_on and m.returned_on < m.left_on:
        raise ValidationError({"returned_on": [_("The return cannot come before the departure.")]})
    _set_history_user(m, actor)
    m.save()
    audit_object(
        actor, "household.migration_save", household, request=request, detail={"role": parent.role}
    )
    _reclassify_household(household)
    return m


@transaction.atomic
def household_transfer(
    *,
    actor: User,
    household: Household,
    village: Division,
    reason: str,
    request: HttpRequest | None = None,
) -> Household:
    """The family moved: the old village loses the file, the new one gains it. Both the
    household's and its children's village change here, and nowhere else."""
    _check_village(village)
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reason for the transfer.")]})
    check_writer(actor, household.village_id)
    if not in_scope(actor, village.code):
        # A town supervisor moves within the town; wider moves go through the county.
        raise ValidationError({"village": [_("No such division.")]})
    old = household.village_id
    household.village = village
    household.version += 1
    _set_history_user(household, actor)
    household.save(update_fields=["village", "version", "updated_at"])
    children = list(household.children.all())
    for child in children:
        child.village = village
        child.version += 1
        _set_history_user(child, actor)
        child.save(update_fields=["village", "version", "updated_at"])
    for division in (old, village.code):
        audit_record(
            actor=actor,
            action="household.transfer",
            object_type="household",
            object_code=str(household.public_id),
            division_code=division,
            request=request,
            detail={"from": old, "to": village.code, "children": len(children), "reason": reason},
        )
    _reclassify_household(household)
    return household


# --- children --------------------------------------------------------------------------------

# The child's own facts, in the order the file's forms ask them.
CHILD_FORM_FIELDS = (
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "id_missing_reason",
    "hukou_registered",
    "hukou_place",
    "phone",
    "school",
    "grade",
    "school_stage",
    "enrolment",
    "boarding",
    "health",
    "disability_type",
    "disability_grade",
    "disability_certificate",
    "disability_certificate_expiry",
    "serious_illness",
    "illness",
    "guardianship_assessment",
    "registered_on",
)
# What the services take: those, and the days a disability and a serious illness were first
# recorded (``child_update`` sets them to the day of the change when they are not given).
CHILD_FIELDS = {*CHILD_FORM_FIELDS, "disability_since", "illness_since"}


@dataclass(frozen=True)
class Registered:
    child: Child
    warnings: tuple[str, ...]


@transaction.atomic
def child_register(
    *,
    actor: User,
    household: Household,
    fields: dict[str, Any],
    id_number: str = "",
    request: HttpRequest | None = None,
) -> Registered:
    """Open a file for a child of ``household`` (registration date may be in the past)."""
    check_writer(actor, household.village_id)
    if unknown := set(fields) - CHILD_FIELDS:
        raise ValueError(f"not child fields: {sorted(unknown)}")
    fields = dict(fields)
    today = timezone.localdate()
    fields.setdefault("registered_on", today)
    if fields["registered_on"] > today:
        raise ValidationError(
            {"registered_on": [_("The registration date cannot be in the future.")]}
        )
    child = Child(household=household, village_id=household.village_id, **fields)
    child.status_since = child.registered_on
    child.name_pinyin, child.name_initials = name_keys(child.name)
    warnings: tuple[str, ...] = ()
    if id_number.strip():
        prepared = id_number_prepare(id_number, birth_date=child.birth_date, gender=child.gender)
        _check_unique_id(actor, prepared.lookup)
        child.id_number_enc, child.id_number_hash = prepared.encrypted, prepared.lookup
        child.id_missing_reason = ""
        warnings = prepared.warnings
    elif not child.id_missing_reason:
        raise ValidationError(
            {"id_missing_reason": [_("Give the ID number, or the reason there is none.")]}
        )
    child.created_by = actor
    _set_history_user(child, actor)
    child.save()
    audit_object(actor, "child.register", child, request=request)
    child_reclassify(child)
    return Registered(child=child, warnings=warnings)


@transaction.atomic
def child_update(
    *,
    actor: User,
    child: Child,
    version: int,
    changes: dict[str, Any],
    id_number: str | None = None,
    request: HttpRequest | None = None,
) -> Registered:
    """Change the child's own facts, based on ``version``; refused with what changed meanwhile
    when someone else saved first. ``id_number`` None leaves the number as it is."""
    check_writer(actor, child.village_id)
    if unknown := set(changes) - CHILD_FIELDS:
        raise ValueError(f"not child fields: {sorted(unknown)}")
    changes = dict(changes)
    today = timezone.localdate()
    if changes.get("disability_grade") and not child.disability_grade:
        changes.setdefault("disability_since", today)
    if changes.get("serious_illness") and not child.serious_illness:
        changes.setdefault("illness_since", today)
    changed = [k for k, v in changes.items() if getattr(child, k) != v]
    warnings: tuple[str, ...] = ()
    new_id: IdNumber | None = None
    if id_number is not None and id_number.strip():
        new_id = id_number_prepare(
            id_number,
            birth_date=changes.get("birth_date", child.birth_date),
            gender=changes.get("gender", child.gender),
        )
        warnings = new_id.warnings
        if new_id.lookup != child.id_number_hash:
            _check_unique_id(actor, new_id.lookup, exclude_pk=child.pk)
            changed.append("id_number")
    elif "birth_date" in changed:
        # A new birth date must agree with the number on file too.
        _check_id_birth_date(changes["birth_date"], _stored_birth_date(child.id_number_enc))
    _bump(Child, child, version, changed, lambda: child_changes(child, version))
    if not changed:
        return Registered(child=child, warnings=warnings)
    update_fields = [k for k in changed if k != "id_number"]
    for key in update_fields:
        setattr(child, key, changes[key])
    if new_id is not None and "id_number" in changed:
        child.id_number_enc, child.id_number_hash = new_id.encrypted, new_id.lookup
        child.id_missing_reason = ""
        update_fields += ["id_number_enc", "id_number_hash", "id_missing_reason"]
    if "name" in changed:
        child.name_pinyin, child.name_initials = name_keys(child.name)
        update_fields += ["name_pinyin", "name_initials"]
    child.version = version + 1
    _set_history_user(child, actor)
    child.save(update_fields=[*set(update_fields), "version", "updated_at"])
    audit_object(actor, "child.update", child, request=request, detail={"fields": sorted(changed)})
    child_reclassify(child)
    return Registered(child=child, warnings=warnings)


@transaction.atomic
def child_set_status(
    *,
    actor: User,
    child: Child,
    version: int,
    status: str,
    reason: str,
    since: date,
    request: HttpRequest | None = None,
) -> Child:
    """Close, transfer out, age out or record a death, with the reason and the date it took
    effect (which may be in the past)."""
    check_writer(actor, child.village_id)
    if status not in ChildStatus.values:
        raise ValidationError({"status": [_("Unknown status.")]})
    if status != ChildStatus.ACTIVE and not reason.strip():
        raise ValidationError({"status_reason": [_("Give the reason.")]})
    if since > timezone.localdate():
        raise ValidationError({"status_since": [_("The date cannot be in the future.")]})
    _bump(Child, child, version, ["status"], lambda: child_changes(child, version))
    child.status, child.status_reason, child.status_since = status, reason, since
    child.version = version + 1
    _set_history_user(child, actor)
    child.save(update_fields=["status", "status_reason", "status_since", "version", "updated_at"])
    audit_object(actor, "child.status", child, request=request, detail={"status": status})
    return child


@transaction.atomic
def manual_decision_record(
    *,
    actor: User,
    child: Child,
    code: str,
    include: bool,
    reason: str,
    request: HttpRequest | None = None,
) -> ManualDecision:
    """An officer's decision on a category; the computed result stays beside it."""
    if actor.role != "county_admin" or not in_scope(actor, child.village_id):
        raise PermissionDenied
    if code not in {c.value for c in rules.CategoryCode}:
        raise ValidationError({"code": [_("Unknown category.")]})
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reason.")]})
    ManualDecision.objects.filter(child=child, code=code, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now()
    )
    decision = ManualDecision.objects.create(
        child=child, code=code, include=include, reason=reason, decided_by=actor
    )
    audit_object(
        actor,
        "child.manual_decision",
        child,
        request=request,
        detail={"code": code, "include": include},
    )
    return decision


def child_file_opened(*, actor: User, child: Child, request: HttpRequest | None = None) -> None:
    """Every opening of a file is attributable: one audit row per read."""
    audit_object(actor, "child.view", child, request=request)


def child_access_denied(*, actor: User, request: HttpRequest | None, code: str) -> None:
    audit_denied(actor=actor, action="child.view", object_type="child", code=code, request=request)


def _family_facts(
    household_ids: set[int],
) -> dict[int, tuple[bool, bool, bool, rules.ParentFacts, rules.ParentFacts]]:
    """The facts of many households, for the rules, from three queries of plain values:
    (divorced, dibao, tekun, father, mother) by household id."""
    spells: dict[int, list[rules.MigrationSpell]] = {}
    for parent_id, left_on, returned_on, destination, known_since in (
        Migration.objects.filter(parent__household_id__in=household_ids)
        .order_by("left_on", "id")
        .values_list("parent_id", "left_on", "returned_on", "destination", "known_since")
    ):
        spell = rules.MigrationSpell(
            left_on, returned_on, rules.Destination(destination), known_since
        )
        spells.setdefault(parent_id, []).append(spell)
    absent = parent_facts(None, [])
    parents: dict[int, dict[str, rules.ParentFacts]] = {}
    for pk, household_id, role, status, capacity in Parent.objects.filter(
        household_id__in=household_ids
    ).values_list("pk", "household_id", "role", "status", "capacity"):
        parents.setdefault(household_id, {})[role] = rules.ParentFacts(
            rules.ParentStatus(status), rules.Capacity(capacity), tuple(spells.get(pk, ()))
        )
    found = {}
    for pk, divorced, dibao, tekun in Household.objects.filter(pk__in=household_ids).values_list(
        "pk", "parents_divorced", "dibao", "tekun"
    ):
        roles = parents.get(pk, {})
        found[pk] = (
            divorced,
            dibao,
            tekun,
            roles.get(ParentRole.FATHER, absent),
            roles.get(ParentRole.MOTHER, absent),
        )
    return found


def reclassify_all(*, as_of: date, batch: int = 2000) -> dict[str, int]:
    """The daily run: catch category changes that come from time alone (a 16th birthday, a
    spell reaching 3 months). Only children whose categories change are written.

    The facts are read as plain values, four queries per ``batch`` children and no model
    instances (the same facts ``current_facts`` builds), so a million children take minutes;
    the few that changed are then loaded and written one transaction each."""
    thresholds = policy.thresholds()
    village = Level.VILLAGE
    seen = 0
    to_write: list[int] = []
    last = 0
    active = Child.objects.filter(status=ChildStatus.ACTIVE).order_by("pk")
    while True:
        rows = list(
            active.filter(pk__gt=last).values_list(
                "pk",
                "household_id",
                "birth_date",
                "village__level",
                "disability_grade",
                "serious_illness",
                "categories",
            )[:batch]
        )
        if not rows:
            break
        last = rows[-1][0]
        seen += len(rows)
        families = _family_facts({row[1] for row in rows})
        for pk, household_id, birth_date, level, grade, ill, stored in rows:
            divorced, dibao, tekun, father, mother = families[household_id]
            facts = rules.ChildFacts(
                birth_date=birth_date,
                lives_in=rules.Residence.VILLAGE if level == village else rules.Residence.COMMUNITY,
                father=father,
                mother=mother,
                parents_divorced=divorced,
                dibao=dibao,
                tekun=tekun,
                disability_grade=grade,
                serious_illness=ill,
            )
            codes = [c.code for c in rules.classify(facts, as_of, thresholds).categories]
            if codes != [c["code"] for c in stored]:
                to_write.append(pk)
    changed = 0
    for pk in to_write:
        with transaction.atomic():
            child = Child.objects.select_related("household", "village").get(pk=pk)
            if not _store_classification(child, current_facts(child), as_of):
                continue
            Child.objects.filter(pk=child.pk).update(
                categories=child.categories,
                left_behind=child.left_behind,
                in_difficulty=child.in_difficulty,
                classified_on=as_of,
            )
            category_history_rebuild(child, until=as_of)
            signals.child_facts_changed.send(sender=Child, child=child)
            changed += 1
    return {"children": seen, "changed": changed}
