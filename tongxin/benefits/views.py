"""Pages of benefits, under /benefits/: the standards (保障标准), the county's list of
enrolments, and an enrolment's forms opened from the child's file (decision 022).

Who: the roles that read files see the standards and the enrolments inside their scope (the
list's every look audited); county officers add standards and enrolments, edit and end them.
The auditor reads, and a write answers it 403; other roles get 404, as for a page not there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.benefits import selectors, services
from tongxin.benefits.forms import EndForm, EnrolmentEditForm, EnrolmentForm, StandardForm
from tongxin.benefits.models import PROGRAMME_CHOICES, BenefitEnrolment
from tongxin.benefits.services import EndInput, EnrolmentInput
from tongxin.core.forms import add_errors
from tongxin.core.http import signed_in_user as _user
from tongxin.core.http import staff_view
from tongxin.core.versions import StaleEdit
from tongxin.geo.models import Division
from tongxin.geo.scope import in_scope
from tongxin.registry.models import Child
from tongxin.registry.selectors import filter_divisions, get_child_for_user

PAGE_SIZE = 50


def reads_files(user: User) -> bool:
    return user.reads_child_files


def _county_officer(user: User) -> bool:
    """The writes' audience: county officers; the auditor is let through to get its 403."""
    return user.role in (Role.COUNTY_ADMIN, Role.AUDITOR)


def may_write(user: User) -> bool:
    return services.keeps_benefits(user)


# --- standards -------------------------------------------------------------------------------


@staff_view(allow=reads_files)
@require_http_methods(["GET", "POST"])
def standards(request: HttpRequest) -> HttpResponse:
    """The standard in force per programme and rate, every version, and (county officers) the
    form that adds a version from a date."""
    user = _user(request)
    today = timezone.localdate()
    if request.method == "POST" and not may_write(user):
        raise PermissionDenied
    form: StandardForm | None = None
    status = 200
    if request.method == "POST":
        form = StandardForm(request.POST)
        if form.is_valid():
            try:
                services.standard_add(actor=user, request=request, **form.cleaned_data)
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("The new version was saved."))
                return redirect(reverse("benefits:standards"))
        status = 400
    if form is None and may_write(user):
        form = StandardForm(initial={"effective_from": today.replace(day=1)})
    return render(
        request,
        "benefits/standards.html",
        {"lines": selectors.standard_lines(today), "form": form, "today": today},
        status=status,
    )


# --- the list of enrolments ------------------------------------------------------------------


@dataclass(frozen=True)
class ListFilters:
    programme: str = ""
    division: str = ""
    state: str = ""


def _filters(request: HttpRequest, user: User) -> tuple[ListFilters, str]:
    """The filters asked for, and the division's code prefix. An unknown value answers 400;
    a division outside the user's scope 404, as one that is not there."""
    get = request.GET
    programme = get.get("programme", "")
    if programme and programme not in dict(PROGRAMME_CHOICES):
        raise _BadFilter(_("Programme: choose from the list."))
    state = get.get("state", "")
    if state and state not in (selectors.OPEN, selectors.ENDED):
        raise _BadFilter(_("Open or ended: choose from the list."))
    division = get.get("division", "")
    prefix = ""
    if division:
        found = Division.objects.filter(code=division).first()
        if found is None or not in_scope(user, division):
            raise Http404
        prefix = found.prefix
    return ListFilters(programme, division, state), prefix


class _BadFilter(Exception):
    pass


@staff_view(allow=reads_files)
def enrolment_list(request: HttpRequest) -> HttpResponse:
    """The enrolments in the user's division, filtered; every look audited."""
    user = _user(request)
    today = timezone.localdate()
    error = ""
    try:
        filters, prefix = _filters(request, user)
    except _BadFilter as exc:
        error = str(exc)
        filters, prefix = ListFilters(), ""
    found = selectors.enrolment_list(
        user,
        programme=filters.programme,
        division_prefix=prefix,
        state=filters.state,
        today=today,
    ).prefetch_related("household__children")
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    services.enrolments_listed(
        actor=user,
        division_code=filters.division or user.division_id or "",
        count=page.paginator.count,
        request=request,
    )
    response = render(
        request,
        "benefits/enrolment_list.html",
        {
            "page": page,
            "rows": [_row(e) for e in page],
            "filters": filters,
            "programmes": PROGRAMME_CHOICES,
            "divisions": filter_divisions(user),
            "states": [(selectors.OPEN, _("Still paid")), (selectors.ENDED, _("Ended"))],
            "error": error,
        },
        status=400 if error else 200,
    )
    add_never_cache_headers(response)
    return response


@dataclass(frozen=True)
class Row:
    enrolment: BenefitEnrolment
    children: list[Child]


def _row(enrolment: BenefitEnrolment) -> Row:
    if enrolment.child is not None:
        return Row(enrolment, [enrolment.child])
    assert enrolment.household is not None
    return Row(enrolment, list(enrolment.household.children.all()))


# --- an enrolment's forms --------------------------------------------------------------------


def _file_url(child: Child) -> str:
    return reverse("registry:child_detail", args=[child.public_id]) + "#benefits"


def _input(data: dict[str, Any]) -> EnrolmentInput:
    return EnrolmentInput(
        programme=data["programme"],
        rate=data["rate"],
        monthly_amount=data["monthly_amount"],
        start_month=data["start_month"],
        document_number=data["document_number"],
    )


def _form_page(
    request: HttpRequest,
    *,
    title: str,
    child: Child,
    form: forms.Form,
    enrolment: BenefitEnrolment | None = None,
    status: int = 200,
) -> HttpResponse:
    response = render(
        request,
        "benefits/enrolment_form.html",
        {
            "title": title,
            "child": child,
            "form": form,
            "enrolment": enrolment,
            "back_url": _file_url(child),
            "standards": [
                ln for ln in selectors.standard_lines(timezone.localdate()) if ln.current
            ],
        },
        status=status,
    )
    add_never_cache_headers(response)
    return response


@staff_view(allow=_county_officer, write=True)
@require_http_methods(["GET", "POST"])
def enrolment_create(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Enrol the child (dibao: its household) in a programme."""
    user = _user(request)
    child = get_child_for_user(user, public_id)
    if not may_write(user):
        raise Http404
    title = _("Enrol in a programme")
    if request.method == "GET":
        today = timezone.localdate()
        form = EnrolmentForm(initial={"start_month": today.replace(day=1)})
        return _form_page(request, title=title, child=child, form=form)
    form = EnrolmentForm(request.POST)
    status = 400
    if form.is_valid():
        saved = _saved(
            request,
            form,
            lambda: services.enrolment_create(
                actor=user, child=child, data=_input(form.cleaned_data), request=request
            ),
        )
        if saved is None:
            return redirect(_file_url(child))
        status = saved
    return _form_page(request, title=title, child=child, form=form, status=status)


def _enrolment_and_child(request: HttpRequest, public_id: Any) -> tuple[BenefitEnrolment, Child]:
    """The enrolment inside the user's scope, and the child whose file it is shown on (for a
    household's, its eldest child in scope)."""
    user = _user(request)
    enrolment = selectors.get_enrolment_for_user(user, public_id)
    if not may_write(user):
        raise Http404
    child = enrolment.child
    if child is None:
        assert enrolment.household is not None
        child = enrolment.household.children.order_by("birth_date", "pk").first()
        if child is None:
            raise Http404
    return enrolment, child


def _saved(request: HttpRequest, form: forms.Form, save: Callable[[], object]) -> int | None:
    """Run a service's save for a valid form: None when it saved (and the user is told so),
    else the status to answer with, the reasons on the form (409 for an edit someone else's
    newer edit refused, 400 for a refused value)."""
    try:
        save()
    except StaleEdit as exc:
        _stale(form, exc)
        return 409
    except ValidationError as exc:
        add_errors(form, exc)
        return 400
    messages.success(request, _("Saved."))
    return None


def _stale(form: forms.Form, exc: StaleEdit) -> None:
    changed = sorted({c.label for c in exc.changes})
    text = _("Someone changed this enrolment meanwhile; nothing was saved. Look again and retry.")
    if changed:
        text += " " + _("Changed: %(fields)s.") % {"fields": "、".join(changed)}
    form.add_error(None, text)
    # The user's input is kept, now based on the version saved meanwhile.
    data = QueryDict(mutable=True)
    data.update(form.data)
    data["version"] = str(exc.current_version)
    form.data = data


@staff_view(allow=_county_officer, write=True)
@require_http_methods(["GET", "POST"])
def enrolment_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = _user(request)
    enrolment, child = _enrolment_and_child(request, public_id)
    title = _("Change the enrolment")
    if request.method == "GET":
        form = EnrolmentEditForm(
            initial={
                "version": enrolment.version,
                "programme": enrolment.programme,
                "rate": enrolment.rate,
                "monthly_amount": enrolment.monthly_amount,
                "start_month": enrolment.start_month,
                "document_number": enrolment.document_number,
            }
        )
        return _form_page(request, title=title, child=child, form=form, enrolment=enrolment)
    form = EnrolmentEditForm(request.POST, initial={"programme": enrolment.programme})
    status = 400
    if form.is_valid():
        saved = _saved(
            request,
            form,
            lambda: services.enrolment_update(
                actor=user,
                enrolment=enrolment,
                version=form.cleaned_data["version"],
                data=_input(form.cleaned_data),
                request=request,
            ),
        )
        if saved is None:
            return redirect(_file_url(child))
        status = saved
    return _form_page(
        request, title=title, child=child, form=form, enrolment=enrolment, status=status
    )


@staff_view(allow=_county_officer, write=True)
@require_http_methods(["GET", "POST"])
def enrolment_end(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = _user(request)
    enrolment, child = _enrolment_and_child(request, public_id)
    title = _("End the enrolment")
    if request.method == "GET":
        form = EndForm(
            initial={
                "version": enrolment.version,
                "end_month": enrolment.end_month or timezone.localdate().replace(day=1),
                "end_reason": enrolment.end_reason,
                "end_note": enrolment.end_note,
            }
        )
        return _form_page(request, title=title, child=child, form=form, enrolment=enrolment)
    form = EndForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        saved = _saved(
            request,
            form,
            lambda: services.enrolment_end(
                actor=user,
                enrolment=enrolment,
                version=data["version"],
                end=EndInput(data["end_month"], data["end_reason"], data["end_note"]),
                request=request,
            ),
        )
        if saved is None:
            return redirect(_file_url(child))
        status = saved
    return _form_page(
        request, title=title, child=child, form=form, enrolment=enrolment, status=status
    )


urlpatterns: list[URLPattern] = [
    path("standards/", standards, name="standards"),
    path("enrolments/", enrolment_list, name="enrolment_list"),
    path(
        "children/<uuid:public_id>/enrolments/new",
        enrolment_create,
        name="enrolment_create",
    ),
    path("enrolments/<uuid:public_id>/edit", enrolment_edit, name="enrolment_edit"),
    path("enrolments/<uuid:public_id>/end", enrolment_end, name="enrolment_end"),
]
