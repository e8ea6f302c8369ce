"""API of contacts (联系/走访): ``POST /api/v1/contacts`` (idempotent with an
``Idempotency-Key`` header, so a phone that retries never records twice),
``GET /api/v1/children/<code>/contacts`` and ``GET``/``PATCH /api/v1/contacts/<code>`` (the
author's correction within 48 hours, with If-Match like the child's file).

Answers carry public codes only: no child's name, no ID number."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from tongxin.accounts.models import User
from tongxin.core.api import IF_MATCH, StaleSerializer, precondition, stale_response
from tongxin.core.api_fields import named_choices
from tongxin.core.http import signed_in_user as _actor
from tongxin.core.paging import api_page
from tongxin.core.versions import FieldChange, StaleEdit, record_changes
from tongxin.geo.scope import get_for_user_or_404
from tongxin.protection.fields import SeverityField
from tongxin.protection.rules import Severity
from tongxin.protection.selectors import contact_problems_prefetch
from tongxin.registry import services as registry_services
from tongxin.registry.models import Child
from tongxin.registry.selectors import get_child_for_user
from tongxin.visits import services
from tongxin.visits.models import (
    CHECKLIST,
    CHECKLIST_FIELDS,
    Check,
    Contact,
    ContactAddendum,
    ContactCredit,
    ContactKind,
)

PAGE_SIZE = 50
_PLACES = Decimal("0.000001")


CheckField = named_choices(Check.choices, "ContactCheck")
KindField = named_choices(ContactKind.choices, "ContactKind")
ChecklistItemField = named_choices(
    [(item, str(label)) for item, label in CHECKLIST], "ContactChecklistItem"
)


# --- input -----------------------------------------------------------------------------------


class StrictSerializer(serializers.Serializer[Any]):
    """Refuses keys it does not know, naming them: a misspelt field is an error, not a silent
    default."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)


class ProblemInSerializer(StrictSerializer):
    checklist_item = ChecklistItemField(help_text="the checklist field marked `concern`")
    description = serializers.CharField(max_length=2000, help_text="the problem found")
    solution = serializers.CharField(
        max_length=2000, required=False, default="", allow_blank=True, help_text="解决方案"
    )
    due_on = serializers.DateField(required=False, allow_null=True, default=None)
    severity = SeverityField(required=False, default=Severity.MEDIUM)
    children = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        default=list,
        max_length=20,
        help_text="the children the problem is about (public codes), each one the contact "
        "counts for; by default the contact's `child` only (a home visit's problem is not "
        "copied to every sibling)",
    )


def _checklist_field(label: Any) -> serializers.ChoiceField:
    return CheckField(required=False, default=Check.NOT_SEEN, help_text=str(label))


class _ContactFieldsSerializer(StrictSerializer):
    kind = KindField()
    day = serializers.DateField(help_text="the day of the contact (not in the future)")
    time = serializers.TimeField(required=False, allow_null=True, default=None)
    met_child = serializers.BooleanField(required=False, default=False)
    met_caregiver = serializers.BooleanField(required=False, default=False)
    met_parent = serializers.BooleanField(required=False, default=False)
    child_not_seen_reason = serializers.CharField(
        max_length=300,
        required=False,
        default="",
        allow_blank=True,
        help_text="a home visit that did not see the child (`met_child` false) says why",
    )
    check_living = _checklist_field(CHECKLIST[0][1])
    check_safety = _checklist_field(CHECKLIST[1][1])
    check_schooling = _checklist_field(CHECKLIST[2][1])
    check_health = _checklist_field(CHECKLIST[3][1])
    check_mood = _checklist_field(CHECKLIST[4][1])
    check_caregiver = _checklist_field(CHECKLIST[5][1])
    check_parents_weekly = _checklist_field(CHECKLIST[6][1])
    check_agreement = _checklist_field(CHECKLIST[7][1])
    notes = serializers.CharField(max_length=4000, required=False, default="", allow_blank=True)
    latitude = serializers.FloatField(
        min_value=-90, max_value=90, required=False, allow_null=True, default=None
    )
    longitude = serializers.FloatField(
        min_value=-180, max_value=180, required=False, allow_null=True, default=None
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name in ("latitude", "longitude"):
            if attrs.get(name) is not None:
                attrs[name] = Decimal(str(attrs[name])).quantize(_PLACES)
        if ("latitude" in attrs) != ("longitude" in attrs) or (
            (attrs.get("latitude") is None) != (attrs.get("longitude") is None)
        ):
            missing = "longitude" if attrs.get("latitude") is not None else "latitude"
            raise serializers.ValidationError({missing: [_("Give both coordinates or none.")]})
        return attrs


class ContactInSerializer(_ContactFieldsSerializer):
    child = serializers.UUIDField(help_text="the child's public code")
    children = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        default=list,
        max_length=20,
        help_text="other children of the same household the contact was about (a home visit "
        "counts for every child of the household anyway)",
    )
    problems = ProblemInSerializer(
        many=True,
        required=False,
        default=list,
        help_text="problems found (问题), each from a checklist item marked `concern`",
    )


class ContactPatchSerializer(_ContactFieldsSerializer):
    """The contact's own fields; send only those that change."""


# --- output ----------------------------------------------------------------------------------


class AddendumOutSerializer(serializers.Serializer[Any]):
    text = serializers.CharField()
    author = serializers.CharField(help_text="the author's user name")
    created_at = serializers.DateTimeField()


class ProblemOutSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(help_text="the problem's public code")
    child = serializers.UUIDField(help_text="the child's public code")
    checklist_item = ChecklistItemField()
    category = serializers.CharField()
    severity = SeverityField()
    description = serializers.CharField()
    solution = serializers.CharField()
    due_on = serializers.DateField(allow_null=True)
    status = serializers.CharField()


class ContactOutSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(help_text="the contact's public code")
    version = serializers.IntegerField(help_text='also sent as the ETag header: "<version>"')
    household = serializers.UUIDField(help_text="the household's public code")
    children = serializers.ListField(
        child=serializers.UUIDField(),
        help_text="the children the contact counts for (a home visit: every sibling)",
    )
    kind = KindField()
    day = serializers.DateField()
    time = serializers.TimeField(allow_null=True)
    met_child = serializers.BooleanField()
    met_caregiver = serializers.BooleanField()
    met_parent = serializers.BooleanField()
    child_not_seen_reason = serializers.CharField()
    check_living = CheckField()
    check_safety = CheckField()
    check_schooling = CheckField()
    check_health = CheckField()
    check_mood = CheckField()
    check_caregiver = CheckField()
    check_parents_weekly = CheckField()
    check_agreement = CheckField()
    notes = serializers.CharField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    author = serializers.CharField(help_text="the author's user name")
    author_role = serializers.CharField(help_text="the author's role when the contact was made")
    created_at = serializers.DateTimeField()
    editable_until = serializers.DateTimeField(
        help_text="the author may PATCH it until then; after, only an addendum"
    )
    problems = ProblemOutSerializer(many=True)
    addenda = AddendumOutSerializer(many=True)


class ContactPageSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField(help_text="the child's contacts, on all pages")
    page = serializers.IntegerField()
    num_pages = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ContactOutSerializer(many=True)


# The 412 answer about a contact: the schema's ``StaleContact`` (no docstring: it would become
# the schema's description).
class StaleContactSerializer(StaleSerializer):
    pass


def _stale_contact() -> str:
    return _("The contact changed since your version; nothing was saved.")


_OWN_FIELDS = (
    "kind",
    "day",
    "time",
    "met_child",
    "met_caregiver",
    "met_parent",
    "child_not_seen_reason",
    *CHECKLIST_FIELDS,
    "notes",
    "latitude",
    "longitude",
    "author_role",
    "created_at",
    "version",
)


def _with_related(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """Everything a contact's answer shows, in a fixed number of queries for any number."""
    return contacts.select_related("household", "author").prefetch_related(
        Prefetch(
            "credits",
            queryset=ContactCredit.objects.select_related("child").order_by("child__birth_date"),
        ),
        Prefetch("addenda", queryset=ContactAddendum.objects.select_related("author")),
        contact_problems_prefetch(),
    )


def contact_data(contact: Contact) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(contact, name) for name in _OWN_FIELDS}
    data.update(
        id=contact.public_id,
        household=contact.household.public_id,
        children=[credit.child.public_id for credit in contact.credits.all()],
        author=contact.author.username,
        editable_until=services.contact_editable_until(contact),
        problems=[
            {
                "id": p.public_id,
                "child": p.child.public_id,
                "checklist_item": p.checklist_item,
                "category": p.category,
                "severity": p.severity,
                "description": p.description,
                "solution": p.solution,
                "due_on": p.due_on,
                "status": p.status,
            }
            for p in contact.concerns.all()
        ],
        addenda=[
            {"text": a.text, "author": a.author.username, "created_at": a.created_at}
            for a in contact.addenda.all()
        ],
    )
    return data


def _contact_response(contact: Contact, code: int = status.HTTP_200_OK) -> Response:
    fresh = _with_related(Contact.objects.filter(pk=contact.pk)).get()
    response = Response(ContactOutSerializer(contact_data(fresh)).data, status=code)
    response["ETag"] = f'"{fresh.version}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _errors(exc: ValidationError) -> Response:
    body = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


NOT_FOUND = OpenApiResponse(description="No such child or contact, or not in your area (alike).")
READ_ONLY = OpenApiResponse(description="Your role may read contacts but not record them.")
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "A key the phone makes once per contact (a UUID) and sends again with every retry of "
        "the same request, at most 100 characters. The first request records the contact and "
        "answers 201; a retry with the same key (from the same user) records nothing and "
        "answers 200 with the contact the first one recorded, whatever its body."
    ),
)
EXAMPLE = {
    "child": "3f1c2a8e-6d0b-4a55-9a43-2c5f0a9d7b11",
    "kind": "phone",
    "day": "2024-06-03",
    "met_caregiver": True,
    "check_safety": "concern",
    "notes": "与祖母通话，孩子放学后常去水渠边玩。",
    "problems": [
        {
            "checklist_item": "check_safety",
            "description": "屋后水渠无护栏",
            "solution": "联系村委会加装护栏",
            "due_on": "2024-06-30",
            "severity": "high",
        }
    ],
}


# --- endpoints -------------------------------------------------------------------------------


@extend_schema(
    operation_id="contact_create",
    summary="Record a contact",
    description=(
        "Records a contact with a child's family (联系/走访) by the caller. A `home_visit` counts "
        "for every active child of the household registered by its day; another kind for "
        "`child` and the `children` named (same household); a child born after its `day` is "
        "not credited. Checklist fields default to `not_seen`.\n\n"
        "A contact names whom it reached: at least one of `met_child`, `met_caregiver`, "
        "`met_parent` (else 400 naming `met_child`). A `home_visit` also has `met_child` or a "
        "`child_not_seen_reason`, and `check_living` and `check_safety` `good` or `concern`. "
        "`day` is not in the future nor before the birth of `child`.\n\n"
        "Each problem needs its checklist item marked `concern`; it is about `child` unless "
        "it names its `children` (each one the contact counts for).\n\n"
        "**Idempotent** with the `Idempotency-Key` header: **201** when the contact is "
        "recorded, **200** with the same contact when a request with that key was already "
        "recorded (nothing new is written). Without the header every request records.\n\n"
        "A bad field answers 400 with the field's name as the key, unknown fields included."
    ),
    parameters=[IDEMPOTENCY_KEY],
    request=ContactInSerializer,
    examples=[OpenApiExample("A phone call with a problem found", value=EXAMPLE)],
    responses={
        201: ContactOutSerializer,
        200: OpenApiResponse(ContactOutSerializer, description="A replay: already recorded."),
        400: OpenApiResponse(description="A field is invalid; the body names it."),
        403: READ_ONLY,
        404: NOT_FOUND,
    },
)
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def contact_create(request: Request) -> Response:
    user = _actor(request)
    if user.is_read_only:
        raise PermissionDenied
    if not user.keeps_child_files:
        raise NotFound
    # The child first: an outsider learns nothing, not even which other field is wrong.
    raw = request.data.get("child") if isinstance(request.data, dict) else None
    try:
        child = get_child_for_user(user, uuid.UUID(str(raw)))
    except ValueError:
        child = None  # not a code: the serializer names the field
    data = ContactInSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    fields = dict(data.validated_data)
    del fields["child"]
    assert child is not None
    codes = set(fields.pop("children")) - {child.public_id}
    others = list(Child.objects.visible_to(user).filter(public_id__in=codes))
    if len(others) != len(codes) or any(c.household_id != child.household_id for c in others):
        return Response(
            {"children": [_("Every child must belong to the household of `child`.")]},
            status=status.HTTP_400_BAD_REQUEST,
        )
    problems, problem_errors = _problems(user, child, [child, *others], fields)
    if problem_errors:
        return Response({"problems": problem_errors}, status=status.HTTP_400_BAD_REQUEST)
    try:
        recorded = services.contact_record(
            actor=user,
            household=child.household,
            children=[child, *others],
            fields=fields,
            problems=problems,
            idempotency_key=request.headers.get("Idempotency-Key", ""),
            request=request._request,
        )
    except ValidationError as exc:
        return _errors(exc)
    code = status.HTTP_201_CREATED if recorded.created else status.HTTP_200_OK
    return _contact_response(recorded.contact, code)


def _problems(
    user: User, child: Child, named: list[Child], fields: dict[str, Any]
) -> tuple[list[services.ProblemInput], dict[str, dict[str, list[str]]]]:
    """The problems sent, each about the children it names (by default ``child``), and the
    errors by position (keyed as the serializer keys a list's errors) for those naming a child
    the contact does not count for."""
    sent = fields.pop("problems")
    credited = services.credited_children(child.household, named, fields["kind"], fields["day"])
    by_code = {c.public_id: c for c in credited}
    problems: list[services.ProblemInput] = []
    errors: dict[str, dict[str, list[str]]] = {}
    for index, p in enumerate(sent):
        codes = list(dict.fromkeys(p["children"]))
        about = [by_code[code] for code in codes if code in by_code]
        if len(about) != len(codes):
            message = _("A problem can be about a child this contact counts for only.")
            errors[str(index)] = {"children": [message]}
        problems.append(
            services.ProblemInput(
                checklist_item=p["checklist_item"],
                description=p["description"],
                solution=p["solution"],
                severity=p["severity"],
                due_on=p["due_on"],
                owner=user,
                children=tuple(about),
            )
        )
    return problems, errors


@extend_schema(
    operation_id="child_contacts_list",
    summary="A child's contacts",
    description=(
        "The contacts that count for the child (a sibling's home visit included), newest "
        "first, 50 a page, with the problems raised and the addenda. No name and no ID "
        "number: children are public codes. The read is recorded in the audit log like a read "
        "of the file."
    ),
    parameters=[OpenApiParameter("page", OpenApiTypes.INT, OpenApiParameter.QUERY)],
    responses={200: ContactPageSerializer, 404: NOT_FOUND},
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def child_contacts(request: Request, public_id: Any) -> Response:
    user = _actor(request)
    child = get_child_for_user(user, public_id)
    registry_services.child_file_opened(actor=user, child=child, request=request._request)
    contacts = _with_related(
        Contact.objects.visible_to(user)
        .filter(credits__child=child)
        .order_by("-day", "-created_at", "-pk")
    )
    page, envelope = api_page(request, contacts, PAGE_SIZE)
    body = {**envelope, "results": [contact_data(c) for c in page.object_list]}
    response = Response(ContactPageSerializer(body).data)
    response["Cache-Control"] = "private, no-store"
    return response


def _window_closed() -> Response:
    detail = _("A contact can be changed only within 48 hours. Add an addendum instead.")
    return Response({"detail": detail}, status=status.HTTP_409_CONFLICT)


@extend_schema(
    methods=["GET"],
    operation_id="contact_retrieve",
    summary="A contact",
    description='The contact, its problems and addenda. The `ETag` holds its version (`"2"`).',
    responses={200: ContactOutSerializer, 404: NOT_FOUND},
)
@extend_schema(
    methods=["PATCH"],
    operation_id="contact_partial_update",
    summary="Correct a contact (its author, within 48 hours)",
    description=(
        "Only the author, within 48 hours of recording it (`editable_until`); after that the "
        "contact stays as recorded and the answer is 409 (add an addendum in the app). Send "
        "only the fields that change, with `If-Match` naming the version the change is based "
        "on: 428 without it, 412 with a stale one (listing what changed meanwhile)."
    ),
    parameters=[IF_MATCH],
    request=ContactPatchSerializer,
    responses={
        200: ContactOutSerializer,
        400: OpenApiResponse(description="A field is invalid; the body names it."),
        403: OpenApiResponse(description="Not the author, or a read-only role."),
        404: NOT_FOUND,
        409: OpenApiResponse(description="The 48-hour edit window has closed."),
        412: StaleContactSerializer,
        428: OpenApiResponse(description="If-Match is missing."),
    },
)
@api_view(["GET", "PATCH"])
@permission_classes([IsAuthenticated])
def contact_detail(request: Request, public_id: Any) -> Response:
    user = _actor(request)
    if request.method == "PATCH" and user.is_read_only:
        raise PermissionDenied
    contact = get_for_user_or_404(
        Contact.objects.visible_to(user).select_related("household", "author"),
        public_id=public_id,
    )
    if request.method == "GET":
        services.contact_opened(actor=user, contact=contact, request=request._request)
        return _contact_response(contact)
    if not user.keeps_child_files:
        raise NotFound
    if contact.author_id != user.pk:
        raise PermissionDenied(_("Only the author may change a contact; add an addendum."))
    if not services.contact_can_edit(user, contact):
        return _window_closed()
    version = precondition(
        request, contact.version, lambda since: _changes_since(contact, since), _stale_contact()
    )
    if isinstance(version, Response):
        return version
    data = ContactPatchSerializer(data=request.data, partial=True)
    data.is_valid(raise_exception=True)
    try:
        services.contact_update(
            actor=user,
            contact=contact,
            version=version,
            changes=dict(data.validated_data),
            request=request._request,
        )
    except StaleEdit as exc:
        return stale_response(exc.current_version, exc.changes, _stale_contact())
    except services.EditWindowClosed:
        return _window_closed()
    except ValidationError as exc:
        return _errors(exc)
    return _contact_response(contact)


def _changes_since(contact: Contact, version: int) -> list[FieldChange]:
    records = list(contact.history.order_by("history_date", "history_id"))
    return record_changes(Contact, records, str(Contact._meta.verbose_name), version)
