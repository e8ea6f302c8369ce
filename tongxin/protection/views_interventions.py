"""Pages of guardianship interventions (监护干预) on a child's file, under /reports/:

- ``children/<child>/interventions/`` — the child's interventions (a village director: only
  that there is one);
- ``children/<child>/interventions/new/`` — record one, with its documents;
- ``interventions/<id>/`` — one intervention, its assessments and documents;
- ``interventions/<id>/assess/`` — record an assessment;
- ``interventions/<id>/end/`` — end it (a temporary guardianship: with an assessment);
- ``interventions/<id>/documents/<document>/`` — a document, every look audited.

What a user sees is decided in ``protection.access``; every page that shows an intervention,
or that one exists, writes an audit entry (never its content). Anyone else gets 404, as for a
child or an intervention that is not there; the auditor gets 403 on the writes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.core.documents import document_response
from tongxin.core.forms import add_errors
from tongxin.core.http import signed_in_user as _actor
from tongxin.core.http import staff_view
from tongxin.protection import access
from tongxin.protection import interventions as iv
from tongxin.protection.forms_interventions import AssessmentForm, EndForm, InterventionForm
from tongxin.protection.models import (
    Intervention,
    InterventionAssessment,
    InterventionDocument,
)
from tongxin.registry.models import Child

ASSESSMENT_FIELDS = ("assessed_on", "assessor", "conclusion", "summary")


def _reads(user: User) -> bool:
    """Roles that may see something of a child's interventions (each within the rules)."""
    return user.role in (
        Role.COUNTY_ADMIN,
        Role.AUDITOR,
        Role.DEPARTMENT_OFFICER,
        Role.VILLAGE_DIRECTOR,
    )


def _writes(user: User) -> bool:
    return user.role in access.INTERVENTION_WRITER_ROLES


def _child(request: HttpRequest, child_id: Any) -> tuple[Child, str]:
    user = _actor(request)
    try:
        return iv.get_child_for_interventions(user, child_id)
    except Http404:
        iv.intervention_access_denied(
            actor=user, object_type="child", code=str(child_id), request=request
        )
        raise


def _intervention(request: HttpRequest, public_id: Any) -> Intervention:
    user = _actor(request)
    try:
        return iv.get_intervention_for_user(user, public_id)
    except Http404:
        iv.intervention_access_denied(
            actor=user, object_type=iv.OBJECT_TYPE, code=str(public_id), request=request
        )
        raise


def _may_write(user: User, intervention: Intervention) -> bool:
    report = intervention.report
    return access.records_interventions(
        user,
        village_code=intervention.child.village_id,
        report_department_id=report.handling_department_id if report else None,
    )


def _detail_url(intervention: Intervention) -> str:
    return reverse("reports:intervention_detail", args=[intervention.public_id])


def _no_store[R: HttpResponseBase](response: R) -> R:
    add_never_cache_headers(response)
    return response


# --- the child's interventions ---------------------------------------------------------------


@staff_view(allow=_reads)
def intervention_list(request: HttpRequest, child_id: Any) -> HttpResponse:
    user = _actor(request)
    child, level = _child(request, child_id)
    today = timezone.localdate()
    rows: list[dict[str, Any]] = []
    exists = False
    if level == access.INTERVENTION_FULL:
        for intervention in iv.interventions_of(user, child):
            state = iv.state_of(intervention, today)
            rows.append(
                {"intervention": intervention, "state": state, "label": iv.STATE_LABELS[state]}
            )
        count = len(rows)
    else:
        exists = iv.intervention_exists(child)
        count = int(exists)
    iv.interventions_listed(actor=user, child=child, level=level, count=count, request=request)
    may_record = (
        level == access.INTERVENTION_FULL
        and not user.is_read_only
        and (user.role == Role.COUNTY_ADMIN or iv.linkable_reports(user, child).exists())
    )
    return _no_store(
        render(
            request,
            "protection/intervention_list.html",
            {
                "child": child,
                "full": level == access.INTERVENTION_FULL,
                "rows": rows,
                "exists": exists,
                "may_record": may_record,
                "file_url": reverse("registry:child_detail", args=[child.public_id])
                if user.reads_child_files
                else "",
            },
        )
    )


@staff_view(allow=_writes, write=True)
def intervention_create(request: HttpRequest, child_id: Any) -> HttpResponse:
    user = _actor(request)
    child, level = _child(request, child_id)
    if level != access.INTERVENTION_FULL:
        raise Http404
    reports = iv.linkable_reports(user, child)
    form = InterventionForm(
        request.POST or None,
        request.FILES or None,
        reports=reports,
        report_required=user.role != Role.COUNTY_ADMIN,
        born_on=child.birth_date,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                intervention = iv.intervention_record(
                    actor=user,
                    child=child,
                    fields=form.model_values(),
                    report=form.cleaned_data["report"],
                    documents=form.cleaned_data["documents"],
                    request=request,
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("The intervention is recorded on the file."))
                return redirect(_detail_url(intervention))
        status = 400
    return render(
        request,
        "protection/intervention_form.html",
        {"child": child, "form": form, "title": _("Record an intervention")},
        status=status,
    )


# --- one intervention ------------------------------------------------------------------------


@staff_view(allow=_reads)
def intervention_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = _actor(request)
    intervention = _intervention(request, public_id)
    iv.intervention_opened(actor=user, intervention=intervention, request=request)
    state = iv.state_of(intervention)
    writes = _may_write(user, intervention)
    return _no_store(
        render(
            request,
            "protection/intervention_detail.html",
            {
                "intervention": intervention,
                "child": intervention.child,
                "state": state,
                "state_label": iv.STATE_LABELS[state],
                "assessments": list(
                    InterventionAssessment.objects.filter(intervention=intervention)
                ),
                "documents": list(InterventionDocument.objects.filter(intervention=intervention)),
                "may_end": writes and iv.may_end(intervention),
                "needs_assessment": iv.needs_assessment(intervention.kind),
            },
        )
    )


@staff_view(allow=_writes, write=True)
def intervention_assess(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = _actor(request)
    intervention = _intervention(request, public_id)
    if not _may_write(user, intervention) or not iv.may_end(intervention):
        raise Http404
    form = AssessmentForm(
        request.POST or None, request.FILES or None, born_on=intervention.child.birth_date
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            assessment = form.assessment()
            assert assessment is not None
            try:
                iv.intervention_assess(
                    actor=user,
                    intervention=intervention,
                    assessment=assessment,
                    documents=form.cleaned_data["documents"],
                    request=request,
                )
            except iv.InterventionConflict as exc:
                messages.error(request, str(exc))
                return redirect(_detail_url(intervention))
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("The assessment is recorded."))
                return redirect(_detail_url(intervention))
        status = 400
    return render(
        request,
        "protection/intervention_form.html",
        {
            "child": intervention.child,
            "intervention": intervention,
            "form": form,
            "title": _("Record an assessment"),
        },
        status=status,
    )


@staff_view(allow=_writes, write=True)
def intervention_end(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = _actor(request)
    intervention = _intervention(request, public_id)
    if not _may_write(user, intervention):
        raise Http404
    form = EndForm(
        request.POST or None, request.FILES or None, born_on=intervention.child.birth_date
    )
    assessed = InterventionAssessment.objects.filter(intervention=intervention).exists()
    if not iv.needs_assessment(intervention.kind):
        for name in ASSESSMENT_FIELDS:
            del form.fields[name]
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                iv.intervention_end(
                    actor=user,
                    intervention=intervention,
                    ended_on=form.cleaned_data["ended_on"],
                    reason=form.cleaned_data["reason"],
                    assessment=form.assessment()
                    if iv.needs_assessment(intervention.kind)
                    else None,
                    documents=form.cleaned_data["documents"],
                    request=request,
                )
            except iv.InterventionConflict as exc:
                messages.error(request, str(exc))
                return redirect(_detail_url(intervention))
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("The intervention has ended."))
                return redirect(_detail_url(intervention))
        status = 400
    elif not iv.may_end(intervention):
        messages.error(request, _("This intervention cannot be ended."))
        return redirect(_detail_url(intervention))
    return render(
        request,
        "protection/intervention_form.html",
        {
            "child": intervention.child,
            "intervention": intervention,
            "form": form,
            "title": _("End the intervention"),
            "assessment_note": iv.needs_assessment(intervention.kind) and not assessed,
        },
        status=status,
    )


@staff_view(allow=_reads)
def intervention_document(request: HttpRequest, public_id: Any, document_id: Any) -> HttpResponse:
    user = _actor(request)
    intervention = _intervention(request, public_id)
    document = InterventionDocument.objects.filter(
        intervention=intervention, public_id=document_id
    ).first()
    if document is None or not document.file:
        raise Http404
    iv.intervention_document_opened(
        actor=user, intervention=intervention, document=document, request=request
    )
    # A FileResponse streams (it is no HttpResponse); staff_view's bound names HttpResponse.
    return document_response(document)  # type: ignore[return-value]


urlpatterns: list[URLPattern] = [
    path(
        "children/<uuid:child_id>/interventions/",
        intervention_list,
        name="intervention_list",
    ),
    path(
        "children/<uuid:child_id>/interventions/new/",
        intervention_create,
        name="intervention_create",
    ),
    path("interventions/<uuid:public_id>/", intervention_detail, name="intervention_detail"),
    path(
        "interventions/<uuid:public_id>/assess/",
        intervention_assess,
        name="intervention_assess",
    ),
    path("interventions/<uuid:public_id>/end/", intervention_end, name="intervention_end"),
    path(
        "interventions/<uuid:public_id>/documents/<uuid:document_id>/",
        intervention_document,
        name="intervention_document",
    ),
]
