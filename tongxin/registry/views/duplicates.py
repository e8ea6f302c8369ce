"""The duplicate review queue and transfer requests (issue 3, "Duplicates").

``offer_transfer`` is for the registration form: when ``child_register`` raises
``DuplicateIdNumber`` with ``child=None``, call it with the number typed and include
``registry/transfer_request_offer.html`` with ``{"transfer_url": <its result>}``. The number is
kept in the session as its keyed hash and its mask only, so the request form needs no retyping
and never shows the full number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from tongxin.accounts.models import User
from tongxin.core.forms import SecretInput, add_errors
from tongxin.core.http import render_page_or_fragment, staff_view
from tongxin.core.http import signed_in_user as _user
from tongxin.geo.models import Division, Level
from tongxin.registry import duplicates, services, transfers
from tongxin.registry.models import (
    CandidateStatus,
    CategoryCode,
    Child,
    DuplicateCandidate,
    MatchedField,
    TransferStatus,
)
from tongxin.registry.selectors import masked_id

PAGE_SIZE = 50
OFFER_KEY = "registry.transfer_offer"


def _file_url(child: Child) -> str:
    """The child's file page, once the file views are there."""
    try:
        return reverse("registry:child_detail", args=[child.public_id])
    except NoReverseMatch:
        return ""


# --- forms -----------------------------------------------------------------------------------


class ReasonField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", gettext_lazy("Reason"))
        super().__init__(max_length=500, widget=forms.Textarea(attrs={"rows": 2}), **kwargs)


class MergeForm(forms.Form):
    keep = forms.ChoiceField(label=gettext_lazy("File to keep"))
    reason = ReasonField()

    def __init__(self, *args: Any, candidate: DuplicateCandidate, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        a, b = candidate.child_a, candidate.child_b
        self.fields["keep"].choices = [  # type: ignore[attr-defined]
            (str(a.public_id), _("File A (%(date)s)") % {"date": a.registered_on.isoformat()}),
            (str(b.public_id), _("File B (%(date)s)") % {"date": b.registered_on.isoformat()}),
        ]


class DistinctForm(forms.Form):
    reason = ReasonField(
        help_text=gettext_lazy("For example: twins, or two children of the same name.")
    )


class LocateForm(forms.Form):
    id_number = forms.CharField(
        label=gettext_lazy("ID number"),
        max_length=30,
        # What was typed stays in the field when it is refused: 18 characters are not retyped.
        widget=SecretInput(),
    )


class TransferRequestForm(forms.Form):
    to_village = forms.ModelChoiceField(
        label=gettext_lazy("Transfer to"), queryset=Division.objects.none()
    )
    reason = ReasonField(help_text=gettext_lazy("Why the family now belongs to this village."))

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        villages = Division.objects.visible_to(actor).filter(
            level__in=[Level.VILLAGE, Level.COMMUNITY]
        )
        field = self.fields["to_village"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = villages
        if actor.division_id and villages.filter(code=actor.division_id).exists():
            field.initial = actor.division_id


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            ("approve", gettext_lazy("Approve: move the family")),
            ("refuse", gettext_lazy("Refuse")),
        ],
    )
    reason = ReasonField(
        required=False, help_text=gettext_lazy("Required when refusing; the requester sees it.")
    )


# --- the review queue ------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    candidate: DuplicateCandidate
    matched: list[str]


def _labels(fields: list[str]) -> list[str]:
    return [str(MatchedField(f).label) for f in fields if f in MatchedField.values]


@staff_view(allow=duplicates.reads_queue)
def duplicate_list(request: HttpRequest) -> HttpResponse:
    """Pairs of files that may be one child, both inside the user's area."""
    user = _user(request)
    status = request.GET.get("status", CandidateStatus.OPEN)
    if status not in CandidateStatus.values:
        status = ""
    page = Paginator(duplicates.candidate_list(user, status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [QueueRow(c, _labels(c.matched_fields)) for c in page]
    return render_page_or_fragment(
        request,
        "registry/duplicates.html",
        "registry/duplicates.html#queue",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "statuses": CandidateStatus.choices,
            "decides": duplicates.decides(user),
        },
    )


@staff_view(allow=duplicates.reads_queue, write=True)
@require_POST
def duplicate_refresh(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not duplicates.decides(user):
        raise PermissionDenied
    result = duplicates.candidates_refresh(
        actor=user, prefix=user.scope_prefix or "", request=request
    )
    messages.success(
        request,
        _("The files were compared: %(open)d pairs to review, %(new)d of them new.")
        % {"open": result.open, "new": result.created},
    )
    return redirect("registry:duplicate_list")


def _side(child: Child) -> dict[str, Any]:
    return {
        "child": child,
        "url": _file_url(child),
        "id_number": masked_id(child.id_number_enc),
        "categories": [
            CategoryCode(c["code"]).label
            for c in child.categories
            if c["code"] in CategoryCode.values
        ],
    }


def _detail(
    request: HttpRequest,
    candidate: DuplicateCandidate,
    *,
    merge_form: MergeForm | None = None,
    distinct_form: DistinctForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    matched = set(candidate.matched_fields)
    can_decide = duplicates.decides(user) and candidate.status == CandidateStatus.OPEN
    return render(
        request,
        "registry/duplicates_detail.html",
        {
            "candidate": candidate,
            "matched": _labels(candidate.matched_fields),
            "matched_codes": matched,
            "a": _side(candidate.child_a),
            "b": _side(candidate.child_b),
            "can_decide": can_decide,
            "merge_form": merge_form or MergeForm(candidate=candidate),
            "distinct_form": distinct_form or DistinctForm(),
        },
        status=status,
    )


@staff_view(allow=duplicates.reads_queue)
def duplicate_detail(request: HttpRequest, code: UUID) -> HttpResponse:
    """The two files side by side, with what they share; the decision forms for the county."""
    user = _user(request)
    candidate = duplicates.get_candidate_for_user(user, code)
    for child in (candidate.child_a, candidate.child_b):
        services.child_file_opened(actor=user, child=child, request=request)
    return _detail(request, candidate)


def _candidate_to_decide(request: HttpRequest, code: UUID) -> DuplicateCandidate:
    """404 when the pair is not the user's to see, 403 when they see it but may not decide."""
    user = _user(request)
    candidate = duplicates.get_candidate_for_user(user, code)
    if not duplicates.decides(user):
        raise PermissionDenied
    return candidate


@staff_view(allow=duplicates.reads_queue, write=True)
@require_POST
def duplicate_merge(request: HttpRequest, code: UUID) -> HttpResponse:
    candidate = _candidate_to_decide(request, code)
    form = MergeForm(request.POST, candidate=candidate)
    if form.is_valid():
        a, b = candidate.child_a, candidate.child_b
        keep = a if form.cleaned_data["keep"] == str(a.public_id) else b
        try:
            kept = duplicates.candidate_merge(
                actor=_user(request),
                candidate=candidate,
                keep=keep,
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The files were merged into one."))
            return redirect(_file_url(kept) or reverse("registry:duplicate_list"))
    return _detail(request, candidate, merge_form=form, status=400)


@staff_view(allow=duplicates.reads_queue, write=True)
@require_POST
def duplicate_distinct(request: HttpRequest, code: UUID) -> HttpResponse:
    candidate = _candidate_to_decide(request, code)
    form = DistinctForm(request.POST)
    if form.is_valid():
        try:
            duplicates.candidate_mark_distinct(
                actor=_user(request),
                candidate=candidate,
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Marked as two different children."))
            return redirect("registry:duplicate_list")
    return _detail(request, candidate, distinct_form=form, status=400)


# --- transfer requests -----------------------------------------------------------------------


def offer_transfer(request: HttpRequest, id_number: str) -> str:
    """For the registration form, on a duplicate outside the user's area: remember the number
    (hash and mask only) and return the address of the transfer request form."""
    try:
        found = transfers.id_number_locate(
            actor=_user(request), id_number=id_number, request=request
        )
    except transfers.LookupLimitReached:
        return ""  # the registration form says the number is on a file; no offer past the limit
    if found.outcome != "elsewhere":
        return ""
    request.session[OFFER_KEY] = {"lookup": found.lookup, "masked": found.masked}
    return reverse("registry:transfer_request_create")


def _reads_requests(user: User) -> bool:
    return user.reads_child_files


def _files_requests(user: User) -> bool:
    return user.keeps_child_files


@staff_view(allow=_reads_requests)
def transfer_request_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    status = request.GET.get("status", "")
    page = Paginator(transfers.transfer_request_list(user, status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [(t, transfers.sees_transfer_details(user, t)) for t in page]
    return render(
        request,
        "registry/transfer_requests.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "statuses": TransferStatus.choices,
            "files_requests": user.keeps_child_files and not user.is_read_only,
        },
    )


@staff_view(allow=_files_requests, write=True)
@require_http_methods(["GET", "POST"])
def transfer_request_create(request: HttpRequest) -> HttpResponse:
    """Two steps: the ID number (is the child registered elsewhere? nothing more is said), then
    the village and the reason."""
    user = _user(request)
    if request.GET.get("restart"):
        request.session.pop(OFFER_KEY, None)
    offer = request.session.get(OFFER_KEY)
    step = request.POST.get("step") if request.method == "POST" else None
    locate = LocateForm(request.POST if step == "locate" else None)
    form = TransferRequestForm(request.POST if step == "request" else None, actor=user)
    context: dict[str, Any] = {"locate_form": locate, "form": form, "offer": offer}
    if step == "locate" and locate.is_valid():
        if response := _locate(request, locate, context):
            return response
    elif step == "request" and offer and form.is_valid():
        try:
            transfer = transfers.transfer_request_create(
                actor=user,
                lookup=offer["lookup"],
                to_village=form.cleaned_data["to_village"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            request.session.pop(OFFER_KEY, None)
            messages.success(request, _("Your request was sent to the county."))
            return redirect("registry:transfer_request_detail", transfer.public_id)
    status = context.pop("status", 400 if step else 200)
    response = render(request, "registry/transfer_request_form.html", context, status=status)
    add_never_cache_headers(response)  # it may show back the number typed
    return response


def _locate(
    request: HttpRequest, locate: LocateForm, context: dict[str, Any]
) -> HttpResponse | None:
    """Step one: a file elsewhere moves on to step two (the number kept as hash and mask);
    otherwise the form says why not."""
    try:
        found = transfers.id_number_locate(
            actor=_user(request), id_number=locate.cleaned_data["id_number"], request=request
        )
    except ValidationError as error:
        add_errors(locate, error)
        return None
    except transfers.LookupLimitReached as refused:
        locate.add_error("id_number", str(refused))
        context["status"] = 429
        return None
    if found.outcome == "elsewhere":
        request.session[OFFER_KEY] = {"lookup": found.lookup, "masked": found.masked}
        return redirect("registry:transfer_request_create")
    if found.child is not None:
        context["mine_url"] = _file_url(found.child)
        locate.add_error("id_number", _("This child's file is already in your area."))
    else:
        locate.add_error(
            "id_number", _("No file carries this ID number: you can register the child.")
        )
    return None


def _transfer_detail(
    request: HttpRequest, transfer: Any, form: DecideForm | None = None, status: int = 200
) -> HttpResponse:
    user = _user(request)
    details = transfers.sees_transfer_details(user, transfer)
    can_decide = transfer.status == TransferStatus.PENDING and transfers.decides_transfer(
        user, transfer
    )
    return render(
        request,
        "registry/transfer_request_detail.html",
        {
            "transfer": transfer,
            "details": details,
            "file_url": _file_url(transfer.child) if details else "",
            "can_decide": can_decide,
            "form": form or DecideForm(),
        },
        status=status,
    )


@staff_view(allow=_reads_requests)
def transfer_request_detail(request: HttpRequest, code: UUID) -> HttpResponse:
    """The requester sees that the request exists and its outcome; the county sees the file."""
    transfer = transfers.get_transfer_request_for_user(_user(request), code)
    return _transfer_detail(request, transfer)


@staff_view(allow=_reads_requests, write=True)
@require_POST
def transfer_request_decide(request: HttpRequest, code: UUID) -> HttpResponse:
    user = _user(request)
    transfer = transfers.get_transfer_request_for_user(user, code)
    if not transfers.decides_transfer(user, transfer):
        raise PermissionDenied
    form = DecideForm(request.POST)
    if form.is_valid():
        try:
            transfers.transfer_request_decide(
                actor=user,
                transfer=transfer,
                approve=form.cleaned_data["decision"] == "approve",
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The decision was recorded."))
            return redirect("registry:transfer_request_detail", transfer.public_id)
    return _transfer_detail(request, transfer, form, status=400)


urlpatterns: list[URLPattern] = [
    path("duplicates/", duplicate_list, name="duplicate_list"),
    path("duplicates/refresh/", duplicate_refresh, name="duplicate_refresh"),
    path("duplicates/<uuid:code>/", duplicate_detail, name="duplicate_detail"),
    path("duplicates/<uuid:code>/merge/", duplicate_merge, name="duplicate_merge"),
    path("duplicates/<uuid:code>/distinct/", duplicate_distinct, name="duplicate_distinct"),
    path("transfer-requests/", transfer_request_list, name="transfer_request_list"),
    path("transfer-requests/new/", transfer_request_create, name="transfer_request_create"),
    path("transfer-requests/<uuid:code>/", transfer_request_detail, name="transfer_request_detail"),
    path(
        "transfer-requests/<uuid:code>/decide/",
        transfer_request_decide,
        name="transfer_request_decide",
    ),
]
