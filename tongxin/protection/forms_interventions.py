"""Forms of guardianship interventions (监护干预): record one, assess it, end it. One column,
native date pickers; the service checks the rules and names the field that is wrong."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.db.models import QuerySet
from django.db.models.fields import BLANK_CHOICE_LABEL
from django.utils.translation import gettext_lazy as _

from tongxin.core.forms import DateInput, ModelFieldsForm
from tongxin.core.plausible_fields import DateKind, PlausibleForm
from tongxin.protection.forms import MultipleFileField
from tongxin.protection.interventions import AssessmentInput
from tongxin.protection.models import (
    AssessmentConclusion,
    Intervention,
    MandatoryReport,
)


class ReportChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: MandatoryReport) -> str:
        return f"{obj.receipt_no} · {obj.get_status_display()}"


class InterventionForm(ModelFieldsForm):
    """``born_on``: the child's birth date, which the decision cannot precede. A placement may
    start, and an order end, ahead of today."""

    plausible_dates = {
        "decided_on": DateKind.EVENT,
        "starts_on": DateKind.PLAN,
        "ends_on": DateKind.PLAN,
    }
    model: ClassVar[type[Intervention]] = Intervention
    model_fields = (
        "kind",
        "placement",
        "placed_with",
        "decided_on",
        "decision_maker",
        "document_number",
        "starts_on",
        "ends_on",
        "notes",
    )
    report = ReportChoiceField(
        label=_("Mandatory report"), queryset=MandatoryReport.objects.none(), required=False
    )
    documents = MultipleFileField(
        label=_("Documents"),
        required=False,
        help_text=_("The decision, order or judgment: PDF, JPEG or PNG, at most 5 MB each."),
    )

    def __init__(
        self, *args: Any, reports: QuerySet[MandatoryReport], report_required: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        report = self.fields["report"]
        assert isinstance(report, forms.ModelChoiceField)
        report.queryset = reports
        report.required = report_required
        if report_required:
            report.help_text = _("The report your department handles that led to it.")
        self.fields["placement"].help_text = _("For a temporary guardianship only.")
        self.fields["placed_with"].help_text = _(
            "The relative, foster family or institution (temporary guardianship)."
        )
        self.fields["decision_maker"].help_text = _(
            "The authority that decided it, e.g. 高台县人民法院, and the person if known."
        )
        self.fields["starts_on"].required = False
        self.fields["starts_on"].help_text = _("Default: the day of the decision.")
        self.fields["ends_on"].help_text = _(
            "A protection order's or guidance order's last day; a temporary guardianship's "
            "planned review."
        )
        for name in ("kind", "placement"):
            self.fields[name].widget.attrs["class"] = "wide"


class AssessmentFields(PlausibleForm):
    plausible_dates = {"assessed_on": DateKind.EVENT}

    assessed_on = forms.DateField(label=_("Assessed on"), widget=DateInput())
    assessor = forms.CharField(label=_("Assessed by"), max_length=100)
    conclusion = forms.ChoiceField(
        label=_("Conclusion"), choices=[("", BLANK_CHOICE_LABEL), *AssessmentConclusion.choices]
    )
    summary = forms.CharField(
        label=_("Assessment"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Can the guardian take the child back? Who will care for the child?"),
    )

    def assessment(self) -> AssessmentInput | None:
        data = self.cleaned_data
        if not any(data.get(k) for k in ("assessed_on", "assessor", "conclusion", "summary")):
            return None
        return AssessmentInput(
            assessed_on=data.get("assessed_on"),
            assessor=data.get("assessor") or "",
            conclusion=data.get("conclusion") or "",
            summary=data.get("summary") or "",
        )


class AssessmentForm(AssessmentFields):
    documents = MultipleFileField(
        label=_("Documents"), required=False, help_text=_("The assessment report, if any.")
    )


class EndForm(AssessmentFields):
    """The end, and the assessment it needs when none is recorded yet (optional here: the
    service refuses a temporary guardianship's end without one)."""

    plausible_dates = {"ended_on": DateKind.EVENT, "assessed_on": DateKind.EVENT}

    ended_on = forms.DateField(label=_("Ended on"), widget=DateInput())
    reason = forms.CharField(
        label=_("Why it ends"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    documents = MultipleFileField(label=_("Documents"), required=False)

    field_order = ["ended_on", "reason", "assessed_on", "assessor", "conclusion", "summary"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("assessed_on", "assessor", "conclusion", "summary"):
            self.fields[name].required = False
