"""Forms of the child's file. Plain forms (never bound to the stored object: the services compare
the submitted values with the stored ones), their fields generated from the models so that
labels and choices have one source."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongxin.accounts.models import User
from tongxin.core.documents import document_kind
from tongxin.core.forms import DateInput, ModelFieldsForm, SecretInput, VersionMixin
from tongxin.core.plausible_fields import DateKind, PlausibleForm
from tongxin.geo.models import Division, Level
from tongxin.lib import plausible
from tongxin.registry.models import (
    CareAgreement,
    CategoryCode,
    Child,
    ChildStatus,
    Household,
    Migration,
    Parent,
)

# Re-exported: the facts the child's and the family's forms ask, in order, are the services'.
from tongxin.registry.services import CHILD_FORM_FIELDS as CHILD_FORM_FIELDS
from tongxin.registry.services import HOUSEHOLD_FORM_FIELDS as HOUSEHOLD_FORM_FIELDS


def _id_number_field(help_text: Any, label: Any = None) -> forms.CharField:
    return forms.CharField(
        label=label or _("ID number"),
        required=False,
        max_length=40,
        help_text=help_text,
        widget=SecretInput(),
    )


class ChildFactsForm(ModelFieldsForm):
    """The child's own facts, for a new file."""

    model = Child
    model_fields = CHILD_FORM_FIELDS
    id_number = _id_number_field(_("18 characters. Leave empty and give the reason if none."))
    # The number beside the reason there is none.
    field_order = [*CHILD_FORM_FIELDS[:4], "id_number"]
    plausible_dates = {
        "birth_date": DateKind.BIRTH,
        "registered_on": DateKind.EVENT,
        "disability_certificate_expiry": DateKind.PLAN,
    }
    person_names = ("name",)

    def not_before(self) -> date | None:
        # Registered before birth cannot be: the birth date typed on the form, once valid.
        if "birth_date" not in self.errors and isinstance(
            born := self.cleaned_data.get("birth_date"), date
        ):
            return born
        return None


class ChildEditForm(VersionMixin, ChildFactsForm):
    """The child's own facts, for an edit: an empty ID number keeps the stored one."""

    id_number = _id_number_field(_("Leave empty to keep the number on file."))


class HouseholdForm(VersionMixin, ModelFieldsForm):
    model = Household
    model_fields = HOUSEHOLD_FORM_FIELDS
    caregiver_id_number = _id_number_field(
        _("Leave empty to keep the number on file."), _("Caregiver's ID number")
    )
    # The caregiver's number beside the caregiver's other facts.
    field_order = [
        *HOUSEHOLD_FORM_FIELDS[: HOUSEHOLD_FORM_FIELDS.index("caregiver_phone") + 1],
        "caregiver_id_number",
    ]
    plausible_dates = {"dibao_since": DateKind.EVENT, "tekun_since": DateKind.EVENT}
    person_names = ("caregiver_name",)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        year = data.get("caregiver_birth_year")
        if isinstance(year, int) and (
            error := plausible.birth_year_error(year, today=timezone.localdate())
        ):
            self.add_error("caregiver_birth_year", error)
        return data


def villages_in_scope(user: User) -> Any:
    return Division.objects.visible_to(user).filter(level__in=[Level.VILLAGE, Level.COMMUNITY])


class VillageChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        assert isinstance(obj, Division)
        return obj.full_name()


class NewHouseholdForm(forms.Form):
    """A family not yet on file: where it lives."""

    village = VillageChoiceField(label=_("Village"), queryset=Division.objects.none())
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["village"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = villages_in_scope(user).order_by("code")


class ParentForm(ModelFieldsForm):
    """The father's or mother's record. ``token`` is the version of the stored record the edit
    was based on (``core.versions.record_version``): an edit of an older one is refused."""

    model = Parent
    model_fields = ("name", "birth_date", "phone", "status", "capacity", "capacity_note")
    id_number = _id_number_field(_("Leave empty to keep the number on file."))
    field_order = ["name", "birth_date", "id_number"]
    token = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    plausible_dates = {"birth_date": DateKind.PERSON_BIRTH}
    person_names = ("name",)


class MigrationForm(ModelFieldsForm):
    """A parent's spell of work away; ``born_on`` is the parent's birth date where known (a
    spell may begin before the children were born, not before the parent was)."""

    model = Migration
    model_fields = ("left_on", "returned_on", "destination", "work_place", "phone")
    token = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    plausible_dates = {"left_on": DateKind.EVENT, "returned_on": DateKind.EVENT}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["left_on"].help_text = _("Leave empty when the start is unknown.")
        self.fields["returned_on"].help_text = _("Leave empty while still away.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        left_on, returned_on = data.get("left_on"), data.get("returned_on")
        if left_on and returned_on and returned_on < left_on:
            self.add_error("returned_on", _("The return cannot come before the departure."))
        return data


class StatusForm(VersionMixin, PlausibleForm):
    status = forms.ChoiceField(label=_("Status"), choices=ChildStatus.choices)
    status_reason = forms.CharField(label=_("Reason"), max_length=200, required=False)
    status_since = forms.DateField(label=_("In effect since"), widget=DateInput())
    plausible_dates = {"status_since": DateKind.EVENT}


class TransferForm(VersionMixin, forms.Form):
    village = VillageChoiceField(label=_("New village"), queryset=Division.objects.none())
    reason = forms.CharField(label=_("Reason for the transfer"), max_length=200)

    def __init__(self, *args: Any, user: User, current: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["village"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = villages_in_scope(user).exclude(code=current).order_by("code")


class DecisionForm(VersionMixin, forms.Form):
    code = forms.ChoiceField(label=_("Category"), choices=CategoryCode.choices)
    include = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("In the category")), ("0", _("Not in the category"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea)


class AgreementForm(ModelFieldsForm):
    model = CareAgreement
    model_fields = (
        "entrusted_by",
        "caregiver_name",
        "caregiver_relation",
        "caregiver_phone",
        "caregiver_address",
        "signed_on",
        "valid_until",
    )
    caregiver_id_number = _id_number_field(
        _("The entrusted caregiver's ID number (optional)."), _("Caregiver's ID number")
    )
    field_order = [*model_fields[:4], "caregiver_id_number"]
    plausible_dates = {"signed_on": DateKind.EVENT, "valid_until": DateKind.PLAN}
    person_names = ("caregiver_name",)
    document = forms.FileField(
        label=_("Scanned agreement"),
        required=False,
        help_text=_("PDF, JPEG or PNG, at most 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )

    def clean_document(self) -> Any:
        upload = self.cleaned_data.get("document")
        if upload:
            try:
                document_kind(upload)
            except ValidationError as exc:
                raise ValidationError(exc.message_dict["document"]) from exc
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        signed_on, valid_until = data.get("signed_on"), data.get("valid_until")
        if signed_on and valid_until and valid_until < signed_on:
            self.add_error("valid_until", _("The agreement cannot end before it was signed."))
        return data


class TerminateForm(PlausibleForm):
    terminated_on = forms.DateField(label=_("Terminated on"), widget=DateInput())
    plausible_dates = {"terminated_on": DateKind.EVENT}


class IncapacityForm(PlausibleForm):
    parents_told_on = forms.DateField(label=_("Parents told on"), widget=DateInput())
    plausible_dates = {"parents_told_on": DateKind.EVENT}
