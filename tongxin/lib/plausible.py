"""Plausible values: the one place that says which dates and names a field may hold.

Every date a person types or a system sends passes one of these checks before it is stored:
the form, the API serializer and the ledger import all call them, so a birth date refused on
the page is refused by the API and on a ledger row too. Each check returns ``None`` when the
value is plausible, else a message naming what is wrong; the caller attaches it to its field
(a form error, a 400 naming the field, a ledger row's error).

Pure functions of their arguments: ``today`` is passed in, never read from a clock here.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from enum import StrEnum

from django.utils.translation import gettext as _

# A child's file outlives childhood by a few years (aged out at 18, kept, then archived): a
# birth date more than this many years back cannot be a child Tongxin cares for.
MAX_FILE_AGE_YEARS = 25

# Names: 50 characters is the database column; nobody's name comes close.
NAME_MAX_LENGTH = 50

# Chinese characters (the CJK blocks a name can use, the extensions included), the middle dot
# of minority names in both its forms (· U+00B7 and ・ U+30FB, typed by Chinese input methods),
# Latin letters for names registered in Latin script, and single spaces between words.
_NAME = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
    r"A-Za-z\u00b7\u30fb\u2027 ]+"
)
_SEPARATORS = "\u00b7\u30fb\u2027"


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _cn(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def earliest_birth_date(today: date) -> date:
    """The earliest birth date a child's file may carry today."""
    return _years_before(today, MAX_FILE_AGE_YEARS)


def birth_date_error(birth_date: date, *, today: date) -> str | None:
    """A birth date must not be in the future nor more than 25 years back."""
    if birth_date > today:
        return _("The birth date %(date)s is in the future.") % {"date": _cn(birth_date)}
    earliest = earliest_birth_date(today)
    if birth_date < earliest:
        return _(
            "The birth date %(date)s is more than %(years)d years ago: "
            "it cannot be a child's (earliest %(earliest)s)."
        ) % {"date": _cn(birth_date), "years": MAX_FILE_AGE_YEARS, "earliest": _cn(earliest)}
    return None


def event_date_error(
    day: date | datetime, *, today: date, not_before: date | None = None
) -> str | None:
    """A date something happened (a contact, a report's discovery, a visit) must not be in the
    future, nor before ``not_before`` (the child's birth, where the event concerns a child), nor
    more than 25 years back in any case."""
    if isinstance(day, datetime):
        day = day.date()
    if day > today:
        return _("The date %(date)s is in the future.") % {"date": _cn(day)}
    if not_before is not None and day < not_before:
        return _("The date %(date)s is before the child's birth (%(birth)s).") % {
            "date": _cn(day),
            "birth": _cn(not_before),
        }
    earliest = earliest_birth_date(today)
    if day < earliest:
        return _("The date %(date)s is too long ago (earliest %(earliest)s).") % {
            "date": _cn(day),
            "earliest": _cn(earliest),
        }
    return None


def plan_date_error(day: date, *, today: date, years_ahead: int = 10) -> str | None:
    """A date something is due or planned (a due date, an agreement's end, a review) may be in
    the future, but not absurdly far: within 25 years back and ``years_ahead`` years ahead."""
    earliest = earliest_birth_date(today)
    if day < earliest:
        return _("The date %(date)s is too long ago (earliest %(earliest)s).") % {
            "date": _cn(day),
            "earliest": _cn(earliest),
        }
    latest = _years_before(today, -years_ahead)
    if day > latest:
        return _("The date %(date)s is too far ahead (latest %(latest)s).") % {
            "date": _cn(day),
            "latest": _cn(latest),
        }
    return None


# A parent's recorded facts reach further than a child's own dates: a disability or an illness
# since the parent's youth, a sentence that ends decades ahead.
LEGAL_FACT_YEARS_BACK = 100
LEGAL_FACT_YEARS_AHEAD = 50


def legal_fact_date_error(day: date, *, today: date) -> str | None:
    """A date a parent's legal state began or ends (a death, a court's declaration, a sentence's
    start or end, a police report, a certificate): possibly long before the child's birth or
    decades ahead, but within 100 years back and 50 years ahead (no 0001-01-01, no 9999-12-31)."""
    earliest = _years_before(today, LEGAL_FACT_YEARS_BACK)
    if day < earliest:
        return _("The date %(date)s is too long ago (earliest %(earliest)s).") % {
            "date": _cn(day),
            "earliest": _cn(earliest),
        }
    latest = _years_before(today, -LEGAL_FACT_YEARS_AHEAD)
    if day > latest:
        return _("The date %(date)s is too far ahead (latest %(latest)s).") % {
            "date": _cn(day),
            "latest": _cn(latest),
        }
    return None


# A grown-up on a child's file (a parent, a caregiver, an entrusted caregiver) is younger than
# this: the bound only keeps out dates nobody can have (0001-01-01, 1800-01-01).
MAX_PERSON_AGE_YEARS = 120


def person_birth_date_error(birth_date: date, *, today: date) -> str | None:
    """A grown-up's birth date (a parent's, a caregiver's): not in the future, nor more than
    120 years back."""
    if birth_date > today:
        return _("The birth date %(date)s is in the future.") % {"date": _cn(birth_date)}
    earliest = _years_before(today, MAX_PERSON_AGE_YEARS)
    if birth_date < earliest:
        return _("The birth date %(date)s is too long ago (earliest %(earliest)s).") % {
            "date": _cn(birth_date),
            "earliest": _cn(earliest),
        }
    return None


def birth_year_error(year: int, *, today: date) -> str | None:
    """A grown-up's year of birth, where only the year is recorded (a caregiver's)."""
    earliest = today.year - MAX_PERSON_AGE_YEARS
    if not earliest <= year <= today.year:
        return _("The year of birth must lie between %(earliest)d and %(latest)d.") % {
            "earliest": earliest,
            "latest": today.year,
        }
    return None


def id_birth_date_error(birth_date: date, *, in_number: date) -> str | None:
    """The birth date entered must be the one written in the person's ID number (digits 7 to
    14): one of the two was mistyped, and nobody can tell which but the person entering them."""
    if birth_date == in_number:
        return None
    return _(
        "The birth date entered (%(entered)s) is not the one in the ID number "
        "(%(in_number)s): check both against the household register."
    ) % {"entered": _cn(birth_date), "in_number": _cn(in_number)}


class DateKind(StrEnum):
    """What a date field holds, for the forms and serializers that check it by kind."""

    BIRTH = "birth"  # a child's birth date
    PERSON_BIRTH = "person_birth"  # a grown-up's birth date
    EVENT = "event"  # something that happened: not in the future, not before the child's birth
    PLAN = "plan"  # something due or planned: may lie ahead, not absurdly far


def date_error(
    kind: DateKind, day: date | datetime, *, today: date, not_before: date | None = None
) -> str | None:
    """The check for a date of ``kind`` (``not_before``: the child's birth, for an event)."""
    if kind is DateKind.EVENT:
        return event_date_error(day, today=today, not_before=not_before)
    if isinstance(day, datetime):
        day = day.date()
    if kind is DateKind.BIRTH:
        return birth_date_error(day, today=today)
    if kind is DateKind.PERSON_BIRTH:
        return person_birth_date_error(day, today=today)
    return plan_date_error(day, today=today)


def normalise_name(raw: str) -> str:
    """Full-width letters and spaces folded (NFKC), runs of spaces made one, every form of the
    middle dot made ``·``, ends trimmed."""
    text = unicodedata.normalize("NFKC", raw)
    for sep in _SEPARATORS:
        text = text.replace(sep, "\u00b7")
    return " ".join(text.split())


def name_error(name: str) -> str | None:
    """A person's name: Chinese characters (with · between the parts of a minority name) or
    Latin letters, at most 50 characters. ``name`` should be normalised first."""
    if not name:
        return _("The name is empty.")
    if len(name) > NAME_MAX_LENGTH:
        return _("The name has %(length)d characters; at most %(max)d are allowed.") % {
            "length": len(name),
            "max": NAME_MAX_LENGTH,
        }
    if not _NAME.fullmatch(name) or name[0] == "\u00b7" or name[-1] == "\u00b7" or "··" in name:
        return _(
            "The name may hold only Chinese characters, Latin letters, spaces and the middle "
            "dot · between the parts of a name."
        )
    return None
