"""Pages of mandatory reports, under /reports/: the list with its clocks, the intake (one
phone screen), the report with its timeline and the steps the user may take, addenda,
attachments, the village's follow-up tasks, and the record of cases that went unreported.

What a user sees of a report is decided by ``protection.access`` only; every page that shows
a report writes an audit entry (never its content)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tongxin.accounts.models import User
from tongxin.accounts.roles import CASEWORK_ROLES, Role
from tongxin.core.documents import document_response
from tongxin.core.forms import add_errors
from tongxin.core.http import signed_in_user as _actor
from tongxin.core.http import staff_view
from tongxin.geo.models import Division, Level
from tongxin.geo.scope import scope_q
from tongxin.protection import access, policy, rules, selectors, services
from tongxin.protection.forms import (
    AddendumForm,
    FailureForm,
    ReportForm,
    TaskDoneForm,
    TransitionForm,
)
from tongxin.protection.models import (
    FailureToReport,
    MandatoryReport,
    ReportAddendum,
    ReportAttachment,
    ReportEvent,
    ReportTask,
)
from tongxin.registry.models import Child
from tongxin.registry.selectors import get_child_for_user
from tongxin.workdays.services import reads_calendar, work_calendar

PAGE_SIZE = 30

STEP_LABELS: dict[str, Any] = {
    rules.Transition.ACCEPT: gettext_lazy("Accept"),
    rules.Transition.START_VERIFICATION: gettext_lazy("Start verification and handling"),
    rules.Transition.RECORD_RESULT: gettext_lazy("Record the result"),
    rules.Transition.INFORM_REPORTER: gettext_lazy("Inform the reporter"),
    rules.Transition.CLOSE: gettext_lazy("Close"),
    rules.Transition.REJECT: gettext_lazy("Reject"),
    rules.Transition.TRANSFER: gettext_lazy("Transfer to another department"),
}
EVENT_LABELS: dict[str, Any] = {
    **STEP_LABELS,
    "submit": gettext_lazy("Submitted"),
    "addendum": gettext_lazy("Addendum added"),
    "child_linked": gettext_lazy("Child's file linked"),
    rules.Transition.ACCEPT: gettext_lazy("Accepted"),
    rules.Transition.START_VERIFICATION: gettext_lazy("Verification and handling started"),
    rules.Transition.RECORD_RESULT: gettext_lazy("Result recorded"),
    rules.Transition.INFORM_REPORTER: gettext_lazy("Reporter informed"),
    rules.Transition.CLOSE: gettext_lazy("Closed"),
    rules.Transition.REJECT: gettext_lazy("Rejected"),
    rules.Transition.TRANSFER: gettext_lazy("Transferred"),
}


def _any_report_reader(user: User) -> bool:
    """Everyone whose work is with children may have reports to see (their own, at least); the
    administrators of accounts and security, and an account without a role, have none."""
    return user.role in CASEWORK_ROLES


def _detail_url(report: MandatoryReport) -> str:
    return reverse("reports:report_detail", args=[report.public_id])


def _get_report(request: HttpRequest, code: Any) -> tuple[MandatoryReport, access.ReportView]:
    user = _actor(request)
    try:
        return selectors.get_report_for_user(user, code)
    except Http404:
        services.report_access_denied(actor=user, code=str(code), request=request)
        raise


# --- the list --------------------------------------------------------------------------------


@staff_view(allow=_any_report_reader)
def report_list(request: HttpRequest) -> HttpResponse:
    user = _actor(request)
    status = request.GET.get("status", "open")
    if status not in selectors.STATUS_FILTERS:
        status = "open"
    reports = selectors.filter_reports(selectors.reports_for(user), status)
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = selectors.report_rows(user, list(page.object_list))
    services.report_list_opened(actor=user, count=len(rows), request=request)
    tasks = list(selectors.open_tasks_for(user))
    response = render(
        request,
        "protection/report_list.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "filters": [
                ("open", _("Open")),
                ("awaiting", _("Awaiting acceptance")),
                ("breached", _("Past a time limit")),
                ("ended", _("Closed or rejected")),
                ("all", _("All")),
            ],
            "tasks": tasks,
            "may_submit": access.may_submit(user),
            "settings_links": _settings_links(user),
        },
    )
    add_never_cache_headers(response)
    return response


def _settings_links(user: User) -> list[tuple[str, str]]:
    """The settings the reports follow, for those who read them: where new reports go, and the
    working-day calendar their clocks count on."""
    links = []
    if services.reads_routing(user):
        links.append((reverse("reports:routing"), _("Routing of new reports")))
    if reads_calendar(user):
        links.append((reverse("workdays:workdays"), _("Working-day calendar")))
    return links


# --- intake ----------------------------------------------------------------------------------


def _linked_child(request: HttpRequest, user: User) -> Child | None:
    code = request.POST.get("child") or request.GET.get("child")
    if not code:
        return None
    if not access.links_children(user):
        raise Http404
    return get_child_for_user(user, code)


@staff_view(allow=access.may_submit, write=True)
def report_create(request: HttpRequest) -> HttpResponse:
    """File a report: one screen, four things to give (urgency, harm, child, what happened)."""
    user = _actor(request)
    child = _linked_child(request, user)
    initial = {"child": child.public_id} if child else {}
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES, user=user, linked_child=child)
        if form.is_valid():
            data = form.cleaned_data
            described = services.ChildDescription(
                name=data.get("child_name", ""),
                age=data.get("child_age"),
                gender=data.get("child_gender", ""),
                village=data.get("child_village"),
                address=data.get("child_address", ""),
            )
            try:
                report = services.report_submit(
                    actor=user,
                    harms=data["harms"],
                    facts=data["facts"],
                    urgency=data["urgency"],
                    child=child,
                    described=described,
                    discovered_at=data.get("discovered_at"),
                    discovered_where=data.get("discovered_where", ""),
                    reporter_name=data.get("reporter_name", ""),
                    reporter_phone=data.get("reporter_phone", ""),
                    reporting_organisation_name=data.get("reporting_organisation_name", ""),
                    reporting_institution_type=data.get("reporting_institution_type", ""),
                    keep_identity_confidential=data["keep_identity_confidential"],
                    channel=data.get("channel") or "online",
                    handling_department=data.get("handling_department"),
                    attachments=data.get("attachments") or [],
                    request=request,
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Report submitted. Your receipt number is %(receipt)s.")
                    % {"receipt": report.receipt_no},
                )
                return redirect(_detail_url(report))
        status = 400
    else:
        form = ReportForm(initial=initial, user=user, linked_child=child)
        status = 200
    return render(
        request,
        "protection/report_form.html",
        {"form": form, "child": child},
        status=status,
    )


# --- one report ------------------------------------------------------------------------------


@staff_view(allow=_any_report_reader)
def report_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = _actor(request)
    report, view = _get_report(request, public_id)
    services.report_opened(actor=user, report=report, view=view, request=request)
    row = selectors.row_for(report, view, timezone.now(), policy.clock_policy(), work_calendar())
    context: dict[str, Any] = {
        "report": report,
        "view": view,
        "row": row,
        # Whom it went to, and when: for those who read it, and for its reporter.
        "recipients": (
            selectors.recipients_of(report)
            if view.narrative or rules.Party.REPORTER in view.parties
            else []
        ),
        "reporter_shown": access.shown_name(report.reporter_name, view),
        "does_tasks": user.role in access.TASK_ROLES,
        "routing_url": reverse("reports:routing") if services.reads_routing(user) else "",
    }
    if view.narrative:
        context["events"] = [
            (event, EVENT_LABELS.get(event.action, event.action))
            for event in ReportEvent.objects.filter(report=report).select_related(
                "actor", "department"
            )
        ]
        context["addenda"] = list(
            ReportAddendum.objects.filter(report=report).select_related("author")
        )
    elif rules.Party.REPORTER in view.parties:
        # The reporter's own additions, not the handling record.
        context["addenda"] = list(ReportAddendum.objects.filter(report=report, author=user))
    if view.attachments:
        context["attachments"] = list(ReportAttachment.objects.filter(report=report))
    if view.narrative:
        context["tasks"] = list(ReportTask.objects.filter(report=report).select_related("division"))
    elif view.tasks:
        context["tasks"] = list(selectors.open_tasks_for(user, report))
    if view.transitions:
        departments = selectors.handling_departments(report)
        context["steps"] = [
            {
                "key": t.value,
                "label": STEP_LABELS[t],
                # One form per step on the page: each names its elements apart.
                "form": TransitionForm(
                    initial={"transition": t.value},
                    departments=departments,
                    auto_id=f"{t.value}_%s",
                ),
                "needs": {n.value for n in rules.STEPS[t].needs},
            }
            for t in view.transitions
        ]
    if view.adds_addenda:
        context["addendum_form"] = AddendumForm()
    # The report's referrals the user may see listed, and the way to refer it (转介).
    context["referrals"] = list(
        report.referrals.filter(access.referrals_q(user)).select_related("department")
    )
    if access.refers_report(user, report):
        context["refer_url"] = f"{reverse('reports:referral_create')}?report={report.public_id}"
    response = render(request, "protection/report_detail.html", context)
    add_never_cache_headers(response)
    return response


@require_POST
@staff_view(allow=_any_report_reader, write=True)
def report_transition(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = _actor(request)
    report, _view = _get_report(request, public_id)
    form = TransitionForm(request.POST, departments=selectors.handling_departments(report))
    if not form.is_valid():
        messages.error(request, _("Check the form: a value is not valid."))
        return redirect(_detail_url(report))
    data = form.cleaned_data
    try:
        services.report_transition(
            actor=user,
            report=report,
            transition=data["transition"],
            reason=data["reason"],
            department=data["department"],
            result=data["result"],
            result_for_reporter=data["result_for_reporter"],
            request=request,
        )
    except services.ReportConflict as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Saved."))
    return redirect(_detail_url(report))


@require_POST
@staff_view(allow=_any_report_reader, write=True)
def report_addendum(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = _actor(request)
    report, view = _get_report(request, public_id)
    if not view.adds_addenda:
        raise Http404
    form = AddendumForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.report_addendum_add(
                actor=user,
                report=report,
                text=form.cleaned_data["text"],
                attachments=form.cleaned_data["attachments"],
                request=request,
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Addendum added."))
    else:
        messages.error(request, _("Write the addendum."))
    return redirect(_detail_url(report) + "#addenda")


def attachment_response(
    request: HttpRequest,
    user: User,
    report: MandatoryReport,
    view: access.ReportView,
    attachment_id: Any,
) -> FileResponse:
    """The one way an attachment is served, to the page and the API alike: to those whose view
    of the report shows attachments, 404 to everyone else; the refusal and every look audited;
    streamed with the type its first bytes showed at upload, under a name that says nothing."""
    try:
        attachment = selectors.get_attachment_for_user(report, view, attachment_id)
    except Http404:
        services.report_attachment_denied(
            actor=user, report=report, code=str(attachment_id), request=request
        )
        raise
    services.report_attachment_opened(
        actor=user, report=report, attachment=attachment, request=request
    )
    return document_response(attachment)


@staff_view(allow=_any_report_reader)
def report_attachment(request: HttpRequest, public_id: Any, attachment_id: Any) -> HttpResponse:
    """An attached photo or document, for those who may read the facts; every look audited."""
    user = _actor(request)
    report, view = _get_report(request, public_id)
    # A FileResponse streams (it is no HttpResponse); staff_view's bound names HttpResponse.
    return attachment_response(request, user, report, view, attachment_id)  # type: ignore[return-value]


# --- the village's follow-up -------------------------------------------------------------------


@staff_view(allow=lambda u: u.role in access.TASK_ROLES, write=True)
def task_done(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Link the described child's file (registered now, or found) to the report."""
    user = _actor(request)
    task = selectors.get_task_for_user(user, public_id)
    children = (
        Child.objects.visible_to(user)
        .filter(village__code__startswith=task.division.prefix)
        .order_by("-registered_on", "name")
    )
    form = TaskDoneForm(request.POST or None, children=children)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.report_task_complete(
                    actor=user, task=task, child=form.cleaned_data["child"], request=request
                )
            except services.ReportConflict as exc:
                messages.error(request, str(exc))
                return redirect("reports:report_list")
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("The child's file is linked to the report."))
                return redirect("reports:report_list")
        status = 400
    report = task.report
    view = access.report_view(user, report)
    name = access.shown_name(report.child_name, view)
    return render(
        request,
        "protection/task_done.html",
        {"task": task, "form": form, "report": report, "child_name": name, "view": view},
        status=status,
    )


# --- failures to report ----------------------------------------------------------------------


def _reads_failures(user: User) -> bool:
    return user.role in (Role.COUNTY_ADMIN, Role.AUDITOR)


@staff_view(allow=_reads_failures)
def failure_list(request: HttpRequest) -> HttpResponse:
    user = _actor(request)
    failures = FailureToReport.objects.visible_to(user).select_related("division", "report")
    page = Paginator(failures, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "protection/failure_list.html",
        {"page": page, "records": access.records_failures(user)},
    )


@staff_view(allow=access.records_failures, write=True)
def failure_create(request: HttpRequest) -> HttpResponse:
    user = _actor(request)
    divisions = Division.objects.filter(scope_q(user, "code")).exclude(
        level__in=[Level.PROVINCE, Level.CITY]
    )
    form = FailureForm(request.POST or None, divisions=divisions.order_by("code"))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = dict(form.cleaned_data)
            receipt = data.pop("receipt_no").strip()
            if receipt:
                data["report"] = (
                    MandatoryReport.objects.visible_to(user)
                    .filter(receipt_no=receipt.upper())
                    .first()
                )
                if data["report"] is None:
                    form.add_error("receipt_no", _("No report with this receipt number."))
            if not form.errors:
                try:
                    services.failure_record(actor=user, fields=data, request=request)
                except ValidationError as exc:
                    add_errors(form, exc)
                else:
                    messages.success(request, _("Saved."))
                    return redirect("reports:failure_list")
        status = 400
    return render(request, "protection/failure_form.html", {"form": form}, status=status)


urlpatterns: list[URLPattern] = [
    path("", report_list, name="report_list"),
    path("new/", report_create, name="report_create"),
    path("tasks/<uuid:public_id>/", task_done, name="task_done"),
    path("failures/", failure_list, name="failure_list"),
    path("failures/new/", failure_create, name="failure_create"),
    path("<uuid:public_id>/", report_detail, name="report_detail"),
    path("<uuid:public_id>/transition/", report_transition, name="report_transition"),
    path("<uuid:public_id>/addenda/", report_addendum, name="report_addendum"),
    path(
        "<uuid:public_id>/attachments/<uuid:attachment_id>/",
        report_attachment,
        name="report_attachment",
    ),
]
