"""Forms of the visits app: a contact (recorded on a phone, one screen), its addendum, a
work-log entry. Plain forms: the services check the rules and the views hand them the values."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongxin.accounts.models import User
from tongxin.protection.models import Severity
from tongxin.registry.forms import DateInput
from tongxin.registry.models import Child, ChildStatus
from tongxin.visits.models import CHECKLIST, Check, ContactKind, WorkKind
from tongxin.visits.services import ProblemInput

# A phone's location, rounded to what the model keeps (six decimals: about 10 cm).
_LOCATION_PLACES = Decimal("0.000001")
# Up to this many children of the user's scope are offered as checkboxes without a search.
WORKLOG_CHILDREN_SHOWN = 60


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%H:%M")


def _problem_fields(item: str) -> dict[str, forms.Field]:
    return {
        f"{item}_problem": forms.CharField(
            label=_("Problem found"),
            required=False,
            max_length=2000,
            widget=forms.Textarea(attrs={"rows": 2}),
        ),
        f"{item}_solution": forms.CharField(
            label=_("Proposed solution"),
            required=False,
            max_length=2000,
            widget=forms.Textarea(attrs={"rows": 2}),
        ),
        f"{item}_due_on": forms.DateField(
            label=_("To be solved by"), required=False, widget=DateInput()
        ),
        f"{item}_severity": forms.ChoiceField(
            label=_("Severity"), choices=Severity.choices, initial=Severity.MEDIUM
        ),
    }


@dataclass(frozen=True)
class ChecklistRow:
    """One checklist item as the form shows it: the good / concern / not-seen choice and, for a
    new contact, the problem found that a concern may become."""

    name: str
    check: forms.BoundField
    problem: list[forms.BoundField]
    has_problem: bool


class ContactForm(forms.Form):
    """A contact, as a village director records it on a phone: how, when, who was met, the
    checklist, notes and, optionally, where. For a new contact each checklist item marked
    "concern" may carry a problem found; an edit (``editing``) changes the contact only."""

    kind = forms.ChoiceField(label=_("How"), choices=ContactKind.choices, widget=forms.RadioSelect)
    day = forms.DateField(label=_("Date"), widget=DateInput())
    time = forms.TimeField(label=_("Time"), required=False, widget=TimeInput())
    met_child = forms.BooleanField(label=_("the child"), required=False)
    met_caregiver = forms.BooleanField(label=_("the caregiver"), required=False)
    met_parent = forms.BooleanField(label=_("a parent"), required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    latitude = forms.DecimalField(
        required=False, min_value=-90, max_value=90, widget=forms.HiddenInput
    )
    longitude = forms.DecimalField(
        required=False, min_value=-180, max_value=180, widget=forms.HiddenInput
    )

    def __init__(
        self,
        *args: Any,
        editing: bool = False,
        siblings: QuerySet[Child] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        for item, label in CHECKLIST:
            self.fields[item] = forms.ChoiceField(
                label=label, choices=Check.choices, initial=Check.NOT_SEEN, widget=forms.RadioSelect
            )
            if not editing:
                self.fields.update(_problem_fields(item))
        if editing:
            self.fields["version"] = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
        else:
            self.fields["idempotency_key"] = forms.CharField(
                widget=forms.HiddenInput, max_length=100, initial=uuid.uuid4
            )
            if siblings is not None:
                self.fields["also"] = forms.ModelMultipleChoiceField(
                    label=_("Also about"),
                    queryset=siblings,
                    to_field_name="public_id",
                    required=False,
                    widget=forms.CheckboxSelectMultiple,
                )

    def checklist_rows(self) -> list[ChecklistRow]:
        rows = []
        for item, _label in CHECKLIST:
            problem = (
                []
                if self.editing
                else [
                    self[f"{item}_{part}"] for part in ("problem", "solution", "due_on", "severity")
                ]
            )
            has_problem = bool(problem) and (
                bool(problem[0].value()) or any(p.errors for p in problem)
            )
            rows.append(ChecklistRow(item, self[item], problem, has_problem))
        return rows

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.editing:
            return data
        for item, _label in CHECKLIST:
            described = (data.get(f"{item}_problem") or "").strip()
            if described and data.get(item) != Check.CONCERN:
                self.add_error(item, _("A problem needs its checklist item marked 'concern'."))
            elif not described and (
                (data.get(f"{item}_solution") or "").strip() or data.get(f"{item}_due_on")
            ):
                self.add_error(f"{item}_problem", _("Describe the problem found."))
        return data

    def contact_fields(self) -> dict[str, Any]:
        """The contact's own fields, as ``contact_record``/``contact_update`` take them."""
        names = [
            "kind",
            "day",
            "time",
            "met_child",
            "met_caregiver",
            "met_parent",
            "notes",
            "latitude",
            "longitude",
            *(item for item, _label in CHECKLIST),
        ]
        fields = {name: self.cleaned_data[name] for name in names}
        for name in ("latitude", "longitude"):
            # A phone gives any number of decimals; six (about 10 cm) are kept.
            if fields[name] is not None:
                fields[name] = fields[name].quantize(_LOCATION_PLACES)
        return fields

    def problems(self, owner: User) -> list[ProblemInput]:
        """The problems found, one per checklist item marked "concern" and described."""
        found = []
        for item, _label in CHECKLIST:
            description = (self.cleaned_data.get(f"{item}_problem") or "").strip()
            if description and self.cleaned_data.get(item) == Check.CONCERN:
                found.append(
                    ProblemInput(
                        checklist_item=item,
                        description=description,
                        solution=self.cleaned_data[f"{item}_solution"].strip(),
                        severity=self.cleaned_data[f"{item}_severity"],
                        owner=owner,
                        due_on=self.cleaned_data[f"{item}_due_on"],
                    )
                )
        return found


class AddendumForm(forms.Form):
    text = forms.CharField(
        label=_("Addendum"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


def children_to_choose(user: User, q: str) -> QuerySet[Child]:
    """The active children of the user's scope a work-log entry may concern: those matching
    ``q`` (name, pinyin or initials), or every one when there is no search."""
    children = Child.objects.visible_to(user).filter(status=ChildStatus.ACTIVE)
    if q:
        key = q.lower().replace(" ", "")
        match = Q(name__contains=q)
        if key.isascii():
            match |= Q(name_pinyin__startswith=key) | Q(name_initials__startswith=key)
        children = children.filter(match)
    return children.select_related("village").order_by("village_id", "name_pinyin", "pk")


class WorkLogForm(forms.Form):
    """A work-log entry (工作日志); the children it concerns are chosen among those in scope."""

    day = forms.DateField(label=_("Date"), widget=DateInput())
    kind = forms.ChoiceField(label=_("Kind of work"), choices=WorkKind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    children = forms.ModelMultipleChoiceField(
        label=_("Children concerned"),
        queryset=Child.objects.none(),
        to_field_name="public_id",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("day", timezone.localdate())
        super().__init__(*args, **kwargs)
        field = self.fields["children"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = Child.objects.visible_to(user)

    def model_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in ("day", "kind", "title", "notes")}
