"""Writes to the family (household): a new one, a change of its facts (every child of it
reclassified), and its transfer to another village."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tongxin.accounts.models import User
from tongxin.audit.services import audit_object, audit_record
from tongxin.geo.models import Division, Level
from tongxin.geo.scope import check_writer, in_scope
from tongxin.registry.models import Household
from tongxin.registry.selectors import household_changes
from tongxin.registry.services.classification import reclassify_household
from tongxin.registry.services.common import bump, set_history_user
from tongxin.registry.services.ids import IdNumber, id_number_prepare

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
    set_history_user(household, actor)
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
    bump(Household, household, version, changed, lambda: household_changes(household, version))
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
    set_history_user(household, actor)
    household.save(update_fields=[*update_fields, "version", "updated_at"])
    audit_object(
        actor, "household.update", household, request=request, detail={"fields": sorted(changed)}
    )
    reclassify_household(household)
    return household


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
    set_history_user(household, actor)
    household.save(update_fields=["village", "version", "updated_at"])
    children = list(household.children.all())
    for child in children:
        child.village = village
        child.version += 1
        set_history_user(child, actor)
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
    reclassify_household(household)
    return household
