"""Pages of referrals (转介), under /reports/:

- ``referrals/`` — referrals I may see (a department's officers: those open for it);
- ``referrals/new/?problem=<id>`` or ``?report=<id>`` — refer a problem or a report;
- ``referrals/<id>/`` — one referral, with the sections it shares to those who may see them.

What a user sees is decided by ``protection.access`` only; every page writes an audit entry
(never a text)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tongxin.accounts.models import Organisation, User
from tongxin.accounts.roles import CASEWORK_ROLES, Role
from tongxin.core.forms import add_errors
from tongxin.core.http import signed_in_user as _actor
from tongxin.core.http import staff_view
from tongxin.protection import access, policy, problems, referral_reads, referrals, rules
from tongxin.protection.models import Concern, MandatoryReport, ReferralSection
from tongxin.protection.views_problems import get_problem
from tongxin.workdays.services import work_calendar

PAGE_SIZE = 30

REFERRAL_STEP_LABELS: dict[str, Any] = {
    rules.ReferralTransition.ACCEPT: gettext_lazy("Accept the referral"),
    rules.ReferralTransition.DECLINE: gettext_lazy("Decline"),
    rules.ReferralTransition.COMPLETE: gettext_lazy("Record the outcome"),
}


# --- forms -----------------------------------------------------------------------------------


class ReferralForm(forms.Form):
    department = forms.ModelChoiceField(
        label=gettext_lazy("Refer to"),
        queryset=Organisation.objects.none(),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason for the referral"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    sections = forms.MultipleChoiceField(
        label=gettext_lazy("Share only"),
        choices=ReferralSection.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "The department sees only these sections, and only while the referral is open."
        ),
    )

    def __init__(
        self,
        *args: Any,
        departments: QuerySet[Organisation],
        sections: list[tuple[str, Any]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        department = self.fields["department"]
        assert isinstance(department, forms.ModelChoiceField)
        department.queryset = departments
        chosen = self.fields["sections"]
        assert isinstance(chosen, forms.MultipleChoiceField)
        chosen.choices = sections


class ReferralStepForm(forms.Form):
    """One step of a referral. The page shows one form per step, with the field that step
    needs (``needs``: "reason", "outcome" or ""), marked required so that a phone says so at
    the field, not in a message at the top of a long page; the service checks it again."""

    transition = forms.ChoiceField(
        choices=[(t.value, t.value) for t in rules.ReferralTransition], widget=forms.HiddenInput
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason for declining"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    outcome = forms.CharField(
        label=gettext_lazy("Outcome"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, needs: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if needs in self.fields:
            self.fields[needs].widget.attrs["required"] = True


# --- referrals -------------------------------------------------------------------------------


def _referral_url(code: Any) -> str:
    return reverse("reports:referral_detail", args=[code])


def _sees_referrals(user: User) -> bool:
    return user.role in CASEWORK_ROLES and user.role != Role.REPORTER


def _get_referral(request: HttpRequest, code: Any) -> tuple[Any, access.ReferralView]:
    user = _actor(request)
    try:
        return referral_reads.get_referral_for_user(user, code)
    except Http404:
        referrals.referral_access_denied(actor=user, code=str(code), request=request)
        raise


@staff_view(allow=_sees_referrals)
def referral_list(request: HttpRequest) -> HttpResponse:
    """Referrals the user may see: open ones by default (a department's officers only ever
    see the open ones sent to their department)."""
    user = _actor(request)
    show = request.GET.get("show", "open")
    found = referral_reads.referrals_for(user)
    if show != "all":
        show = "open"
        found = found.open()
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [
        (r, access.referral_view(user, r), referral_reads.referral_is_overdue(r, now))
        for r in page.object_list
    ]
    referrals.referral_list_opened(actor=user, count=len(rows), request=request)
    response = render(
        request, "protection/referral_list.html", {"page": page, "rows": rows, "show": show}
    )
    add_never_cache_headers(response)
    return response


def _refers(user: User) -> bool:
    return not user.is_read_only and (
        user.role in access.REFERRING_ROLES or user.role == Role.DEPARTMENT_OFFICER
    )


def _referral_source(
    request: HttpRequest, user: User
) -> tuple[Concern | None, MandatoryReport | None]:
    params = request.POST if request.method == "POST" else request.GET
    problem, report = params.get("problem"), params.get("report")
    if bool(problem) == bool(report):
        raise Http404
    if problem:
        concern, view = get_problem(request, problem)
        if not view.refers:
            raise Http404
        return concern, None
    from tongxin.protection import selectors, services

    try:
        found, _view = selectors.get_report_for_user(user, report)
    except Http404:
        services.report_access_denied(actor=user, code=str(report), request=request)
        raise
    if not access.refers_report(user, found):
        raise Http404
    return None, found


@staff_view(allow=_refers, write=True)
def referral_create(request: HttpRequest) -> HttpResponse:
    """Refer a problem or a report: the department, the reason, the sections shared."""
    user = _actor(request)
    concern, report = _referral_source(request, user)
    division = concern.child.village_id if concern is not None else report.division_id  # type: ignore[union-attr]
    departments = problems.department_choices(division, referrals.REFERRAL_DEPARTMENTS).exclude(
        pk=user.organisation_id or 0
    )
    offered = [
        (key, label)
        for key, label in ReferralSection.choices
        if not (key == ReferralSection.PROBLEM and concern is None)
        and not (key == ReferralSection.REPORT and report is None)
        and not (
            key == ReferralSection.FAMILY
            and (concern.child if concern is not None else report.child) is None  # type: ignore[union-attr]
        )
    ]
    form = ReferralForm(
        request.POST or None,
        departments=departments,
        sections=offered,
        initial={"sections": [ReferralSection.CHILD]},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                referral = referrals.referral_send(
                    actor=user,
                    department=data["department"],
                    reason=data["reason"],
                    sections=list(data["sections"]),
                    concern=concern,
                    report=report,
                    request=request,
                )
            except problems.Conflict as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("Referral sent."))
                return redirect(_referral_url(referral.public_id))
        status = 400
    return render(
        request,
        "protection/referral_form.html",
        {"form": form, "concern": concern, "report": report},
        status=status,
    )


@staff_view(allow=_sees_referrals)
def referral_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = _actor(request)
    referral, view = _get_referral(request, public_id)
    referrals.referral_opened(actor=user, referral=referral, view=view, request=request)
    context: dict[str, Any] = {
        "referral": referral,
        "view": view,
        "overdue": referral_reads.referral_is_overdue(referral),
        "due_guessed_years": referral_reads.referral_due_guessed_years(
            referral, work_calendar(), policy.clock_policy()
        ),
        "shared": referral_reads.shared_sections(referral, view),
        "steps": [
            {
                "key": t.value,
                "label": REFERRAL_STEP_LABELS[t],
                "needs": rules.REFERRAL_STEPS[t][2],
                # One form per step on the page: each names its elements apart.
                "form": ReferralStepForm(
                    initial={"transition": t.value},
                    auto_id=f"{t.value}_%s",
                    needs=rules.REFERRAL_STEPS[t][2],
                ),
            }
            for t in view.transitions
        ],
        "source_problem": (
            referral.concern
            if referral.concern is not None and access.problem_view(user, referral.concern).visible
            else None
        ),
        "source_report": (
            referral.report
            if referral.report is not None and access.report_view(user, referral.report).visible
            else None
        ),
    }
    response = render(request, "protection/referral_detail.html", context)
    add_never_cache_headers(response)
    return response


@require_POST
@staff_view(allow=_sees_referrals, write=True)
def referral_transition(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = _actor(request)
    referral, view = _get_referral(request, public_id)
    if access.ReferralParty.RECEIVER not in view.parties:
        raise PermissionDenied  # sees it, may not move it: the receiving department does
    form = ReferralStepForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the form: a value is not valid."))
        return redirect(_referral_url(referral.public_id))
    data = form.cleaned_data
    try:
        moved = referrals.referral_transition(
            actor=user,
            referral=referral,
            transition=data["transition"],
            reason=data["reason"],
            outcome=data["outcome"],
            request=request,
        )
    except problems.Conflict as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Saved."))
        if not moved.is_open:
            # The department's access ends with the referral: back to its list.
            return redirect("reports:referral_list")
    return redirect(_referral_url(referral.public_id))


urlpatterns: list[URLPattern] = [
    path("referrals/", referral_list, name="referral_list"),
    path("referrals/new/", referral_create, name="referral_create"),
    path("referrals/<uuid:public_id>/", referral_detail, name="referral_detail"),
    path(
        "referrals/<uuid:public_id>/transition/",
        referral_transition,
        name="referral_transition",
    ),
]
