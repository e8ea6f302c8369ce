"""The routing table of new mandatory reports (强制报告分送规则), ``/reports/routing/``: for each
kind of harm and for imminent danger, the departments a new report goes to at once, with the
versions saved before. County officers change it (a new version, with the reason; audited);
the auditor reads it. Everyone else gets 404; a post from the auditor answers 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from tongxin.accounts.models import Department
from tongxin.core.forms import add_errors
from tongxin.core.http import signed_in_user as _user
from tongxin.core.http import staff_view
from tongxin.protection import policy, rules, services
from tongxin.protection.models import Harm, RoutingVersion

IMMINENT_LABEL = gettext_lazy("Imminent danger (any harm)")


def route_label(key: str) -> str:
    return str(IMMINENT_LABEL if key == rules.IMMINENT_ROUTE else Harm(key).label)


def department_names(keys: Any) -> list[str]:
    known = dict(Department.choices)
    return [str(known.get(k, k)) for k in keys]


class RoutingForm(forms.Form):
    """One row of checkboxes per harm (and for imminent danger), and the reason."""

    reason = forms.CharField(
        label=gettext_lazy("Reason for the change"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key in rules.ROUTE_KEYS:
            self.fields[f"route_{key}"] = forms.MultipleChoiceField(
                label=route_label(key),
                choices=Department.choices,
                widget=forms.CheckboxSelectMultiple,
                required=False,
            )
        # The reason last, after the rows it explains.
        self.order_fields([*(f"route_{k}" for k in rules.ROUTE_KEYS), "reason"])

    def table(self) -> dict[str, list[str]]:
        return {key: list(self.cleaned_data.get(f"route_{key}") or []) for key in rules.ROUTE_KEYS}


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    departments: list[str]
    crime: bool


@dataclass(frozen=True)
class Version:
    at: datetime
    by: str
    reason: str


@staff_view(allow=services.reads_routing)
@require_http_methods(["GET", "POST"])
def routing(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    may_change = services.may_change_routing(user)
    if request.method == "POST" and not may_change:
        raise PermissionDenied
    table = policy.routing_table()
    form: RoutingForm | None = None
    status = 200
    if request.method == "POST":
        form = RoutingForm(request.POST)
        if form.is_valid():
            try:
                services.routing_version_add(
                    actor=user,
                    table=form.table(),
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("The new routing table is in force for new reports."))
                return redirect(reverse("reports:routing"))
        status = 400
    elif may_change:
        form = RoutingForm(initial={f"route_{k}": list(v) for k, v in table.items()})
    rows = [
        Row(key, route_label(key), department_names(table[key]), key in rules.CRIME_ROUTES)
        for key in rules.ROUTE_KEYS
    ]
    versions = [
        Version(v.created_at, str(v.created_by), v.reason)
        for v in RoutingVersion.objects.select_related("created_by")[:20]
    ]
    return render(
        request,
        "protection/routing.html",
        {
            "rows": rows,
            "form": form,
            "versions": versions,
            "lead": department_names(policy.setting("LEAD_ORDER")),
        },
        status=status,
    )


urlpatterns: list[URLPattern] = [path("routing/", routing, name="routing")]
