"""Typed query parameters: the one way a list page, its export and the API read a query string.

A query string is typed by hand, pasted from a chat or sent by another system: every value is
hostile. ``str.isdigit`` is true for ``²`` and ``٣``, and ``int()`` of a 5,000-digit string
raises, so numbers are read as ASCII digits only, with a bound. A value that is not one the
parameter takes is recorded under the parameter's name, with a message in the user's language
naming the field (and, for a choice, the values it takes); the caller shows them on the filter
form or answers 400 with them (``raise_errors``). Nothing here echoes the value back: a search
box can hold a full ID number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _

# Longer than any number a parameter takes; int() is never asked to read more.
_MAX_DIGITS = 9


def ascii_int(text: str) -> int | None:
    """``text`` as a non-negative integer written with the digits 0–9, else None."""
    if not text or len(text) > _MAX_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


class QueryParams:
    """Reads of one query string (a ``QueryDict`` or a plain mapping), collecting errors."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = params
        self.errors: dict[str, list[str]] = {}

    def __contains__(self, name: str) -> bool:
        return name in self.params

    def text(self, name: str, *, default: str = "", max_length: int = 100) -> str:
        """The value trimmed and cut to ``max_length``. NUL never matches anything and
        PostgreSQL refuses it in a query: it is dropped."""
        value = self.params.get(name, default)
        if isinstance(value, list):  # a plain mapping built from a JSON body
            value = value[-1] if value else default
        return str(value or "").replace("\x00", "").strip()[:max_length]

    def add_error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def integer(
        self, name: str, *, label: str | Promise, minimum: int = 0, maximum: int
    ) -> int | None:
        """A whole number from ``minimum`` to ``maximum``; None when absent or empty."""
        text = self.text(name)
        if not text:
            return None
        number = ascii_int(text)
        if number is None or not minimum <= number <= maximum:
            self.add_error(name, self.integer_message(label, minimum, maximum))
            return None
        return number

    @staticmethod
    def integer_message(label: str | Promise, minimum: int, maximum: int) -> str:
        return _(
            "%(label)s must be a whole number from %(min)d to %(max)d, written with the digits 0-9."
        ) % {"label": label, "min": minimum, "max": maximum}

    def choice(
        self,
        name: str,
        choices: Iterable[str] | Iterable[tuple[str, str | Promise]],
        *,
        label: str | Promise,
        default: str = "",
        blank: bool = True,
    ) -> str:
        """One of ``choices`` (values, or ``(value, label)`` pairs whose labels the message
        shows beside the values); ``default`` when absent (and, with ``blank``, when empty)."""
        allowed = [c if isinstance(c, tuple) else (c, "") for c in choices]
        if name not in self.params:
            return default
        value = self.text(name)
        if value == "" and blank:
            return ""
        if value not in {v for v, _label in allowed}:
            self.add_error(name, self.choice_message(label, allowed))
            return default
        return value

    @staticmethod
    def choice_message(label: str | Promise, allowed: Iterable[tuple[str, str | Promise]]) -> str:
        # The values, for the systems that send them; their labels, for the people who read.
        shown = ", ".join(f"{v} ({text})" if text else v for v, text in allowed if v) or "—"
        return _("%(label)s must be one of: %(allowed)s.") % {"label": label, "allowed": shown}

    def digits(self, name: str, *, label: str | Promise, length: int) -> str:
        """A code of exactly ``length`` ASCII digits (a division code); "" when absent."""
        text = self.text(name)
        if not text:
            return ""
        if len(text) != length or not (text.isascii() and text.isdigit()):
            self.add_error(
                name,
                _("%(label)s must be a code of %(length)d digits.")
                % {"label": label, "length": length},
            )
            return ""
        return text

    def raise_errors(self) -> None:
        """Raise the errors found so far, each under its parameter's name."""
        if self.errors:
            raise ValidationError(self.errors)
