"""Writes to the child's own file: registration, a change of the child's facts, the file's
status, an officer's manual decision on a category, and the audit entries of a file opened or
refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tongxin.accounts.models import User
from tongxin.audit.services import audit_denied, audit_object
from tongxin.geo.scope import check_writer, in_scope
from tongxin.lib.pinyin import name_keys
from tongxin.registry import rules
from tongxin.registry.models import Child, ChildStatus, Household, ManualDecision
from tongxin.registry.selectors import child_changes
from tongxin.registry.services.classification import child_reclassify
from tongxin.registry.services.common import bump, set_history_user
from tongxin.registry.services.ids import (
    IdNumber,
    check_id_birth_date,
    check_unique_id,
    id_number_prepare,
    stored_birth_date,
)

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
        check_unique_id(actor, prepared.lookup)
        child.id_number_enc, child.id_number_hash = prepared.encrypted, prepared.lookup
        child.id_missing_reason = ""
        warnings = prepared.warnings
    elif not child.id_missing_reason:
        raise ValidationError(
            {"id_missing_reason": [_("Give the ID number, or the reason there is none.")]}
        )
    child.created_by = actor
    set_history_user(child, actor)
    child.save()
    audit_object(actor, "child.register", child, request=request)
    child_reclassify(child)
    return Registered(child=child, warnings=warnings)


def check_not_archived(child: Child) -> None:
    """An archived file has lost its personal values (retention, decision 019): it is kept for
    the statistics and never edited or reopened; a child who comes back is registered anew."""
    if child.archived_on is not None:
        raise ValidationError(
            {
                "status": [
                    _(
                        "This file was archived on %(day)s and its personal details removed: "
                        "it cannot be changed or reopened. Register the child anew."
                    )
                    % {"day": child.archived_on.isoformat()}
                ]
            }
        )


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
    check_not_archived(child)
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
            check_unique_id(actor, new_id.lookup, exclude_pk=child.pk)
            changed.append("id_number")
    elif "birth_date" in changed:
        # A new birth date must agree with the number on file too.
        check_id_birth_date(changes["birth_date"], stored_birth_date(child.id_number_enc))
    bump(Child, child, version, changed, lambda: child_changes(child, version))
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
    set_history_user(child, actor)
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
    check_not_archived(child)
    if status not in ChildStatus.values:
        raise ValidationError({"status": [_("Unknown status.")]})
    if status != ChildStatus.ACTIVE and not reason.strip():
        raise ValidationError({"status_reason": [_("Give the reason.")]})
    if since > timezone.localdate():
        raise ValidationError({"status_since": [_("The date cannot be in the future.")]})
    bump(Child, child, version, ["status"], lambda: child_changes(child, version))
    child.status, child.status_reason, child.status_since = status, reason, since
    child.version = version + 1
    set_history_user(child, actor)
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


def child_copy_given(
    *,
    actor: User,
    child: Child,
    requester: str,
    relation: str,
    reason: str,
    request: HttpRequest | None = None,
) -> None:
    """A copy of the file printed for the guardian (PIPL's right of access), audited as its own
    action with who asked, as what, and why: the trail is the register of copies given."""
    audit_object(
        actor,
        "child.copy",
        child,
        request=request,
        detail={"requester": requester, "relation": relation, "reason": reason},
    )


def child_access_denied(*, actor: User, request: HttpRequest | None, code: str) -> None:
    audit_denied(actor=actor, action="child.view", object_type="child", code=code, request=request)
