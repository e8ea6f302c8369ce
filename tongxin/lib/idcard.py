"""Chinese resident identity card numbers (公民身份号码, GB 11643-1999): pure functions.

An 18-character number reads ``RRRRRR YYYYMMDD SSS C``: the 6-digit region code (GB/T 2260) of
the place where the number was first issued, the birth date, a sequence number whose last digit
is odd for a man and even for a woman, and a check character (ISO 7064 MOD 11-2, ``0``-``9`` or
``X``).

The region code is the code *at the time of issue* and never changes afterwards, so a valid
number may carry a code that has since been abolished (Gaotai was ``622225`` before Zhangye
became a prefecture-level city in 2002). That is why an unknown region is only a warning.

``validate`` runs on every row of a spreadsheet import (100,000 rows and more), so its path for a
good number makes no regex, no gettext call and no allocation beyond a few small strings.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from operator import mul
from typing import Literal

from django.utils.formats import date_format
from django.utils.translation import gettext as _

type Gender = Literal["male", "female"]

LENGTH = 18
MASK_HEAD = 6
MASK_TAIL = 4
MASK_HIDDEN = 8
EARLIEST_BIRTH_YEAR = 1900
ADULT_AGE = 18

# Weight of position i (0-based) is 2**(17 - i) mod 11; the check character carries weight 1.
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_ZERO_OFFSET = 48 * sum(_WEIGHTS)
# The check character is the one that makes the weighted sum of all 18 positions ≡ 1 (mod 11).
_CHECK_CHARACTERS = "10X98765432"

# GB/T 2260 province-level codes: the first two digits of every region code.
PROVINCE_PREFIXES = frozenset(
    f"{n:02d}"
    for n in (
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
    )
)


def _normalise_table() -> dict[int, str | None]:
    # Full-width forms U+FF01..U+FF5E map one-to-one onto ASCII U+0021..U+007E; spreadsheets
    # and Chinese input methods produce them (１２３…Ｘ). Zero-width characters and the byte
    # order mark are not whitespace to str.split() but arrive by copy and paste all the same.
    table: dict[int, str | None] = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}
    table.update(dict.fromkeys((0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF)))
    table[ord("x")] = "X"
    table[0xFF58] = "X"  # full-width ｘ
    return table


_NORMALISE = _normalise_table()


def normalise(raw: str) -> str:
    """The number as it should be stored: ASCII digits, capital ``X``, no spaces.

    Full-width digits and letters become ASCII, all whitespace (including the full-width space
    U+3000) and zero-width characters are dropped, and a lowercase ``x`` becomes ``X``. Nothing
    else is changed, so whatever is still wrong stays visible to ``validate``.
    """
    if raw.isascii():
        # The usual case, five times faster than translate().
        return "".join(raw.split()).replace("x", "X")
    return "".join(raw.translate(_NORMALISE).split())


def _is_ascii_digits(value: str) -> bool:
    # str.isdigit alone accepts other scripts' digits (Arabic-Indic, superscripts…).
    return value.isascii() and value.isdigit()


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character (``0``-``9`` or ``X``) for the first 17 digits."""
    if len(first17) != LENGTH - 1 or not _is_ascii_digits(first17):
        raise ValueError("check_character needs exactly 17 ASCII digits")
    return _check(first17)


def _check(first17: str) -> str:
    """``check_character`` without the argument check, for callers that have done it."""
    # Weighting the ASCII codes and then taking off what the code of "0" (48) contributed is
    # the fastest pure-Python form; it runs once per row of an import.
    total = sum(map(mul, _WEIGHTS, first17.encode("ascii"))) - _ZERO_OFFSET
    return _CHECK_CHARACTERS[total % 11]


@dataclass(frozen=True)
class IdCheck:
    """The outcome of ``validate``.

    ``errors`` block saving the number; ``warnings`` ask the user to look again but do not.
    ``birth_date`` and ``gender`` are read from the number whenever its digits allow, even when
    some other rule fails, so a form can show what the number says.
    """

    number: str
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    birth_date: date | None = None
    gender: Gender | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def _gender_label(gender: str) -> str:
    return _("male") if gender == "male" else _("female")


def _age_on(birth: date, today: date) -> int:
    # A child born on 29 February turns a year older on 1 March in a common year.
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _structure_error(number: str) -> str | None:
    """The message for a number whose length or characters are wrong, else None."""
    if len(number) != LENGTH:
        if len(number) == 15 and _is_ascii_digits(number):
            return _("15-digit numbers are not accepted; use the 18-digit number")
        if not number:
            return _("Enter the ID number.")
        return _("An ID number has 18 characters; this one has %(count)d.") % {"count": len(number)}
    if not _is_ascii_digits(number[:17]):
        if "X" in number[:17]:
            return _("Only the last character of an ID number may be X; the others are digits.")
        return _("The first 17 characters of an ID number must all be digits.")
    last = number[17]
    if last != "X" and not ("0" <= last <= "9"):
        return _("The last character of an ID number must be a digit or X.")
    return None


def validate(
    raw: str,
    *,
    today: date,
    known_region: Callable[[str], bool] | None = None,
    birth_date: date | None = None,
    gender: str | None = None,
) -> IdCheck:
    """Check an ID number as typed or imported, against what else is known of the person.

    Errors (hard): wrong length (a 15-digit number has its own message: those were replaced
    by 18-digit numbers in 2004), characters other than 17 digits and a final digit or ``X``,
    an unknown province, a birth date that is not a real date, lies in the future or before
    1900, and a wrong check character. Several of the last group can be reported together.

    Warnings (soft, only for a number without errors): a region code ``known_region`` does not
    know, a birth date or ``gender`` (``"male"``/``"female"``; other values are not compared)
    other than the ones entered, and a person aged 18 or more on ``today``.
    """
    number = normalise(raw)
    structure = _structure_error(number)
    if structure is not None:
        return IdCheck(number=number, errors=(structure,))

    errors: list[str] = []
    number_gender: Gender = "male" if (ord(number[16]) - 48) % 2 else "female"

    if number[:2] not in PROVINCE_PREFIXES:
        errors.append(
            _(
                "The first two digits (%(code)s) are not a province of China: "
                "check the start of the number."
            )
            % {"code": number[:2]}
        )

    number_birth: date | None
    try:
        number_birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        number_birth = None
        errors.append(
            _("Digits 7 to 14 (%(digits)s) should be the birth date but are not a real date.")
            % {"digits": number[6:14]}
        )
    if number_birth is not None:
        if number_birth > today:
            errors.append(
                _("The birth date in the number (%(date)s) is in the future.")
                % {"date": date_format(number_birth)}
            )
        elif number_birth.year < EARLIEST_BIRTH_YEAR:
            errors.append(
                _("The birth date in the number (%(date)s) is before 1900.")
                % {"date": date_format(number_birth)}
            )

    expected = _check(number[:17])
    if number[17] != expected:
        # The last character is rarely the one mistyped: say so, or people "fix" it and save a
        # wrong number that then passes every check.
        errors.append(
            _(
                "The last character (the check character) should be %(expected)s, not "
                "%(found)s: usually another digit was mistyped. Compare the whole number with "
                "the ID card or the household register."
            )
            % {"expected": expected, "found": number[17]}
        )

    if errors:
        return IdCheck(
            number=number, errors=tuple(errors), birth_date=number_birth, gender=number_gender
        )
    assert number_birth is not None  # no errors means the date was real

    warnings: list[str] = []
    if known_region is not None and not known_region(number[:6]):
        warnings.append(
            _(
                "The region code %(code)s (the first six digits) is not in our list of regions. "
                "Old codes are still valid on older cards; check the number if in doubt."
            )
            % {"code": number[:6]}
        )
    if birth_date is not None and birth_date != number_birth:
        warnings.append(
            _("The number gives the birth date %(in_number)s, but %(entered)s was entered.")
            % {"in_number": date_format(number_birth), "entered": date_format(birth_date)}
        )
    if gender in ("male", "female") and gender != number_gender:
        warnings.append(
            _("The 17th digit says the person is %(in_number)s, but %(entered)s was entered.")
            % {"in_number": _gender_label(number_gender), "entered": _gender_label(gender)}
        )
    age = _age_on(number_birth, today)
    if age >= ADULT_AGE:
        warnings.append(
            _("By this number the person is %(age)d years old, no longer a child: check it.")
            % {"age": age}
        )

    return IdCheck(
        number=number,
        warnings=tuple(warnings),
        birth_date=number_birth,
        gender=number_gender,
    )


def mask(number: str) -> str:
    """The number for people who may not see it: ``620724********123X``.

    Keeps the first 6 and last 4 characters of an 18-character number. Anything else (a typo,
    a 15-digit number, a fragment) keeps at least 8 characters hidden and never shows more
    than 6 in front and 4 behind, so a short value is not given away by its mask. The hidden
    part is always shown as exactly 8 asterisks, whatever its length, and this never raises.
    """
    value = normalise(number)
    head = min(MASK_HEAD, max(0, len(value) - MASK_HIDDEN))
    tail = min(MASK_TAIL, max(0, len(value) - MASK_HIDDEN - head))
    return value[:head] + "*" * MASK_HIDDEN + (value[len(value) - tail :] if tail else "")


def generate(rng: random.Random, *, region: str, birth_date: date, gender: str) -> str:
    """A synthetic number with a correct check character, for demo data and tests.

    The sequence digits come from ``rng``; the 17th digit is odd for ``"male"``, even for
    ``"female"``. The birth date is not checked, so tests can build future or ancient ones.
    """
    if len(region) != 6 or not _is_ascii_digits(region):
        raise ValueError("region must be 6 ASCII digits")
    if gender not in ("male", "female"):
        raise ValueError('gender must be "male" or "female"')
    first_two = rng.randrange(100)
    last = rng.randrange(0, 10, 2) + (1 if gender == "male" else 0)
    if first_two == 0 and last == 0:
        last = 2  # sequence 000 is never issued
    first17 = (
        f"{region}{birth_date.year:04d}{birth_date.month:02d}{birth_date.day:02d}"
        f"{first_two:02d}{last}"
    )
    return first17 + check_character(first17)
