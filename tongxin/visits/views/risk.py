"""The child's risk level (风险等级): the computed level with a reason per factor, the officer's
override beside it, the history (the level in force over time, every override with its reason
and who set and cleared it), and for county officers and town supervisors the form that sets
or clears the override.

Who: the roles that read files, inside their scope (others: 404, as for a child that is not
there). Every opening is audited as a read of the file. Writes: a read-only role gets 403; a
village director may see the page but not override (403); the service audits the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from tongxin.accounts.models import User
from tongxin.core.forms import DateInput, add_errors
from tongxin.core.http import signed_in_user as _user
from tongxin.core.http import staff_view
from tongxin.registry import services as registry_services
from tongxin.registry.models import Child
from tongxin.registry.selectors import get_child_for_user
from tongxin.visits import rules, services
from tongxin.visits.models import ChildRisk, RiskLevel, RiskOverride
from tongxin.visits.risk import ChildRiskHistory, child_risk_history, risk_refresh

FACTOR_LABELS: dict[str, Any] = {
    rules.RiskFactor.BOTH_PARENTS_AWAY: gettext_lazy("Both parents away long term"),
    rules.RiskFactor.PARENT_DISABILITY: gettext_lazy(
        "A parent with serious physical or intellectual disability"
    ),
    rules.RiskFactor.CHILD_DISABILITY: gettext_lazy("The child has a disability"),
    rules.RiskFactor.PSYCHOLOGICAL: gettext_lazy("Psychological or behavioural problems"),
    rules.RiskFactor.HIGH_SEVERITY_PROBLEM: gettext_lazy("Open problems of high severity"),
    rules.RiskFactor.CARE_AGREEMENT: gettext_lazy("Care agreement missing or expired"),
    rules.RiskFactor.DROPOUT: gettext_lazy("School dropout"),
    rules.RiskFactor.POOR_GUARDIANSHIP: gettext_lazy("Guardianship assessed as poor"),
    rules.RiskFactor.NO_GUARDIAN: gettext_lazy("No guardian"),
}


class OverrideForm(forms.Form):
    level = forms.ChoiceField(label=gettext_lazy("Risk level"), choices=RiskLevel.choices)
    until = forms.DateField(label=gettext_lazy("Override ends on"), widget=DateInput())
    reason = forms.CharField(
        label=gettext_lazy("Reason for the override"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _reads_files(user: User) -> bool:
    return user.reads_child_files


def may_override(user: User) -> bool:
    return user.role in services.RISK_OVERRIDE_ROLES and not user.is_read_only


def current_risk(child: Child) -> ChildRisk:
    """The stored risk, recomputed first when it was not computed today (an override that
    lapsed yesterday is gone, a 12th month away counts)."""
    risk = ChildRisk.objects.filter(pk=child.pk).select_related("override__set_by").first()
    if risk is None or risk.computed_on != timezone.localdate():
        risk = risk_refresh(child)
    return risk


def factor_rows(risk: ChildRisk) -> list[dict[str, str]]:
    """Each factor found, with its label and the reason the rule gave (in step, same order)."""
    return [
        {"code": code, "label": str(FACTOR_LABELS.get(code, code)), "reason": reason}
        for code, reason in zip(risk.factors, risk.reasons, strict=False)
    ]


@dataclass(frozen=True)
class HistoryRow:
    """A stretch of the timeline as the page shows it: first and last day (None: still)."""

    first: date
    last: date | None
    level: str
    computed: str | None
    override: RiskOverride | None


def history_rows(record: ChildRiskHistory) -> list[HistoryRow]:
    labels = dict(RiskLevel.choices)
    return [
        HistoryRow(
            first=entry.start,
            last=entry.end - timedelta(days=1) if entry.end is not None else None,
            level=str(labels[entry.level]),
            computed=str(labels[entry.computed]) if entry.computed is not None else None,
            override=record.override_of(entry),
        )
        for entry in record.timeline
    ]


def _page(
    request: HttpRequest, user: User, child: Child, form: OverrideForm | None, status: int = 200
) -> HttpResponse:
    risk = current_risk(child)
    record = child_risk_history(child)
    if form is None and may_override(user):
        form = OverrideForm(
            initial={"level": risk.override_level or risk.computed_level, "until": None}
        )
    response = render(
        request,
        "visits/risk.html",
        {
            "child": child,
            "risk": risk,
            "factors": factor_rows(risk),
            "history": history_rows(record),
            "overrides": record.overrides,
            "form": form if may_override(user) else None,
            "back": reverse("registry:child_detail", args=[child.public_id]),
        },
        status=status,
    )
    add_never_cache_headers(response)
    return response


@staff_view(allow=_reads_files)
@require_http_methods(["GET", "POST"])
def child_risk(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = _user(request)
    if request.method == "POST" and user.is_read_only:
        raise PermissionDenied
    try:
        child = get_child_for_user(user, public_id)
    except Http404:
        registry_services.child_access_denied(actor=user, request=request, code=str(public_id))
        raise
    if request.method != "POST":
        registry_services.child_file_opened(actor=user, child=child, request=request)
        return _page(request, user, child, None)
    if not may_override(user):
        raise PermissionDenied
    if request.POST.get("action") == "clear":
        services.risk_override_clear(actor=user, child=child, request=request)
        messages.success(request, _("The override was cleared; the computed level applies."))
        return redirect(reverse("visits:child_risk", args=[child.public_id]))
    form = OverrideForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.risk_override_set(
                actor=user,
                child=child,
                level=data["level"],
                until=data["until"],
                reason=data["reason"],
                request=request,
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(reverse("visits:child_risk", args=[child.public_id]))
    return _page(request, user, child, form, status=400)


urlpatterns: list[URLPattern] = [
    path("children/<uuid:public_id>/risk/", child_risk, name="child_risk"),
]
