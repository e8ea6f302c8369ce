"""Writes to the parents on the family's file and to their spells of work away. A parent and a
spell have no version column: an edit names their ``record_version`` and takes the household's
row lock first."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tongxin.accounts.models import User
from tongxin.audit.services import audit_object
from tongxin.core.versions import StaleEdit, record_changes_since, record_version
from tongxin.geo.scope import check_writer
from tongxin.registry.models import Household, Migration, Parent, ParentRole
from tongxin.registry.services.classification import reclassify_household
from tongxin.registry.services.common import set_history_user
from tongxin.registry.services.ids import check_id_birth_date, id_number_prepare, stored_birth_date

PARENT_FIELDS = {"name", "birth_date", "phone", "status", "capacity", "capacity_note"}


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
        check_id_birth_date(parent.birth_date, stored_birth_date(parent.id_number_enc))
    set_history_user(parent, actor)
    parent.save()
    audit_object(
        actor,
        "household.parent_save",
        household,
        request=request,
        detail={"role": role, "fields": sorted(fields)},
    )
    reclassify_household(household)
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
    set_history_user(m, actor)
    m.save()
    audit_object(
        actor, "household.migration_save", household, request=request, detail={"role": parent.role}
    )
    reclassify_household(household)
    return m
