"""The child's own facts: their edit, the file's status, an officer's manual decision on a
category, and a new file (in a family on file, or in a new one)."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tongxin.accounts.models import User
from tongxin.core.forms import add_errors
from tongxin.core.http import signed_in_user as _actor
from tongxin.core.http import staff_view
from tongxin.registry import services
from tongxin.registry.forms import (
    CHILD_FORM_FIELDS,
    ChildEditForm,
    ChildFactsForm,
    DecisionForm,
    NewHouseholdForm,
    StatusForm,
)
from tongxin.registry.models import Child, Household
from tongxin.registry.selectors import (
    child_changes,
    get_child_for_user,
    get_household_for_user,
    masked_id,
)
from tongxin.registry.views.file.common import (
    decides,
    edit,
    file_url,
    keeps_files,
    refuse_if_stale,
    values,
    warn,
)

HOUSEHOLD_SEARCH_LENGTH = 20


# --- the child -------------------------------------------------------------------------------


@staff_view(allow=keeps_files, write=True)
@require_http_methods(["GET", "POST"])
def child_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = _actor(request)
    child = get_child_for_user(user, public_id)

    def save(form: ChildEditForm) -> tuple[str, ...]:
        saved = services.child_update(
            actor=user,
            child=child,
            version=form.cleaned_data["version"],
            changes=form.model_values(),
            id_number=form.cleaned_data["id_number"] or None,
            request=request,
        )
        return saved.warnings

    return edit(
        request,
        child,
        ChildEditForm,
        save,
        initial=lambda: {**values(child, CHILD_FORM_FIELDS), "version": child.version},
        title=_("Basic information"),
        section="basic",
        intro=_id_hint(child),
    )


def _id_hint(child: Child) -> str:
    shown = masked_id(child.id_number_enc)
    if not shown:
        return _("No ID number on file.")
    return _("ID number on file: %(masked)s") % {"masked": shown}


@staff_view(allow=keeps_files, write=True)
@require_http_methods(["GET", "POST"])
def child_status(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = _actor(request)
    child = get_child_for_user(user, public_id)

    def save(form: StatusForm) -> None:
        data = form.cleaned_data
        services.child_set_status(
            actor=user,
            child=child,
            version=data["version"],
            status=data["status"],
            reason=data["status_reason"],
            since=data["status_since"],
            request=request,
        )

    return edit(
        request,
        child,
        partial(StatusForm, born_on=child.birth_date),
        save,
        initial=lambda: {
            "status": child.status,
            "status_reason": child.status_reason,
            "status_since": timezone.localdate(),
            "version": child.version,
        },
        title=_("Status of the file"),
        section="basic",
    )


@staff_view(allow=decides, write=True)
@require_http_methods(["GET", "POST"])
def manual_decision(request: HttpRequest, public_id: Any) -> HttpResponse:
    """An officer's decision on a category; the computed result stays visible beside it."""
    user = _actor(request)
    child = get_child_for_user(user, public_id)

    @transaction.atomic
    def save(form: DecisionForm) -> None:
        data = form.cleaned_data
        version = data["version"]
        refuse_if_stale(Child, child, version, lambda: child_changes(child, version))
        services.manual_decision_record(
            actor=user,
            child=child,
            code=data["code"],
            include=data["include"],
            reason=data["reason"],
            request=request,
        )

    return edit(
        request,
        child,
        DecisionForm,
        save,
        initial=lambda: {"code": request.GET.get("code"), "version": child.version},
        title=_("Manual decision on a category"),
        section="categories",
        intro=_("The computed result stays on the file beside your decision."),
    )


# --- a new file ------------------------------------------------------------------------------


def households_matching(user: User, q: str) -> list[Household]:
    """Households in scope whose address, or one of whose children's name (characters,
    pinyin or initials), matches ``q`` (two queries)."""
    key = q.lower().replace(" ", "")
    by_child = Q(children__name__contains=q)
    if key.isascii():
        by_child |= Q(children__name_pinyin__startswith=key) | Q(
            children__name_initials__startswith=key
        )
    matches = (
        Household.objects.visible_to(user)
        .filter(Q(address__contains=q) | by_child)
        .values_list("pk", flat=True)
        .distinct()
    )
    return list(
        Household.objects.filter(pk__in=list(matches[:HOUSEHOLD_SEARCH_LENGTH]))
        .select_related("village")
        .prefetch_related(Prefetch("children", queryset=Child.objects.order_by("birth_date", "pk")))
        .order_by("village_id", "address", "pk")
    )


@staff_view(allow=keeps_files, write=True)
@require_http_methods(["GET", "POST"])
def child_create(request: HttpRequest) -> HttpResponse:
    """Register a child: in a family already on file (found by address or a sibling's name),
    or in a new family in a village of the user's area."""
    user = _actor(request)
    q = request.GET.get("q", "").replace("\x00", "").strip()[:50]
    chosen = (request.POST.get("household") or request.GET.get("household") or "").strip()
    household = get_household_for_user(user, chosen) if chosen else None
    post = request.POST if request.method == "POST" else None
    facts = ChildFactsForm(post, initial={"registered_on": timezone.localdate()})
    new_household = NewHouseholdForm(post if household is None else None, user=user)
    duplicate: services.DuplicateIdNumber | None = None
    if post is not None and facts.is_valid() and (household or new_household.is_valid()):
        try:
            with transaction.atomic():
                target = household or services.household_create(
                    actor=user,
                    village=new_household.cleaned_data["village"],
                    fields={
                        "address": new_household.cleaned_data["address"],
                        "phone": new_household.cleaned_data["phone"],
                    },
                    request=request,
                )
                registered = services.child_register(
                    actor=user,
                    household=target,
                    fields=facts.model_values(),
                    id_number=facts.cleaned_data["id_number"],
                    request=request,
                )
        except services.DuplicateIdNumber as exc:
            facts.add_error("id_number", _("This ID number is already on a file."))
            duplicate = exc
        except ValidationError as exc:
            add_errors(facts, exc)
            if hasattr(exc, "error_dict") and "village" in exc.error_dict:
                add_errors(new_household, ValidationError({"village": exc.error_dict["village"]}))
        else:
            messages.success(request, _("The file was opened."))
            warn(request, registered.warnings)
            return redirect(file_url(registered.child))
    response = render(
        request,
        "registry/child_create.html",
        {
            "q": q,
            "matches": households_matching(user, q) if q else None,
            "household": household,
            "facts": facts,
            "new_household": new_household,
            "duplicate": duplicate,
        },
    )
    # A refused form shows back what was typed (an ID number too): kept by no cache.
    add_never_cache_headers(response)
    return response
