"""``lib.plausible`` on the fields of forms and API serializers: the glue, not the rules.

A form lists its date fields by kind (``plausible_dates``) and its person names
(``person_names``); a serializer uses the fields below. Both check with the same functions of
``lib.plausible`` against today's date, and an event against the child's birth when the form or
serializer was given it (``born_on``), so a date refused on the page is refused by the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar

from django import forms
from django.utils import timezone
from rest_framework import serializers

from tongxin.lib import plausible
from tongxin.lib.plausible import DateKind as DateKind

# The serializer context key holding the birth date an event may not precede.
BORN_ON = "born_on"


def _local(value: date | datetime) -> date | datetime:
    """A moment as the county's clock reads it (a date as it is)."""
    if isinstance(value, datetime) and timezone.is_aware(value):
        try:
            return timezone.localtime(value)
        except OverflowError:  # 0001-01-01 00:00 in UTC+8 has no UTC equivalent
            return value.replace(tzinfo=None)
    return value


def date_error(
    kind: DateKind, value: date | datetime, *, not_before: date | None = None
) -> str | None:
    return plausible.date_error(
        kind, _local(value), today=timezone.localdate(), not_before=not_before
    )


def name_error(value: str) -> str | None:
    return plausible.name_error(value) if value else None


# --- forms -----------------------------------------------------------------------------------


class PlausibleForm(forms.Form):
    """A form whose dates (``plausible_dates``: field name → kind) and person names
    (``person_names``: normalised, then checked when given) are checked by ``lib.plausible``.
    ``born_on``: the child's birth date, which no event on the form may precede."""

    plausible_dates: ClassVar[Mapping[str, DateKind]] = {}
    person_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, born_on: date | None = None, **kwargs: Any) -> None:
        self.born_on = born_on
        super().__init__(*args, **kwargs)

    def not_before(self) -> date | None:
        """The day no event on the form may precede (a form that also asks the birth date
        uses the one typed)."""
        return self.born_on

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in self.person_names:
            if isinstance(data.get(name), str):
                data[name] = plausible.normalise_name(data[name])
                if error := name_error(data[name]):
                    self.add_error(name, error)
        # In order: a birth date first, so that an event is compared with a plausible one.
        for name, kind in self.plausible_dates.items():
            value = data.get(name)
            if not isinstance(value, date):
                continue
            not_before = self.not_before() if kind is DateKind.EVENT else None
            if error := date_error(kind, value, not_before=not_before):
                self.add_error(name, error)
        return data


# --- API serializers -------------------------------------------------------------------------


def _not_before(field: serializers.Field[Any, Any, Any, Any]) -> date | None:
    born_on = field.context.get(BORN_ON)
    return born_on if isinstance(born_on, date) else None


class PlausibleDateField(serializers.DateField):
    """A date of ``kind``, checked by ``lib.plausible`` (an event against the serializer's
    ``born_on`` context)."""

    def __init__(self, *, kind: DateKind, **kwargs: Any) -> None:
        self.kind = kind
        super().__init__(**kwargs)

    def to_internal_value(self, value: Any) -> date:
        day = super().to_internal_value(value)
        if error := date_error(self.kind, day, not_before=_not_before(self)):
            raise serializers.ValidationError(error)
        return day


class PlausibleDateTimeField(serializers.DateTimeField):
    """A moment of ``kind``, checked by ``lib.plausible``. A date so far back or ahead that it
    has no equivalent in UTC (``0001-01-01``) is refused as implausible, not a 500."""

    def __init__(self, *, kind: DateKind, **kwargs: Any) -> None:
        self.kind = kind
        super().__init__(**kwargs)

    def enforce_timezone(self, value: datetime) -> datetime:
        try:
            return super().enforce_timezone(value)
        except OverflowError:
            error = date_error(self.kind, value.replace(tzinfo=None))
            if error is None:  # cannot be: only the first and last days of year 1-9999 overflow
                self.fail("invalid", format="YYYY-MM-DDThh:mm")
            raise serializers.ValidationError(error) from None

    def to_internal_value(self, value: Any) -> datetime:
        moment = super().to_internal_value(value)
        if error := date_error(self.kind, moment, not_before=_not_before(self)):
            raise serializers.ValidationError(error)
        return moment


class PersonNameField(serializers.CharField):
    """A person's name: normalised, then checked by ``lib.plausible`` when given."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", plausible.NAME_MAX_LENGTH)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        name = plausible.normalise_name(super().to_internal_value(data))
        if error := name_error(name):
            raise serializers.ValidationError(error)
        return name
