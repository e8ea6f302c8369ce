"""API of mandatory reports (强制报告):

- ``POST /api/v1/reports`` — intake; the answer carries the receipt number;
- ``GET /api/v1/reports`` — the reports the caller may see;
- ``GET /api/v1/reports/{code}`` — one report, as much as the caller may see of it;
  ``PATCH``/``PUT`` answer 409: a submitted report is immutable, corrections are addenda;
- ``POST /api/v1/reports/{code}/transitions`` — one step of the workflow;
- ``POST /api/v1/reports/{code}/addenda`` — a correction or addition;
- ``GET /api/v1/reports/{code}/attachments/{id}`` — an attached photo or document, the file.

Photos and documents come with the report (intake as ``multipart/form-data``, files under
``attachments``) or, once it is submitted, with an addendum (the same way): a submitted report
is immutable, so a file sent later belongs to an addendum. They are checked as on the pages —
PDF, JPEG or PNG by their first bytes, at most 5 files of 5 MB each.

``{code}`` is the report's UUID or its receipt number. A report the caller may not see answers
404, exactly as one that is not there. Every read is audited, never with the report's content.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, QueryDict
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import (
    api_view,
    content_negotiation_class,
    parser_classes,
    permission_classes,
)
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from tongxin.accounts.models import Organisation, User
from tongxin.accounts.roles import CASEWORK_ROLES
from tongxin.core.api_input import JSONParser, MultiPartParser
from tongxin.core.http import signed_in_user as _user
from tongxin.core.plausible_fields import DateKind, date_error
from tongxin.geo.models import Division
from tongxin.lib.params import QueryParams
from tongxin.protection import access, policy, selectors, services
from tongxin.protection.api_report_data import (
    ReportAddendumCreatedSerializer,
    ReportAddendumInSerializer,
    ReportAddendumUploadSerializer,
    ReportConflictSerializer,
    ReportIntakeSerializer,
    ReportIntakeUploadSerializer,
    ReportListSerializer,
    ReportOutSerializer,
    ReportReceiptSerializer,
    ReportTransitionInSerializer,
    attachment_data,
    report_data,
)
from tongxin.protection.models import MandatoryReport, ReportAttachment
from tongxin.protection.views import attachment_response
from tongxin.registry.models import Child
from tongxin.workdays.services import work_calendar

LIST_LIMIT = 100


def _row(user: User, report: MandatoryReport, view: access.ReportView) -> selectors.Row:
    return selectors.row_for(report, view, timezone.now(), policy.clock_policy(), work_calendar())


def _get(request: Request, code: str) -> tuple[MandatoryReport, access.ReportView]:
    user = _user(request)
    try:
        return selectors.get_report_for_user(user, code)
    except Http404:
        services.report_access_denied(actor=user, code=code, request=request._request)
        raise


def _validation(exc: ValidationError) -> DRFValidationError:
    if hasattr(exc, "error_dict"):
        return DRFValidationError(exc.message_dict)
    return DRFValidationError({"detail": exc.messages})


def _conflict(message: str) -> Response:
    return Response({"detail": message}, status=status.HTTP_409_CONFLICT)


def _uploads(request: Request) -> list[UploadedFile[Any]]:
    """The files sent under ``attachments``; the services check them as they check the pages'
    uploads. Anything else sent under that name is refused: files come as multipart/form-data."""
    data: Any = request.data
    given: list[Any] = []
    if isinstance(data, QueryDict):
        given = data.getlist("attachments")
    elif isinstance(data, dict) and data.get("attachments"):
        given = [data["attachments"]]
    files = [f for f in given if isinstance(f, UploadedFile)]
    if len(files) != len(given):
        raise DRFValidationError(
            {
                "attachments": [
                    _("Send the files as multipart/form-data, each in a field named attachments.")
                ]
            }
        )
    return files


# Reports and addenda come as JSON, or as multipart/form-data when they carry files.
PARSERS: list[type[BaseParser]] = [JSONParser, MultiPartParser]


NOT_FOUND = OpenApiResponse(description="No such report, or not yours to see (the same answer).")
BAD_FILE = (
    "A field is invalid; the body names it (attachments: a file is not PDF, JPEG or PNG, "
    "is empty or larger than 5 MB, or more than 5 files were sent). Nothing is saved."
)
CODE = OpenApiParameter(
    "code",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="the report's code (UUID) or its receipt number (GT-2024-000123)",
)


# --- endpoints -------------------------------------------------------------------------------


def _intake(request: Request, user: User) -> Response:
    if user.is_read_only:
        raise PermissionDenied
    if not access.may_submit(user):
        raise Http404
    data = ReportIntakeSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    given = data.validated_data
    uploads = _uploads(request)
    child: Child | None = None
    if given.get("child"):
        if not access.links_children(user):
            raise DRFValidationError({"child": [_("Describe the child instead.")]})
        try:
            child = Child.objects.visible_to(user).get(public_id=given["child"])
        except Child.DoesNotExist as exc:
            raise DRFValidationError({"child": [_("No such child in your area.")]}) from exc
        discovered_at = given.get("discovered_at")
        if discovered_at is not None and (
            error := date_error(DateKind.EVENT, discovered_at, not_before=child.birth_date)
        ):
            raise DRFValidationError({"discovered_at": [error]})
    village = None
    if given.get("child_village"):
        village = Division.objects.filter(code=given["child_village"]).first()
        if village is None:
            raise DRFValidationError({"child_village": [_("Choose a village of this county.")]})
    department = None
    if given.get("handling_department"):
        department = Organisation.objects.filter(public_id=given["handling_department"]).first()
        if department is None:
            raise DRFValidationError(
                {"handling_department": [_("Choose a department of this county.")]}
            )
    try:
        report = services.report_submit(
            actor=user,
            harms=given["harms"],
            facts=given["facts"],
            urgency=given["urgency"],
            child=child,
            described=services.ChildDescription(
                name=given.get("child_name", ""),
                age=given.get("child_age"),
                gender=given.get("child_gender", ""),
                village=village,
                address=given.get("child_address", ""),
            ),
            discovered_at=given.get("discovered_at"),
            discovered_where=given.get("discovered_where", ""),
            reporter_name=given.get("reporter_name", ""),
            reporter_phone=given.get("reporter_phone", ""),
            reporting_organisation_name=given.get("reporting_organisation_name", ""),
            reporting_institution_type=given.get("reporting_institution_type", ""),
            keep_identity_confidential=given["keep_identity_confidential"],
            channel=given["channel"],
            handling_department=department,
            attachments=uploads,
            request=request._request,
        )
    except ValidationError as exc:
        raise _validation(exc) from exc
    body = ReportReceiptSerializer(
        {
            "id": report.public_id,
            "receipt_no": report.receipt_no,
            "status": report.status,
            "submitted_at": report.submitted_at,
        }
    ).data
    return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(
    methods=["GET"],
    operation_id="reports_list",
    summary="The mandatory reports the caller may see",
    description=(
        "Newest first, at most 100, with `?status=open|awaiting|breached|ended|all` (default "
        "open). Each report shows only what the caller may see of it (see the report's "
        "endpoint). The read is audited."
    ),
    parameters=[
        OpenApiParameter(
            "status",
            OpenApiTypes.STR,
            OpenApiParameter.QUERY,
            enum=list(selectors.STATUS_FILTERS),
        )
    ],
    responses={200: ReportListSerializer, 404: OpenApiResponse(description="Not for your role.")},
)
@extend_schema(
    methods=["POST"],
    operation_id="reports_create",
    summary="File a mandatory report",
    description=(
        "A reporter files for their institution (name and phone default to the account's); "
        "an officer may record a report received by phone or in person and choose the "
        "handling department, which is otherwise routed by the harms. The answer carries the "
        "receipt number. It goes at once to every department the routing table names for its "
        "harms (a suspected crime: the police and civil affairs at the same moment); their "
        "officers are notified. A submitted report cannot be changed: add an addendum.\n\n"
        "Send JSON, or multipart/form-data to attach photos or documents (`attachments`, one "
        "form field per file; `harms` repeated once per harm). On a weak network, file the "
        "report first as JSON (the receipt comes at once) and send the photos afterwards, one "
        "addendum each."
    ),
    request={
        "application/json": ReportIntakeSerializer,
        "multipart/form-data": ReportIntakeUploadSerializer,
    },
    responses={
        201: ReportReceiptSerializer,
        400: OpenApiResponse(description=BAD_FILE),
        403: OpenApiResponse(description="Your role is read-only."),
        404: OpenApiResponse(description="Your role does not file reports."),
    },
)
@api_view(["GET", "POST"])
@permission_classes([IsAuthenticated])
@parser_classes(PARSERS)
def report_collection(request: Request) -> Response:
    user = _user(request)
    if request.method == "POST":
        return _intake(request, user)
    if user.role not in CASEWORK_ROLES:
        raise Http404
    read = QueryParams(request.query_params)
    filter_ = read.choice("status", selectors.STATUS_FILTERS, label=_("Status")) or "open"
    read.raise_errors()
    reports = list(selectors.filter_reports(selectors.reports_for(user), filter_)[:LIST_LIMIT])
    rows = selectors.report_rows(user, reports)
    services.report_list_opened(actor=user, count=len(rows), request=request._request)
    return Response(
        {"count": len(rows), "results": [report_data(row, detail=False, user=user) for row in rows]}
    )


def _edit_refused(method: str, operation_id: str) -> Callable[[Any], Any]:
    """The schema of PATCH or PUT on a report: always refused, for a report is immutable."""
    return extend_schema(
        methods=[method],
        operation_id=operation_id,
        summary="Refused: a submitted report is immutable",
        description="Always 409 for those who may see the report: add an addendum instead.",
        parameters=[CODE],
        request=None,
        responses={
            403: OpenApiResponse(description="Your role is read-only."),
            404: NOT_FOUND,
            409: ReportConflictSerializer,
        },
    )


@extend_schema(
    methods=["GET"],
    operation_id="reports_retrieve",
    summary="One mandatory report, as the caller may see it",
    description=(
        "County officers and the officers of the departments it went to see everything (names "
        "in reports of suspected sexual abuse are *** except to the handling department); only "
        "the county and the handling department move it; the auditor sees everything, "
        "read-only; the child's village director that the report exists and its tasks for the "
        "village; the reporter its status, whom it went to, and the result told to them. A "
        "clock's `estimated` is true when its deadline counts days of a year whose holidays "
        "are not in the working-day calendar. Every read is audited."
    ),
    parameters=[CODE],
    responses={200: ReportOutSerializer, 404: NOT_FOUND},
)
@_edit_refused("PATCH", "reports_partial_update")
@_edit_refused("PUT", "reports_update")
@api_view(["GET", "PATCH", "PUT"])
@permission_classes([IsAuthenticated])
def report_detail(request: Request, code: str) -> Response:
    user = _user(request)
    if request.method in ("PATCH", "PUT") and user.is_read_only:
        raise PermissionDenied
    report, view = _get(request, code)
    if request.method in ("PATCH", "PUT"):
        services.report_edit_refused(actor=user, report=report, request=request._request)
        return _conflict(
            _(
                "A submitted report cannot be changed. Add an addendum: "
                "POST /api/v1/reports/%(code)s/addenda."
            )
            % {"code": report.public_id}
        )
    services.report_opened(actor=user, report=report, view=view, request=request._request)
    response = Response(report_data(_row(user, report, view), detail=True, user=user))
    response["Cache-Control"] = "private, no-store"
    return response


@extend_schema(
    operation_id="reports_transition",
    summary="Move a report one step along the workflow",
    description=(
        "received → accepted → verifying → result_recorded → reporter_informed → closed; "
        "reject (with a reason) from received, transferred or accepted; transfer (to another "
        "department of the county, with a reason) from received, transferred, accepted or "
        "verifying. Only county officers and the handling department's officers move a "
        "report."
    ),
    parameters=[CODE],
    request=ReportTransitionInSerializer,
    responses={
        200: ReportOutSerializer,
        400: OpenApiResponse(description="A needed field is missing or invalid."),
        403: OpenApiResponse(description="Not yours to move (or your role is read-only)."),
        404: NOT_FOUND,
        409: ReportConflictSerializer,
    },
)
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def report_transitions(request: Request, code: str) -> Response:
    user = _user(request)
    if user.is_read_only:
        raise PermissionDenied
    report, _view = _get(request, code)
    data = ReportTransitionInSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    given = data.validated_data
    department = None
    if given.get("department"):
        department = (
            selectors.handling_departments(report).filter(public_id=given["department"]).first()
        )
        if department is None:
            raise DRFValidationError({"department": [_("Choose a department of this county.")]})
    try:
        moved = services.report_transition(
            actor=user,
            report=report,
            transition=given["transition"],
            reason=given["reason"],
            department=department,
            result=given["result"],
            result_for_reporter=given["result_for_reporter"],
            request=request._request,
        )
    except services.ReportConflict as exc:
        return _conflict(str(exc))
    except ValidationError as exc:
        raise _validation(exc) from exc
    moved, view = selectors.get_report_for_user(user, moved.public_id)
    return Response(report_data(_row(user, moved, view), detail=True, user=user))


@extend_schema(
    operation_id="reports_addendum_create",
    summary="Add a correction or more information to a report",
    description=(
        "The report stays as submitted; the addendum is kept beside it. For its reporter, "
        "county officers and the handling department.\n\n"
        "Photos or documents sent after the report belong to an addendum: send "
        "multipart/form-data with the text and the files (`attachments`, one form field per "
        "file). They are checked as at intake. Who may open them is the report's business: "
        "its reporter, for one, may not (see the attachment's endpoint)."
    ),
    parameters=[CODE],
    request={
        "application/json": ReportAddendumInSerializer,
        "multipart/form-data": ReportAddendumUploadSerializer,
    },
    responses={
        201: ReportAddendumCreatedSerializer,
        400: OpenApiResponse(description=BAD_FILE),
        403: OpenApiResponse(description="Your role is read-only."),
        404: NOT_FOUND,
    },
)
@api_view(["POST"])
@permission_classes([IsAuthenticated])
@parser_classes(PARSERS)
def report_addenda(request: Request, code: str) -> Response:
    user = _user(request)
    if user.is_read_only:
        raise PermissionDenied
    report, view = _get(request, code)
    if not view.adds_addenda:
        raise Http404
    data = ReportAddendumInSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    uploads = _uploads(request)
    try:
        addendum = services.report_addendum_add(
            actor=user,
            report=report,
            text=data.validated_data["text"],
            attachments=uploads,
            request=request._request,
        )
    except ValidationError as exc:
        raise _validation(exc) from exc
    body = ReportAddendumCreatedSerializer(
        {
            "id": addendum.public_id,
            "created_at": addendum.created_at,
            "text": addendum.text,
            "attachments": [
                attachment_data(a)
                for a in ReportAttachment.objects.filter(addendum=addendum).select_related(
                    "addendum"
                )
            ],
        }
    ).data
    return Response(body, status=status.HTTP_201_CREATED)


class _AnyAccept(BaseContentNegotiation):
    """A file is asked for with the Accept of a file (image/*, application/pdf …): the answer
    is the file, or a refusal in JSON, whatever the Accept header says."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


ATTACHMENT = OpenApiParameter(
    "attachment_id",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    description="the attachment's code (`attachments[].id` in the report)",
)
ATTACHMENT_NOT_FOUND = OpenApiResponse(
    description="No such report or attachment, or not yours to open (the same answer)."
)


@extend_schema(
    operation_id="reports_attachment_retrieve",
    summary="An attached photo or document of a report: the file",
    description=(
        "For those who see the report in full: county officers, the handling department's "
        "officers and the auditor. Everyone else — its reporter and the child's village "
        "director included — gets 404, as for an attachment that is not there. Streamed with "
        "its type (told by its first bytes at upload) and `Content-Disposition: inline; "
        'filename="attachment.<kind>"` (the uploaded name is not kept). Every look, and every '
        "refusal, is audited."
    ),
    parameters=[CODE, ATTACHMENT],
    responses={
        (200, "application/pdf"): OpenApiTypes.BINARY,
        (200, "image/jpeg"): OpenApiTypes.BINARY,
        (200, "image/png"): OpenApiTypes.BINARY,
        404: ATTACHMENT_NOT_FOUND,
    },
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
@content_negotiation_class(_AnyAccept)
def report_attachment(request: Request, code: str, attachment_id: Any) -> HttpResponseBase:
    user = _user(request)
    report, view = _get(request, code)
    return attachment_response(request._request, user, report, view, attachment_id)
