"""A ledger row's own checks, those that need no stored file (scope, dates, ID numbers,
``check_row``), and the labels their messages and a row's changes read with.

ID numbers that pass every hard rule are checked the fast way (``quick_number``): most do,
and ``idcard.validate`` builds messages only for the others."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django.db.models import Model
from django.utils.translation import gettext as _

from tongxin.geo.models import Level
from tongxin.geo.regions import known_region
from tongxin.geo.scope import in_scope
from tongxin.lib import crypto, idcard
from tongxin.lib.plausible import birth_date_error, event_date_error, person_birth_date_error
from tongxin.registry.ledger.rows import Outcome
from tongxin.registry.models import (
    Child,
    Household,
    Migration,
    Parent,
    ParentRole,
)

if TYPE_CHECKING:
    from tongxin.registry.ledger.run import Planned, Run

# A fact of a family: ("household", field), (role, field), (role, "id"), (role, "record"),
# (role, "spell", field) or (role, "spell", "record").
type Fact = tuple[str, ...]


def check_row(
    run: Run,
    p: Planned,
    ids: dict[int, str],
    parent_ids: dict[tuple[int, str], str],
    sealed: dict[str, bytes],
) -> None:
    """Checks that need no stored file: the row's own errors, scope, ID numbers."""
    row, result = p.row, p.result
    result.warnings = list(row.warnings)
    village = run.divisions.get(row.village_code)
    result.village = village[0] if village else ""
    errors = list(row.errors)
    if row.village_code and village is None:
        errors.append(_("No such village."))
    elif village is not None and village[1] not in (Level.VILLAGE, Level.COMMUNITY):
        errors.append(_("Choose a village or community."))
    elif village is not None and not in_scope(run.actor, row.village_code):
        errors.append(
            _("%(village)s lies outside your division: you cannot import its children.")
            % {"village": village[0]}
        )
    if not row.child.get("name") and not row.name:  # a bad name is already an error
        errors.append(_("The child's name is missing."))
    number = ""
    if row.id_number:
        quick = quick_number(row.id_number, run.as_of)
        if quick is not None and not id_warnings(quick, row.child, run.as_of):
            number = quick[0]
            row.child.setdefault("birth_date", quick[1])
            row.child.setdefault("gender", id_gender(number))
        else:
            # Something to say about the number: idcard.validate says it.
            check = idcard.validate(
                row.id_number,
                today=run.as_of,
                known_region=known_region,
                birth_date=row.child.get("birth_date"),
                gender=row.child.get("gender"),
            )
            number = check.number
            if check.errors:
                errors += [_("ID number: %(error)s") % {"error": e} for e in check.errors]
            else:
                result.warnings += check.warnings
                row.child.setdefault("birth_date", check.birth_date)
                row.child.setdefault("gender", check.gender)
        result.id_masked = idcard.mask(number)
    birth = row.child.get("birth_date")
    if not birth:
        errors.append(_("The birth date is missing."))
    elif error := run.date_error(birth_date_error, birth):
        errors.append(error)
    elif (registered := row.child.get("registered_on")) and (
        error := run.date_error(event_date_error, registered, not_before=birth)
    ):
        errors.append(said(field_label(Child, "registered_on"), error))
    if not row.child.get("gender"):
        errors.append(_("The gender is missing."))
    for parent in row.parents:
        who = parent_label(parent.role)
        if (born := parent.fields.get("birth_date")) and (
            error := run.date_error(person_birth_date_error, born)
        ):
            errors.append(said(of_parent(who, field_label(Parent, "birth_date")), error))
        if parent.left_on and (error := run.date_error(event_date_error, parent.left_on)):
            errors.append(said(of_parent(who, field_label(Migration, "left_on")), error))
    for parent in row.parents:
        if not parent.id_number:
            continue
        # Parents' numbers are checked the fast way; only a failing one goes through
        # idcard.validate, for its messages (its warnings do not concern an adult).
        quick = quick_number(parent.id_number, run.as_of)
        if quick is None:
            pcheck = idcard.validate(parent.id_number, today=run.as_of)
            errors += [
                _("%(parent)s's ID number: %(error)s")
                % {"parent": parent_label(parent.role), "error": e}
                for e in pcheck.errors
            ]
            continue
        pnumber, born = quick
        parent.fields.setdefault("birth_date", born)
        digest = crypto.lookup_hash(pnumber)
        parent_ids[(row.line, parent.role)] = digest
        if digest not in sealed:
            sealed[digest] = crypto.encrypt(pnumber) if run.apply else b""
    if row.caregiver_id_number:
        # Like the parents' numbers; a bad one is the row's error, with its reason.
        quick = quick_number(row.caregiver_id_number, run.as_of)
        if quick is None:
            ccheck = idcard.validate(row.caregiver_id_number, today=run.as_of)
            errors += [
                _("The caregiver's ID number: %(error)s") % {"error": e} for e in ccheck.errors
            ]
        else:
            digest = crypto.lookup_hash(quick[0])
            row.household["caregiver_id_hash"] = digest
            if digest not in sealed:
                sealed[digest] = crypto.encrypt(quick[0]) if run.apply else b""
    if errors:
        result.outcome = Outcome.ERROR
        result.messages = errors
        return
    if not number:
        result.outcome = Outcome.REVIEW
        return
    digest = crypto.lookup_hash(number)
    first = run.seen_ids.get(digest)
    if first is not None:
        result.outcome = Outcome.ERROR
        result.messages = [
            _("The same ID number is already on row %(line)d of this file.") % {"line": first}
        ]
        return
    run.seen_ids[digest] = row.line
    ids[row.line] = digest
    if run.apply:
        sealed[f"child:{row.line}"] = crypto.encrypt(number)


def quick_number(raw: str, today: date) -> tuple[str, date] | None:
    """(number, birth date) of an ID number that passes every hard rule of
    ``idcard.validate``, checked without building messages; None otherwise."""
    number = idcard.normalise(raw)
    first17 = number[:17]
    if len(number) != idcard.LENGTH or not (first17.isascii() and first17.isdigit()):
        return None
    if number[:2] not in idcard.PROVINCE_PREFIXES:
        return None
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    if born > today or born.year < idcard.EARLIEST_BIRTH_YEAR:
        return None
    if idcard.check_character(first17) != number[17]:
        return None
    return number, born


def id_gender(number: str) -> str:
    return "male" if (ord(number[16]) - 48) % 2 else "female"


def id_warnings(quick: tuple[str, date], child: dict[str, Any], today: date) -> bool:
    """Whether ``idcard.validate`` would warn about a number that passed ``quick_number``:
    an unknown region, another birth date or gender than entered, an adult."""
    number, born = quick
    birth, gender = child.get("birth_date"), child.get("gender")
    adult = (today.year - born.year - ((today.month, today.day) < (born.month, born.day))) >= (
        idcard.ADULT_AGE
    )
    return (
        not known_region(number[:6])
        or (birth is not None and birth != born)
        or (gender in ("male", "female") and gender != id_gender(number))
        or adult
    )


def field_label(model: type[Model], name: str) -> str:
    return str(getattr(model._meta.get_field(name), "verbose_name", name))


def fact_label(fact: Fact) -> str:
    """How a fact of the family reads: “dibao”, “father: phone”, “mother: work place”."""
    if fact[0] == "household":
        if fact[1] == "caregiver_id_hash":
            return _("Caregiver's ID number")
        return field_label(Household, fact[1])
    parent = parent_label(fact[0])
    if fact[1] == "record":
        return parent
    if fact[1] == "id":
        return of_parent(parent, _("ID number"))
    if fact[1] == "spell":
        return of_parent(
            parent, _("migration") if fact[2] == "record" else field_label(Migration, fact[2])
        )
    return of_parent(parent, field_label(Parent, fact[1]))


def of_parent(parent: str, field: str) -> str:
    """A parent's fact, as a label: “father: phone”."""
    return _("%(parent)s: %(field)s") % {"parent": parent, "field": field}


def said(field: str, error: str) -> str:
    """A row's error about one of its fields: “father: birth date: …”."""
    return _("%(field)s: %(error)s") % {"field": field, "error": error}


def parent_label(role: str) -> str:
    return _("father") if role == ParentRole.FATHER else _("mother")
