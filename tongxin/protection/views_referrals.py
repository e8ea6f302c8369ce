"""Pages of problems found (问题和解决方案) and referrals (转介), under /reports/:

- ``children/<id>/problems/`` — the child's problems, and a new one;
- ``problems/`` — the problems I own (in person or through my department);
- ``problems/<id>/`` — one problem with its timeline, and the forms to record an action, change
  its status, give it to another owner, refer it;
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
from tongxin.accounts.roles import CASEWORK_ROLES, CHILD_FILE_WRITER_ROLES, Role
from tongxin.core.forms import add_errors
from tongxin.core.http import signed_in_user as _actor
from tongxin.core.http import staff_view
from tongxin.core.plausible_fields import DateKind, PlausibleForm
from tongxin.core.versions import StaleEdit
from tongxin.protection import access, policy, problems, referral_reads, referrals, rules
from tongxin.protection.models import (
    ActionKind,
    Concern,
    MandatoryReport,
    ReferralSection,
    ReferralStatus,
)
from tongxin.protection.rules import ConcernCategory, ConcernStatus, Severity
from tongxin.registry.selectors import get_child_for_user
from tongxin.workdays.services import work_calendar

PAGE_SIZE = 30

REFERRAL_STEP_LABELS: dict[str, Any] = {
    rules.ReferralTransition.ACCEPT: gettext_lazy("Accept the referral"),
    rules.ReferralTransition.DECLINE: gettext_lazy("Decline"),
    rules.ReferralTransition.COMPLETE: gettext_lazy("Record the outcome"),
}


# --- forms -----------------------------------------------------------------------------------


class _DateInput(forms.DateInput):
    input_type = "date"


class _IdPrefixed(forms.Form):
    """Forms that share a page name their elements apart (``action_text``, ``status_text``):
    a label then points at its own field."""

    id_prefix = "id"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class _OwnerFields(_IdPrefixed, PlausibleForm):
    plausible_dates = {"due_on": DateKind.PLAN}

    owner = forms.ModelChoiceField(
        label=gettext_lazy("Owner: a person"),
        queryset=User.objects.none(),
        required=False,
    )
    owner_department = forms.ModelChoiceField(
        label=gettext_lazy("or a department"),
        queryset=Organisation.objects.none(),
        required=False,
    )
    due_on = forms.DateField(label=gettext_lazy("Due on"), required=False, widget=_DateInput)

    def __init__(self, *args: Any, concern_child: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if concern_child is not None:
            owner = self.fields["owner"]
            department = self.fields["owner_department"]
            assert isinstance(owner, forms.ModelChoiceField)
            assert isinstance(department, forms.ModelChoiceField)
            owner.queryset = problems.owner_choices(concern_child)
            department.queryset = problems.department_choices(concern_child.village_id)


class ProblemForm(_OwnerFields):
    category = forms.ChoiceField(
        label=gettext_lazy("Kind of problem"), choices=ConcernCategory.choices
    )
    severity = forms.ChoiceField(
        label=gettext_lazy("How serious"), choices=Severity.choices, initial=Severity.MEDIUM
    )
    description = forms.CharField(
        label=gettext_lazy("Problem found"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    solution = forms.CharField(
        label=gettext_lazy("Proposed solution"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    field_order = [
        "category",
        "severity",
        "description",
        "solution",
        "owner",
        "owner_department",
        "due_on",
    ]


class AssignForm(_OwnerFields):
    id_prefix = "assign"
    version = forms.IntegerField(widget=forms.HiddenInput)
    severity = forms.ChoiceField(label=gettext_lazy("How serious"), choices=Severity.choices)


class StatusForm(_IdPrefixed):
    id_prefix = "status"
    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(label=gettext_lazy("New status"), choices=ConcernStatus.choices)
    text = forms.CharField(
        label=gettext_lazy("Solution, or the reason"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ActionForm(_IdPrefixed):
    id_prefix = "action"
    text = forms.CharField(
        label=gettext_lazy("What was done"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


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


# --- problems --------------------------------------------------------------------------------


def _problem_url(concern: Concern) -> str:
    return reverse("reports:problem_detail", args=[concern.public_id])


# A form of the problem's page is sent to its own place on the page (``…/status/#change-status``)
# so that a phone sent back its errors lands on them; once saved, the page opens at its top
# (the status and the message), not where the form's place would otherwise carry over.
TOP = "#top"


def _get_problem(request: HttpRequest, code: Any) -> tuple[Concern, access.ProblemView]:
    user = _actor(request)
    try:
        return problems.get_problem_for_user(user, code)
    except Http404:
        problems.problem_access_denied(actor=user, code=str(code), request=request)
        raise


@staff_view(allow=lambda u: u.reads_child_files)
def child_problems(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The child's problems (open first), and the form for a new one (those who keep files)."""
    user = _actor(request)
    child = get_child_for_user(user, public_id)
    keeps = access.raises_problems(user, child.village_id)
    form = ProblemForm(request.POST or None, concern_child=child) if keeps else None
    status = 200
    if request.method == "POST":
        if user.is_read_only:
            raise PermissionDenied
        if form is None:
            raise Http404
        if form.is_valid():
            try:
                concern = problems.problem_raise(
                    actor=user, child=child, fields=dict(form.cleaned_data), request=request
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("Problem recorded."))
                return redirect(_problem_url(concern))
        status = 400
    listed = list(problems.child_problems(child))
    problems.problem_list_opened(actor=user, count=len(listed), child=child, request=request)
    today = timezone.localdate()
    response = render(
        request,
        "protection/problem_list.html",
        {
            "child": child,
            "rows": [(p, p.is_overdue(today)) for p in listed],
            "form": form,
        },
        status=status,
    )
    add_never_cache_headers(response)
    return response


def _owns_problems(user: User) -> bool:
    return user.role in CHILD_FILE_WRITER_ROLES or user.role == Role.DEPARTMENT_OFFICER


@staff_view(allow=_owns_problems)
def problem_mine(request: HttpRequest) -> HttpResponse:
    """The problems I own, in person or through my department: open and overdue first."""
    user = _actor(request)
    show = request.GET.get("show", "open")
    mine = problems.my_problems(user)
    if show != "all":
        show = "open"
        mine = mine.filter(status__in=rules.PROBLEM_OPEN)
    page = Paginator(mine, PAGE_SIZE).get_page(request.GET.get("page"))
    problems.problem_list_opened(actor=user, count=len(page.object_list), request=request)
    today = timezone.localdate()
    response = render(
        request,
        "protection/problem_mine.html",
        {"page": page, "rows": [(p, p.is_overdue(today)) for p in page], "show": show},
    )
    add_never_cache_headers(response)
    return response


def _reads_problems(user: User) -> bool:
    return user.reads_child_files or user.role == Role.DEPARTMENT_OFFICER


@staff_view(allow=_reads_problems)
def problem_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = _actor(request)
    concern, view = _get_problem(request, public_id)
    problems.problem_opened(actor=user, concern=concern, request=request)
    return _problem_page(request, concern, view)


def _status_label(status: str) -> str:
    labels = {**dict(ConcernStatus.choices), **dict(ReferralStatus.choices)}
    return str(labels.get(status, status))


def _problem_page(
    request: HttpRequest,
    concern: Concern,
    view: access.ProblemView,
    *,
    forms_given: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _actor(request)
    given = forms_given or {}
    context: dict[str, Any] = {
        "concern": concern,
        "view": view,
        "overdue": concern.is_overdue(timezone.localdate()),
        "timeline": [
            (a, _status_label(a.from_status), _status_label(a.to_status))
            for a in problems.problem_timeline(concern)
        ],
        "referrals": referral_reads.referrals_of(user, concern=concern),
        "kinds": ActionKind,
        "follows_report": concern.report_id is not None,
    }
    if view.acts:
        context["action_form"] = given.get("action") or ActionForm()
        moves = rules.PROBLEM_MOVES[rules.ProblemStatus(concern.status)]
        if concern.report_id is None:
            status_form = given.get("status") or StatusForm(initial={"version": concern.version})
            field = status_form.fields["status"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [(k, v) for k, v in ConcernStatus.choices if k in moves]
            context["status_form"] = status_form
    if view.assigns:
        context["assign_form"] = given.get("assign") or AssignForm(
            concern_child=concern.child,
            initial={
                "version": concern.version,
                "owner": concern.owner_id,
                "owner_department": concern.owner_department_id,
                "due_on": concern.due_on,
                "severity": concern.severity,
            },
        )
    response = render(request, "protection/problem_detail.html", context, status=status)
    add_never_cache_headers(response)
    return response


def _stale_message(request: HttpRequest, exc: StaleEdit) -> None:
    changed = sorted({c.label for c in exc.changes})
    text = _("Someone changed this problem meanwhile; nothing was saved. Look again and retry.")
    if changed:
        text += " " + _("Changed: %(fields)s.") % {"fields": "、".join(changed)}
    messages.error(request, text)


@require_POST
@staff_view(allow=_reads_problems, write=True)
def problem_action(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = _actor(request)
    concern, view = _get_problem(request, public_id)
    if not view.acts:
        raise Http404
    form = ActionForm(request.POST)
    if form.is_valid():
        try:
            problems.problem_action_add(
                actor=user, concern=concern, text=form.cleaned_data["text"], request=request
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(_problem_url(concern) + "#timeline")
    return _problem_page(request, concern, view, forms_given={"action": form}, status=400)


def _update_problem(
    request: HttpRequest,
    concern: Concern,
    view: access.ProblemView,
    form: forms.Form,
    form_name: str,
    **update: Any,
) -> HttpResponse:
    """``problems.problem_update`` with what a valid form gave: a stale version or a move the
    status does not allow is said over the problem; bad input is shown under the form."""
    try:
        problems.problem_update(actor=_actor(request), concern=concern, request=request, **update)
    except StaleEdit as exc:
        _stale_message(request, exc)
    except problems.Conflict as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        add_errors(form, exc)
        return _problem_page(request, concern, view, forms_given={form_name: form}, status=400)
    else:
        messages.success(request, _("Saved."))
    return redirect(_problem_url(concern) + TOP)


@require_POST
@staff_view(allow=_reads_problems, write=True)
def problem_status(request: HttpRequest, public_id: Any) -> HttpResponse:
    concern, view = _get_problem(request, public_id)
    if not view.acts:
        raise Http404
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _problem_page(request, concern, view, forms_given={"status": form}, status=400)
    data = form.cleaned_data
    return _update_problem(
        request,
        concern,
        view,
        form,
        "status",
        version=data["version"],
        status=data["status"],
        text=data["text"],
    )


@require_POST
@staff_view(allow=_reads_problems, write=True)
def problem_assign(request: HttpRequest, public_id: Any) -> HttpResponse:
    concern, view = _get_problem(request, public_id)
    if not view.assigns:
        raise Http404
    form = AssignForm(request.POST, concern_child=concern.child)
    if not form.is_valid():
        return _problem_page(request, concern, view, forms_given={"assign": form}, status=400)
    data = form.cleaned_data
    return _update_problem(
        request,
        concern,
        view,
        form,
        "assign",
        version=data["version"],
        changes={
            "owner": data["owner"],
            "owner_department": data["owner_department"],
            "due_on": data["due_on"],
            "severity": data["severity"],
        },
    )


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
        concern, view = _get_problem(request, problem)
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
    path("children/<uuid:public_id>/problems/", child_problems, name="child_problems"),
    path("problems/", problem_mine, name="problem_mine"),
    path("problems/<uuid:public_id>/", problem_detail, name="problem_detail"),
    path("problems/<uuid:public_id>/actions/", problem_action, name="problem_action"),
    path("problems/<uuid:public_id>/status/", problem_status, name="problem_status"),
    path("problems/<uuid:public_id>/assign/", problem_assign, name="problem_assign"),
    path("referrals/", referral_list, name="referral_list"),
    path("referrals/new/", referral_create, name="referral_create"),
    path("referrals/<uuid:public_id>/", referral_detail, name="referral_detail"),
    path(
        "referrals/<uuid:public_id>/transition/",
        referral_transition,
        name="referral_transition",
    ),
]
