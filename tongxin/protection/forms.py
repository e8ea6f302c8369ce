"""Forms of mandatory reports. The intake is one short screen for a phone: urgency, harms, the
child's name, what happened; the rest is optional and folded away."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.db.models.fields import BLANK_CHOICE_LABEL
from django.utils.translation import gettext_lazy as _

from tongxin.accounts.models import Organisation, OrganisationKind, User
from tongxin.core.plausible_fields import DateKind, PlausibleForm
from tongxin.geo.models import Division, Level
from tongxin.protection.access import records_for_others
from tongxin.protection.models import CALLER_INSTITUTION_TYPES, Channel, FollowUp, Harm, Urgency
from tongxin.registry.models import Child, Gender


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the service checks each (kind, size, count)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile[Any]]:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


def county_villages(user: User) -> QuerySet[Division]:
    """The villages and communities of the user's county, by code."""
    county = (user.division_id or "")[:6]
    return Division.objects.filter(
        code__startswith=county, level__in=[Level.VILLAGE, Level.COMMUNITY]
    ).order_by("code")


def county_departments(user: User) -> QuerySet[Organisation]:
    county = (user.division_id or "")[:6]
    return Organisation.objects.filter(
        kind=OrganisationKind.DEPARTMENT, division_id=f"{county}000000"
    ).order_by("name")


class ReportForm(PlausibleForm):
    """The intake. The name of a child described (not linked) is checked as a person's name;
    the discovery lies neither in the future nor before a linked child's birth."""

    plausible_dates = {"discovered_at": DateKind.EVENT}
    person_names = ("child_name",)

    urgency = forms.ChoiceField(
        label=_("How urgent is it?"), choices=Urgency.choices, widget=forms.RadioSelect
    )
    harms = forms.MultipleChoiceField(
        label=_("What do you suspect?"),
        choices=Harm.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    child_name = forms.CharField(
        label=_("Child's name"),
        max_length=50,
        required=False,
        help_text=_("Write 不详 if you do not know it."),
    )
    facts = forms.CharField(
        label=_("What happened"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    reporter_phone = forms.CharField(
        label=_("Your phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    keep_identity_confidential = forms.BooleanField(
        label=_("Keep my identity confidential"), required=False
    )
    # Optional, folded away on the page.
    child_age = forms.IntegerField(
        label=_("Child's age"), min_value=0, max_value=17, required=False
    )
    child_gender = forms.ChoiceField(
        label=_("Child's gender"),
        choices=[("", _("Not known")), *Gender.choices],
        required=False,
    )
    child_village = forms.ModelChoiceField(
        label=_("Child's village"),
        queryset=Division.objects.none(),
        required=False,
        to_field_name="code",
        empty_label=_("Not known"),
    )
    child_address = forms.CharField(label=_("Child's address"), max_length=200, required=False)
    discovered_at = forms.DateTimeField(
        label=_("When was it discovered?"),
        required=False,
        help_text=_("Leave empty for now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    discovered_where = forms.CharField(label=_("Where"), max_length=200, required=False)
    attachments = MultipleFileField(
        label=_("Photos or documents"),
        required=False,
        help_text=_("PDF, JPEG or PNG, at most 5 files of 5 MB each."),
    )
    child = forms.UUIDField(required=False, widget=forms.HiddenInput)

    # For an officer recording a report received by phone or in person.
    channel = forms.ChoiceField(
        label=_("How it was received"), choices=Channel.choices, required=False
    )
    reporter_name = forms.CharField(label=_("Caller's name"), max_length=50, required=False)
    reporting_organisation_name = forms.CharField(
        label=_("Caller's institution"), max_length=100, required=False
    )
    reporting_institution_type = forms.ChoiceField(
        label=_("Kind of the caller's institution"),
        choices=[("", BLANK_CHOICE_LABEL), *CALLER_INSTITUTION_TYPES],
        required=False,
        help_text=_("Required when the institution is named."),
    )
    handling_department = forms.ModelChoiceField(
        label=_("Handling department"),
        queryset=Organisation.objects.none(),
        required=False,
        empty_label=_("Route by the kind of harm"),
        to_field_name="public_id",
    )

    MAIN = (
        "urgency",
        "harms",
        "child_name",
        "facts",
        "reporter_phone",
        "keep_identity_confidential",
    )
    MORE = (
        "child_age",
        "child_gender",
        "child_village",
        "child_address",
        "discovered_at",
        "discovered_where",
        "attachments",
    )
    RECORDING = (
        "channel",
        "reporter_name",
        "reporting_organisation_name",
        "reporting_institution_type",
        "handling_department",
    )

    def __init__(self, *args: Any, user: User, linked_child: Child | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user, self.linked_child = user, linked_child
        village = self.fields["child_village"]
        assert isinstance(village, forms.ModelChoiceField)
        village.queryset = county_villages(user)
        department = self.fields["handling_department"]
        assert isinstance(department, forms.ModelChoiceField)
        department.queryset = county_departments(user)
        if not records_for_others(user):
            for name in self.RECORDING:
                del self.fields[name]
        if linked_child is not None:
            for name in (
                "child_name",
                "child_age",
                "child_gender",
                "child_village",
                "child_address",
            ):
                del self.fields[name]
        if user.phone:
            self.fields["reporter_phone"].help_text = _("Your account's phone is used if empty.")

    def not_before(self) -> date | None:
        return self.linked_child.birth_date if self.linked_child is not None else None

    def main_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.MAIN if n in self.fields]

    def more_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.MORE if n in self.fields]

    def recording_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.RECORDING if n in self.fields]


class TransitionForm(forms.Form):
    transition = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), max_length=2000, required=False)
    department = forms.ModelChoiceField(
        label=_("Transfer to"),
        queryset=Organisation.objects.none(),
        required=False,
        to_field_name="public_id",
    )
    result = forms.CharField(
        label=_("Result of verification and handling"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    result_for_reporter = forms.CharField(
        label=_("What the reporter is told"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, departments: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        department = self.fields["department"]
        assert isinstance(department, forms.ModelChoiceField)
        department.queryset = departments


class AddendumForm(forms.Form):
    text = forms.CharField(
        label=_("Addendum"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    attachments = MultipleFileField(label=_("Photos or documents"), required=False)


class TaskDoneForm(forms.Form):
    child = forms.ModelChoiceField(
        label=_("The child's file"),
        queryset=Child.objects.none(),
        to_field_name="public_id",
        help_text=_("Register the child first if they have no file yet."),
    )

    def __init__(self, *args: Any, children: QuerySet[Child], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        child = self.fields["child"]
        assert isinstance(child, forms.ModelChoiceField)
        child.queryset = children


class FailureForm(PlausibleForm):
    plausible_dates = {"found_on": DateKind.EVENT}

    division = forms.ModelChoiceField(
        label=_("Where"), queryset=Division.objects.none(), to_field_name="code"
    )
    organisation_name = forms.CharField(
        label=_("Institution that failed to report"), max_length=100, required=False
    )
    person = forms.CharField(label=_("Person who failed to report"), max_length=50, required=False)
    found_on = forms.DateField(label=_("Found on"), widget=forms.DateInput(attrs={"type": "date"}))
    summary = forms.CharField(
        label=_("What should have been reported"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    follow_up = forms.ChoiceField(label=_("Follow-up"), choices=FollowUp.choices)
    follow_up_note = forms.CharField(
        label=_("Follow-up: details"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    receipt_no = forms.CharField(
        label=_("Receipt number of the report that brought it to light"),
        max_length=32,
        required=False,
    )

    def __init__(self, *args: Any, divisions: QuerySet[Division], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        division = self.fields["division"]
        assert isinstance(division, forms.ModelChoiceField)
        division.queryset = divisions
