"""The contact cadence policy (联系走访标准): the versions with the dates they hold from, and,
for county officers, the form that adds a version taking effect today or later (the service
validates; versions are never edited, so a past period stays judged by the rule of its time).

Who: county officers change it. Town supervisors, village directors and auditors see the same
page read-only (they are judged by it); a post from them answers 403. Roles that read no
children's files get 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tongxin.accounts.models import User
from tongxin.core.forms import DateInput, add_errors
from tongxin.core.http import signed_in_user as _user
from tongxin.core.http import staff_view
from tongxin.visits import services
from tongxin.visits.models import CadencePolicyVersion, policy_versions

# The plan's escalation default, shown beside the defaults when no version replaced them.
DEFAULT_ESCALATE_AFTER_DAYS: int = CadencePolicyVersion._meta.get_field(
    "escalate_after_days"
).default
POLICY_FIELDS = (
    "effective_from",
    "monthly_contact",
    "quarterly_home_visit",
    "yearly_family_contact",
    "high_contact_days",
    "high_visit_days",
    "medium_visit_days",
    "due_soon_days",
    "escalate_after_days",
    "reason",
)


class PolicyForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = CadencePolicyVersion
        fields = POLICY_FIELDS
        widgets = {"effective_from": DateInput()}


@dataclass(frozen=True)
class VersionRow:
    effective_from: date | None  # None: from the start (the plan's defaults)
    monthly_contact: bool
    quarterly_home_visit: bool
    yearly_family_contact: bool
    high_contact_days: int
    high_visit_days: int
    medium_visit_days: int
    due_soon_days: int
    escalate_after_days: int
    reason: str
    created_by: str
    state: str  # "past", "in_force" or "scheduled"


def version_rows(today: date) -> list[VersionRow]:
    """Every version, oldest first (the plan's defaults first unless replaced from the start),
    each marked past, in force today, or scheduled."""
    stored = {
        v.effective_from: v for v in CadencePolicyVersion.objects.select_related("created_by")
    }
    versions = policy_versions()
    in_force = max(
        (p.effective_from for p in versions if p.effective_from <= today), default=date.min
    )
    rows: list[VersionRow] = []
    for p in versions:
        row = stored.get(p.effective_from)
        state = (
            "in_force"
            if p.effective_from == in_force
            else "past"
            if p.effective_from < in_force
            else "scheduled"
        )
        rows.append(
            VersionRow(
                effective_from=None if p.effective_from == date.min else p.effective_from,
                monthly_contact=p.monthly_contact,
                quarterly_home_visit=p.quarterly_home_visit,
                yearly_family_contact=p.yearly_family_contact,
                high_contact_days=p.high_contact_days,
                high_visit_days=p.high_visit_days,
                medium_visit_days=p.medium_visit_days,
                due_soon_days=p.due_soon_days,
                escalate_after_days=(
                    row.escalate_after_days if row else DEFAULT_ESCALATE_AFTER_DAYS
                ),
                reason=row.reason if row else "",
                created_by=str(row.created_by) if row and row.created_by else "",
                state=state,
            )
        )
    return rows


def _reads_files(user: User) -> bool:
    return user.reads_child_files


def may_change(user: User) -> bool:
    return user.role in services.POLICY_ROLES and not user.is_read_only


def _initial(rows: list[VersionRow], today: date) -> dict[str, Any]:
    current = next(r for r in rows if r.state == "in_force")
    values = {name: getattr(current, name) for name in POLICY_FIELDS if name != "reason"}
    return {**values, "effective_from": today}


@staff_view(allow=_reads_files)
@require_http_methods(["GET", "POST"])
def policy(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    today = timezone.localdate()
    if request.method == "POST" and not may_change(user):
        raise PermissionDenied
    form: PolicyForm | None = None
    status = 200
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            fields = {name: form.cleaned_data[name] for name in POLICY_FIELDS}
            try:
                services.policy_version_add(actor=user, fields=fields, request=request)
            except ValidationError as exc:
                add_errors(form, exc)  # type: ignore[arg-type]  # same error API as Form
            else:
                messages.success(request, _("The new version was saved."))
                return redirect(reverse("visits:policy"))
        status = 400
    rows = version_rows(today)
    if form is None and may_change(user):
        form = PolicyForm(initial=_initial(rows, today))
    return render(
        request, "visits/policy.html", {"rows": rows, "form": form, "today": today}, status=status
    )


urlpatterns: list[URLPattern] = [path("policy/", policy, name="policy")]
