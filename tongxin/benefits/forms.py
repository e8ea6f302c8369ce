"""The forms of the benefits pages: a standard's new version, an enrolment, its end. Months are
entered as months (``<input type="month">``); a full date is taken too and read as its month."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tongxin.benefits.models import (
    MAX_MONTHLY_AMOUNT,
    MIN_MONTHLY_AMOUNT,
    PROGRAMME_CHOICES,
    RATE_CHOICES,
    EndReason,
    Standard,
)
from tongxin.core.forms import DateInput, VersionMixin

MONTH_FORMATS = ["%Y-%m", "%Y-%m-%d"]


class MonthInput(forms.DateInput):
    """The browser's month picker (``2024-06``), usable on a phone."""

    input_type = "month"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m")


def month_field(label: Any, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label, required=required, input_formats=MONTH_FORMATS, widget=MonthInput()
    )


def amount_field() -> forms.DecimalField:
    return forms.DecimalField(
        label=_("Monthly amount (yuan)"),
        max_digits=8,
        decimal_places=2,
        min_value=MIN_MONTHLY_AMOUNT,
        max_value=MAX_MONTHLY_AMOUNT,
    )


def _rate_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Allowance rate"),
        choices=[("", _("No rate (not an allowance)")), *RATE_CHOICES],
        required=False,
        help_text=_("Only the orphan and de facto allowances are paid at a rate."),
    )


class StandardForm(forms.Form):
    programme = forms.ChoiceField(label=_("Programme"), choices=PROGRAMME_CHOICES)
    rate = forms.ChoiceField(
        label=_("Allowance rate"), choices=[("", _("No rate (not an allowance)")), *RATE_CHOICES]
    )
    monthly_amount = amount_field()
    effective_from = forms.DateField(label=_("In force from"), widget=DateInput())
    note = forms.CharField(
        label=_("Note"),
        max_length=Standard._meta.get_field("note").max_length,
        required=False,
        help_text=_("The document that sets it, or why it changed."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rate"].required = False


class EnrolmentForm(forms.Form):
    programme = forms.ChoiceField(label=_("Programme"), choices=PROGRAMME_CHOICES)
    rate = _rate_field()
    monthly_amount = amount_field()
    start_month = month_field(_("From (month)"))
    document_number = forms.CharField(
        label=_("Approving document no."), max_length=60, required=False
    )


class EnrolmentEditForm(VersionMixin, EnrolmentForm):
    """The same fields with the version the edit is based on; the programme is shown, fixed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["programme"].disabled = True


class EndForm(VersionMixin):
    end_month = month_field(_("Last month paid"))
    end_reason = forms.ChoiceField(
        label=_("Reason it ended"), choices=[("", _("- Select an option -")), *EndReason.choices]
    )
    end_note = forms.CharField(
        label=_("Details"),
        max_length=200,
        required=False,
        help_text=_("Needed when the reason is “Other”."),
    )
