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
from tongxin.core.forms import DateInput
from tongxin.protection.rules import Severity
from tongxin.registry.models import Child, ChildStatus
from tongxin.visits.models import CHECKLIST, Check, ContactKind, WorkKind
from tongxin.visits.services import ProblemInput, contact_errors

# A phone's location, rounded to what the model keeps (six decimals: about 10 cm).
_LOCATION_PLACES = Decimal("0.000001")
# Up to this many children of the user's scope are offered as checkboxes without a search.
WORKLOG_CHILDREN_SHOWN = 60


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%H:%M")


def _problem_fields(item: str, family: QuerySet[Child] | None) -> dict[str, forms.Field]:
    about: dict[str, forms.Field] = {}
    if family is not None:
        about[f"{item}_children"] = forms.ModelMultipleChoiceField(
            label=_("Children it is about"),
            queryset=family,
            to_field_name="public_id",
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )
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
        **about,
    }


# The parts of a checklist item's "problem found", in the order the form shows them.
PROBLEM_PARTS = ("problem", "solution", "due_on", "severity")


@dataclass(frozen=True)
class ChecklistRow:
    """One checklist item as the form shows it: the good / concern / not-seen choice and, for a
    new contact, the problem found that a concern may become."""

    name: str
    check: forms.BoundField
    problem: list[forms.BoundField]
    has_problem: bool
    # The children the problem is about, when the family has several.
    about: forms.BoundField | None = None


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
    child_not_seen_reason = forms.CharField(
        label=_("Why the child was not seen"),
        help_text=_("For a home visit without the child (at school, in hospital …)."),
        required=False,
        max_length=300,
    )
    # One tap for an honest routine contact: every item still "not seen" becomes "good" (the
    # script shows it at once; without it the server does it), each item can still be changed.
    all_good = forms.BooleanField(label=_("All good"), required=False)
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
        child: Child,
        editing: bool = False,
        siblings: QuerySet[Child] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        # The contact may not predate the birth of the child whose form it is.
        self.born = child.birth_date
        # A problem found is about the child of the form unless other children are ticked.
        family = None
        if siblings is not None and siblings.exists():
            family = Child.objects.filter(
                Q(pk=child.pk) | Q(pk__in=siblings.values("pk"))
            ).order_by("birth_date", "pk")
        for item, label in CHECKLIST:
            self.fields[item] = forms.ChoiceField(
                label=label, choices=Check.choices, initial=Check.NOT_SEEN, widget=forms.RadioSelect
            )
            if not editing:
                self.fields.update(_problem_fields(item, family))
                if family is not None:
                    self.initial.setdefault(f"{item}_children", [child.public_id])
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
            problem = [] if self.editing else [self[f"{item}_{part}"] for part in PROBLEM_PARTS]
            about = self[f"{item}_children"] if f"{item}_children" in self.fields else None
            has_problem = bool(problem) and (
                bool(problem[0].value()) or any(p.errors for p in problem)
            )
            has_problem = has_problem or bool(about is not None and about.errors)
            rows.append(ChecklistRow(item, self[item], problem, has_problem, about))
        return rows

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("all_good"):
            for item, _label in CHECKLIST:
                if data.get(item) == Check.NOT_SEEN:
                    data[item] = Check.GOOD
        # What the services refuse, said on the fields at once (the same rule as the API's).
        given = {name: data[name] for name in self._contact_names() if name in data}
        errors = contact_errors(given, today=timezone.localdate(), born=self.born)
        for name, messages in errors.items():
            # A field the form refused already (a date it could not read) keeps its own message.
            if name in given and name not in self.errors:
                self.add_error(name, messages)
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
            elif (
                described and f"{item}_children" in self.fields and not data.get(f"{item}_children")
            ):
                self.add_error(f"{item}_children", _("Choose the child the problem is about."))
        return data

    @staticmethod
    def _contact_names() -> list[str]:
        return [
            "kind",
            "day",
            "time",
            "met_child",
            "met_caregiver",
            "met_parent",
            "child_not_seen_reason",
            "notes",
            "latitude",
            "longitude",
            *(item for item, _label in CHECKLIST),
        ]

    def contact_fields(self) -> dict[str, Any]:
        """The contact's own fields, as ``contact_record``/``contact_update`` take them."""
        fields = {name: self.cleaned_data[name] for name in self._contact_names()}
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
                        children=tuple(self.cleaned_data.get(f"{item}_children") or ()),
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
