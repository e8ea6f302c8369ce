"""ID numbers on the child's file: checking one before it is stored (normalised, encrypted,
hashed), the check that a child's number is on no other file, and the audited reveal of a full
number (the child's, a parent's, a caregiver's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils import timezone

from tongxin.accounts.models import User
from tongxin.audit.services import audit_object
from tongxin.geo.scope import in_scope
from tongxin.lib import crypto, idcard, plausible
from tongxin.registry.models import CareAgreement, Child, Parent, ParentRole


class DuplicateIdNumber(Exception):
    """The ID number is already on a file. ``child`` is that file when the user may see it,
    else None: the user learns only that the child is registered elsewhere."""

    def __init__(self, child: Child | None) -> None:
        super().__init__("duplicate ID number")
        self.child = child


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
    check_id_birth_date(birth_date, check.birth_date)
    return IdNumber(
        normalised=check.number,
        encrypted=crypto.encrypt(check.number),
        lookup=crypto.lookup_hash(check.number),
        warnings=check.warnings,
    )


def check_id_birth_date(birth_date: date | None, in_number: date | None) -> None:
    if birth_date is None or in_number is None:
        return
    if error := plausible.id_birth_date_error(birth_date, in_number=in_number):
        raise ValidationError({"birth_date": [error]})


def stored_birth_date(enc: bytes | memoryview | None) -> date | None:
    """The birth date written in a stored ID number (decrypted in memory only)."""
    if not enc:
        return None
    return idcard.validate(crypto.decrypt(enc), today=timezone.localdate()).birth_date


def check_unique_id(actor: User, lookup: str, exclude_pk: int | None = None) -> None:
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
