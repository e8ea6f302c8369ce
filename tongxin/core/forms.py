"""Form helpers every app's pages share: date and secret inputs, forms generated from model
fields, the version an edit is based on, a service's errors put on the form, and the picker of
a report period."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.forms.models import fields_for_model
from django.utils.translation import gettext as _

from tongxin.core.periods import Period, PeriodKind, format_period, parse_period, periods_in
from tongxin.core.plausible_fields import PlausibleForm


class DateInput(forms.DateInput):
    """The browser's date picker (ISO value), usable on a phone."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class SecretInput(forms.TextInput):
    """The input of a full ID number. It shows back only what the user typed, when the form is
    refused (18 characters are not retyped on a phone): the forms never fill it from the file,
    it is sent by POST only (never in an address), and the browser neither suggests nor keeps
    it."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"autocomplete": "off", "spellcheck": "false", **(attrs or {})})


def add_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: on the field it names, else on the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class ModelFieldsForm(PlausibleForm):
    """A form whose fields are the named model fields (labels, choices, lengths from the
    model), in front of the fields the subclass declares; its dates and person names are
    checked by ``lib.plausible`` (``plausible_dates``, ``person_names``)."""

    model: ClassVar[type[Model]]
    model_fields: ClassVar[tuple[str, ...]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dates: dict[str, forms.Widget | type[forms.Widget]] = {
            name: DateInput()
            for name in self.model_fields
            if self.model._meta.get_field(name).get_internal_type() == "DateField"
        }
        generated = fields_for_model(self.model, fields=self.model_fields, widgets=dates)
        self.fields = {**generated, **self.fields}
        if self.field_order:
            self.order_fields(self.field_order)

    def model_values(self) -> dict[str, Any]:
        """The cleaned values of the model fields, as the services take them."""
        return {name: self.cleaned_data[name] for name in self.model_fields}


class VersionMixin(forms.Form):
    """The version the edit is based on: an edit of an older version is refused."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


# --- the period picker ----------------------------------------------------------------------

# Years offered in the period picker, counting back from this one.
PICKER_YEARS = 3


def period_label(period: Period) -> str:
    """A period as people read it: a month, a quarter or a year, in the page's language."""
    year = period.start.year
    if period.kind is PeriodKind.MONTH:
        return _("%(month)d/%(year)d") % {"year": year, "month": period.start.month}
    if period.kind is PeriodKind.QUARTER:
        quarter = (period.start.month - 1) // 3 + 1
        return _("Q%(quarter)d %(year)d") % {"year": year, "quarter": quarter}
    return _("Year %(year)d") % {"year": year}


def period_picker(today: date, chosen: Period) -> list[tuple[str, list[tuple[str, str]]]]:
    """Options grouped by year, newest first: the year, its quarters and its months, none of
    them starting after today."""
    years = sorted({today.year - n for n in range(PICKER_YEARS)} | {chosen.start.year})
    groups = []
    for year in reversed(years):
        whole = parse_period(str(year))
        periods = [
            whole,
            *periods_in(whole, PeriodKind.QUARTER),
            *periods_in(whole, PeriodKind.MONTH),
        ]
        options = [
            (format_period(p), period_label(p)) for p in periods if p.start <= today or p == chosen
        ]
        if options:
            groups.append((str(year), options))
    return groups
