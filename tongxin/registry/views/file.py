"""The child's file (一人一档): the page that shows it in one place, the forms that change it,
the care agreement, and a new file.

Reads need a role that reads files and the child inside the user's scope (404 alike for "not
there" and "not yours"); writes need a role that keeps files (read-only roles: 403). Every edit
names the version it was based on and is refused, with what changed meanwhile, when someone
else saved first."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from functools import partial
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.audit.models import AuditEvent
from tongxin.core.forms import add_errors
from tongxin.core.http import render_page_or_fragment, staff_view
from tongxin.core.http import signed_in_user as _actor
from tongxin.core.versions import FieldChange, StaleEdit, record_version
from tongxin.geo.scope import get_for_user_or_404
from tongxin.lib import idcard
from tongxin.registry import agreements, services
from tongxin.registry.forms import (
    CHILD_FORM_FIELDS,
    HOUSEHOLD_FORM_FIELDS,
    AgreementForm,
    ChildEditForm,
    ChildFactsForm,
    DecisionForm,
    HouseholdForm,
    IncapacityForm,
    MigrationForm,
    NewHouseholdForm,
    ParentForm,
    StatusForm,
    TerminateForm,
    TransferForm,
)
from tongxin.registry.models import (
    CareAgreement,
    CategoryCode,
    Child,
    Household,
    ManualDecision,
    Migration,
    Parent,
    ParentRole,
)
from tongxin.registry.selectors import (
    age_on,
    child_changes,
    get_child_for_user,
    get_household_for_user,
    household_changes,
    masked_id,
)

ACCESS_LOG_LENGTH = 50
HOUSEHOLD_SEARCH_LENGTH = 20


def _reads_files(user: User) -> bool:
    return user.reads_child_files


def _keeps_files(user: User) -> bool:
    return user.keeps_child_files


def _decides(user: User) -> bool:
    return user.role == Role.COUNTY_ADMIN


def _file_url(child: Child, section: str = "") -> str:
    url = reverse("registry:child_detail", args=[child.public_id])
    return f"{url}#{section}" if section else url


def _role_or_404(role: str) -> ParentRole:
    if role not in ParentRole.values:
        raise Http404
    return ParentRole(role)


# --- the file --------------------------------------------------------------------------------


@staff_view(allow=_reads_files)
def child_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The whole file on one page; every opening is audited."""
    user = _actor(request)
    try:
        child = get_child_for_user(user, public_id)
    except Http404:
        services.child_access_denied(actor=user, request=request, code=str(public_id))
        raise
    services.child_file_opened(actor=user, child=child, request=request)
    response = render(request, "registry/child_detail.html", _file_context(user, child))
    add_never_cache_headers(response)
    return response


def _file_context(user: User, child: Child) -> dict[str, Any]:
    today = timezone.localdate()
    household = child.household
    parents = {p.role: p for p in household.parents.all()}
    family = [
        {
            "role": role,
            "parent": parents.get(role),
            "masked_id": masked_id(parents[role].id_number_enc) if role in parents else "",
            "spells": list(parents[role].migrations.all()) if role in parents else [],
        }
        for role in ParentRole
    ]
    caregiver_masked_id = masked_id(household.caregiver_id_enc)
    siblings = household.children.exclude(pk=child.pk).order_by("birth_date")
    decisions = {
        d.code: d
        for d in ManualDecision.objects.filter(child=child, withdrawn_at__isnull=True)
        .select_related("decided_by")
        .order_by("decided_at")
    }
    computed = {c["code"]: c["reason"] for c in child.categories}
    labels = dict(CategoryCode.choices)
    categories = [
        {
            "code": code,
            "label": labels.get(code, code),
            "computed": code in computed,
            "reason": computed.get(code, ""),
            "decision": decisions.get(code),
        }
        for code in CategoryCode.values
        if code in computed or code in decisions
    ]
    agreement_rows = [
        {
            "agreement": a,
            "status": agreements.agreement_status(a, today),
            "expiring": agreements.agreement_expiring(a, today),
            "masked_id": masked_id(a.caregiver_id_enc),
        }
        for a in household.agreements.order_by("-signed_on", "-pk")
    ]
    changes = sorted(
        [*child_changes(child), *household_changes(household)], key=lambda c: c.at, reverse=True
    )
    access_log = None
    if user.reads_access_log:
        roles = dict(Role.choices)
        access_log = [
            {"event": e, "role": roles.get(e.actor_role, e.actor_role)}
            for e in AuditEvent.objects.visible_to(user).filter(
                action="child.view", object_code=str(child.public_id)
            )[:ACCESS_LOG_LENGTH]
        ]
    writes = user.keeps_child_files and not user.is_read_only
    return {
        "child": child,
        "age": age_on(child.birth_date, today),
        "household": household,
        "masked_id": masked_id(child.id_number_enc),
        "family": family,
        "caregiver_masked_id": caregiver_masked_id,
        "siblings": siblings,
        "categories": categories,
        "spans": child.category_spans.all(),
        "agreements": agreement_rows,
        "changes": changes,
        "access_log": access_log,
        "today": today,
        "can_edit": writes,
        "can_reveal": user.reveals_id_numbers and not user.is_read_only,
        "can_decide": writes and _decides(user),
    }


def _whose_label(whose: str) -> str:
    if whose in ParentRole.values:
        return _("%(parent)s's ID number") % {"parent": ParentRole(whose).label}
    if whose == services.CHILD_ID:
        return _("ID number")
    return _("Caregiver's ID number")


@staff_view(allow=lambda u: u.reveals_id_numbers, write=True)
@require_POST
def child_reveal_id(request: HttpRequest, public_id: Any) -> HttpResponse:
    """A full ID number on the file, one at a time, audited: the child's, a parent's
    (``whose=father``/``mother``), the caregiver's (``caregiver``) or an agreement's caregiver's
    (``agreement-<code>``). htmx swaps it into the page; without JavaScript it comes on a page
    of its own."""
    user = _actor(request)
    child = get_child_for_user(user, public_id)
    whose = request.POST.get("whose", "").strip() or services.CHILD_ID
    try:
        number = services.id_number_reveal(actor=user, child=child, whose=whose, request=request)
    except services.NoSuchIdNumber:
        raise Http404 from None
    context: dict[str, Any] = {"child": child, "revealed": number, "label": _whose_label(whose)}
    if whose == services.CHILD_ID:
        context["masked_id"] = masked_id(child.id_number_enc)
        fragment = "registry/child_detail.html#id_number"
    else:
        context.update(whose=whose, masked=idcard.mask(number))
        fragment = "registry/child_detail.html#other_id"
    response = render_page_or_fragment(request, "registry/id_revealed.html", fragment, context)
    add_never_cache_headers(response)
    return response


# --- stale edits -----------------------------------------------------------------------------


def _refuse_if_stale(
    model: type[Child] | type[Household],
    obj: Child | Household,
    version: int,
    meanwhile: Callable[[], list[FieldChange]],
) -> None:
    """For writes whose service takes no version: the same check, under the same row lock
    (call inside a transaction)."""
    current = (
        model.objects.select_for_update()
        .filter(pk=obj.pk)
        .values_list("version", flat=True)
        .first()
    )
    if current != version:
        raise StaleEdit(int(current or 0), meanwhile())


def _stale_form_data(request: HttpRequest, key: str, current: int) -> Any:
    """The user's input, kept, now based on the current version: sending it again is a
    deliberate choice made after seeing what changed."""
    data = request.POST.copy()
    data[key] = str(current)
    return data


def _edit(
    request: HttpRequest,
    child: Child,
    form_class: Callable[..., forms.Form],
    save: Callable[[Any], tuple[str, ...] | None],
    *,
    initial: Callable[[], dict[str, Any]],
    title: str,
    section: str,
    intro: str = "",
    version_field: str = "version",
    message: str | None = None,
    multipart: bool = False,
) -> HttpResponse:
    """Every edit form of the file, one way. A GET shows the form filled with ``initial()``.
    A valid POST goes to ``save(form)`` (which returns the ID number warnings, if any), then
    back to the file's ``section`` with ``message`` ("Saved." unless given). When someone
    saved first (``StaleEdit``): 409, what changed meanwhile, and the user's input kept, based
    on the current version (the form's ``version_field``). A duplicate ID number, or a
    service's ValidationError, shows on the form."""

    def page(
        form: forms.Form,
        *,
        stale: StaleEdit | None = None,
        duplicate: services.DuplicateIdNumber | None = None,
        status: int = 200,
    ) -> HttpResponse:
        context = {
            "child": child,
            "form": form,
            "title": title,
            # A refusal (what changed meanwhile, the file with the same number) takes its place.
            "intro": "" if stale or duplicate else intro,
            "back": _file_url(child, section),
            "stale": stale,
            "duplicate": duplicate,
            "multipart": multipart,
        }
        response = render(request, "registry/edit_form.html", context, status=status)
        # A refused form shows back what was typed (an ID number too): kept by no cache.
        add_never_cache_headers(response)
        return response

    if request.method != "POST":
        return page(form_class(initial=initial()))
    form = form_class(request.POST, request.FILES)
    if form.is_valid():
        try:
            warnings = save(form)
        except StaleEdit as exc:
            data = _stale_form_data(request, version_field, exc.current_version)
            return page(form_class(data), stale=exc, status=409)
        except services.DuplicateIdNumber as exc:
            form.add_error("id_number", _("This ID number is already on a file."))
            return page(form, duplicate=exc)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, message or _("Saved."))
            _warn(request, warnings or ())
            return redirect(_file_url(child, section))
    return page(form)


def _warn(request: HttpRequest, warnings: tuple[str, ...]) -> None:
    for warning in warnings:
        messages.warning(request, warning)


def _values(obj: Model | None, names: Iterable[str]) -> dict[str, Any]:
    """The stored values of ``names``, to fill a form (none for a record not yet made)."""
    return {name: getattr(obj, name) for name in names} if obj is not None else {}


# --- the child -------------------------------------------------------------------------------


@staff_view(allow=_keeps_files, write=True)
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

    return _edit(
        request,
        child,
        ChildEditForm,
        save,
        initial=lambda: {**_values(child, CHILD_FORM_FIELDS), "version": child.version},
        title=_("Basic information"),
        section="basic",
        intro=_id_hint(child),
    )


def _id_hint(child: Child) -> str:
    shown = masked_id(child.id_number_enc)
    if not shown:
        return _("No ID number on file.")
    return _("ID number on file: %(masked)s") % {"masked": shown}


@staff_view(allow=_keeps_files, write=True)
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

    return _edit(
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


@staff_view(allow=_decides, write=True)
@require_http_methods(["GET", "POST"])
def manual_decision(request: HttpRequest, public_id: Any) -> HttpResponse:
    """An officer's decision on a category; the computed result stays visible beside it."""
    user = _actor(request)
    child = get_child_for_user(user, public_id)

    @transaction.atomic
    def save(form: DecisionForm) -> None:
        data = form.cleaned_data
        version = data["version"]
        _refuse_if_stale(Child, child, version, lambda: child_changes(child, version))
        services.manual_decision_record(
            actor=user,
            child=child,
            code=data["code"],
            include=data["include"],
            reason=data["reason"],
            request=request,
        )

    return _edit(
        request,
        child,
        DecisionForm,
        save,
        initial=lambda: {"code": request.GET.get("code"), "version": child.version},
        title=_("Manual decision on a category"),
        section="categories",
        intro=_("The computed result stays on the file beside your decision."),
    )


# --- the family ------------------------------------------------------------------------------


@staff_view(allow=_keeps_files, write=True)
@require_http_methods(["GET", "POST"])
def household_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = _actor(request)
    child = get_child_for_user(user, public_id)
    household = child.household
    intro = _("These facts are shared by every child of the family.")
    if shown := masked_id(household.caregiver_id_enc):
        intro += " " + _("Caregiver's ID number on file: %(masked)s") % {"masked": shown}

    def save(form: HouseholdForm) -> None:
        services.household_update(
            actor=user,
            household=household,
            version=form.cleaned_data["version"],
            changes=form.model_values(),
            caregiver_id_number=form.cleaned_data["caregiver_id_number"] or None,
            request=request,
        )

    return _edit(
        request,
        child,
        HouseholdForm,
        save,
        initial=lambda: {
            **_values(household, HOUSEHOLD_FORM_FIELDS),
            "version": household.version,
        },
        title=_("Family"),
        section="family",
        intro=intro,
    )


@staff_view(allow=_keeps_files, write=True)
@require_http_methods(["GET", "POST"])
def household_transfer(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The family moved to another village in the user's scope: the old village loses the
    file, the new one gains it."""
    user = _actor(request)
    child = get_child_for_user(user, public_id)
    household = child.household

    @transaction.atomic
    def save(form: TransferForm) -> None:
        data = form.cleaned_data
        version = data["version"]
        _refuse_if_stale(
            Household, household, version, lambda: household_changes(household, version)
        )
        services.household_transfer(
            actor=user,
            household=household,
            village=data["village"],
            reason=data["reason"],
            request=request,
        )

    return _edit(
        request,
        child,
        partial(TransferForm, user=user, current=household.village_id),
        save,
        initial=lambda: {"version": household.version},
        title=_("Transfer the family to another village"),
        section="family",
        intro=_(
            "Every child of the family moves with it. Moves outside your area go through the "
            "town or the county."
        ),
        message=_("The family was transferred."),
    )


@staff_view(allow=_keeps_files, write=True)
@require_http_methods(["GET", "POST"])
def parent_edit(request: HttpRequest, public_id: Any, role: str) -> HttpResponse:
    user = _actor(request)
    child = get_child_for_user(user, public_id)
    parent_role = _role_or_404(role)
    household = child.household
    parent = Parent.objects.filter(household=household, role=parent_role).first()
    intro = ""
    if parent is not None and parent.id_number_enc:
        intro = _("ID number on file: %(masked)s") % {"masked": masked_id(parent.id_number_enc)}

    def save(form: ParentForm) -> None:
        services.parent_save(
            actor=user,
            household=household,
            role=parent_role,
            fields=form.model_values(),
            version=form.cleaned_data["token"],
            id_number=form.cleaned_data["id_number"] or None,
            request=request,
        )

    return _edit(
        request,
        child,
        ParentForm,
        save,
        initial=lambda: {
            "token": record_version(Parent, parent.pk if parent else None),
            **_values(parent, ParentForm.model_fields),
        },
        title=str(parent_role.label),
        section="family",
        intro=intro,
        version_field="token",
    )


@staff_view(allow=_keeps_files, write=True)
@require_http_methods(["GET", "POST"])
def migration_create(request: HttpRequest, public_id: Any, role: str) -> HttpResponse:
    user = _actor(request)
    child = get_child_for_user(user, public_id)
    parent_role = _role_or_404(role)
    parent = Parent.objects.filter(household=child.household, role=parent_role).first()
    if parent is None:
        raise Http404
    return _migration_edit(request, user, child, parent, None)


@staff_view(allow=_keeps_files, write=True)
@require_http_methods(["GET", "POST"])
def migration_edit(request: HttpRequest, public_id: Any, spell: Any) -> HttpResponse:
    user = _actor(request)
    child = get_child_for_user(user, public_id)
    migration = get_for_user_or_404(
        Migration.objects.filter(parent__household=child.household).select_related("parent"),
        public_id=spell,
    )
    return _migration_edit(request, user, child, migration.parent, migration)


def _migration_edit(
    request: HttpRequest, user: User, child: Child, parent: Parent, migration: Migration | None
) -> HttpResponse:
    def save(form: MigrationForm) -> None:
        services.migration_save(
            actor=user,
            parent=parent,
            migration=migration,
            fields=form.model_values(),
            version=form.cleaned_data["token"],
            request=request,
        )

    return _edit(
        request,
        child,
        partial(MigrationForm, born_on=parent.birth_date),
        save,
        initial=lambda: {
            "token": record_version(Migration, migration.pk if migration else None),
            **_values(migration, MigrationForm.model_fields),
        },
        title=_("Work away: %(parent)s") % {"parent": ParentRole(parent.role).label},
        section="family",
        version_field="token",
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


@staff_view(allow=_keeps_files, write=True)
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
            _warn(request, registered.warnings)
            return redirect(_file_url(registered.child))
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


# --- the care agreement ----------------------------------------------------------------------


def _eldest_birth(household: Household) -> date | None:
    """An agreement covers every child of the family: none of its dates can precede the
    eldest's birth."""
    return household.children.order_by("birth_date").values_list("birth_date", flat=True).first()


def _agreement(child: Child, agreement_id: Any) -> CareAgreement:
    return get_for_user_or_404(
        CareAgreement.objects.filter(household=child.household).select_related("household"),
        public_id=agreement_id,
    )


@staff_view(allow=_keeps_files, write=True)
@require_http_methods(["GET", "POST"])
def agreement_create(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = _actor(request)
    child = get_child_for_user(user, public_id)
    household = child.household

    def save(form: AgreementForm) -> None:
        agreements.agreement_create(
            actor=user,
            household=household,
            fields=form.model_values(),
            caregiver_id_number=form.cleaned_data["caregiver_id_number"],
            document=form.cleaned_data["document"] or None,
            request=request,
        )

    return _edit(
        request,
        child,
        partial(AgreementForm, born_on=_eldest_birth(household)),
        save,
        # The family's caregiver is usually the one entrusted: offered, not imposed.
        initial=lambda: {
            "caregiver_name": household.caregiver_name,
            "caregiver_relation": household.caregiver_relation,
            "caregiver_phone": household.caregiver_phone,
            "caregiver_address": household.caregiver_address,
        },
        title=_("New care agreement"),
        section="agreement",
        intro=_("The parents away entrust the children to a caregiver, in writing (task 5)."),
        message=_("The care agreement was archived."),
        multipart=True,
    )


@staff_view(allow=_keeps_files, write=True)
@require_http_methods(["GET", "POST"])
def agreement_terminate(request: HttpRequest, public_id: Any, agreement_id: Any) -> HttpResponse:
    user = _actor(request)
    child = get_child_for_user(user, public_id)
    agreement = _agreement(child, agreement_id)

    def save(form: TerminateForm) -> None:
        agreements.agreement_terminate(
            actor=user,
            agreement=agreement,
            terminated_on=form.cleaned_data["terminated_on"],
            request=request,
        )

    return _edit(
        request,
        child,
        partial(TerminateForm, born_on=_eldest_birth(agreement.household)),
        save,
        initial=lambda: {"terminated_on": timezone.localdate()},
        title=_("Terminate the care agreement"),
        section="agreement",
        message=_("The care agreement was terminated."),
    )


@staff_view(allow=_keeps_files, write=True)
@require_http_methods(["GET", "POST"])
def agreement_incapable(request: HttpRequest, public_id: Any, agreement_id: Any) -> HttpResponse:
    """The entrusted caregiver lacks capacity: recorded with the day the parents were told."""
    user = _actor(request)
    child = get_child_for_user(user, public_id)
    agreement = _agreement(child, agreement_id)
    intro = _(
        "Tell the parents, so that they make another arrangement, and record the day you told them."
    )

    def save(form: IncapacityForm) -> None:
        agreements.agreement_caregiver_incapable(
            actor=user,
            agreement=agreement,
            parents_told_on=form.cleaned_data["parents_told_on"],
            request=request,
        )

    return _edit(
        request,
        child,
        partial(IncapacityForm, born_on=_eldest_birth(agreement.household)),
        save,
        initial=lambda: {"parents_told_on": timezone.localdate()},
        title=_("The caregiver lacks capacity"),
        section="agreement",
        intro=intro,
    )


@staff_view(allow=_reads_files)
def agreement_document(request: HttpRequest, public_id: Any, agreement_id: Any) -> HttpResponse:
    """The scanned agreement, for those who may read the file; every look is audited. Never a
    public /media/ address."""
    user = _actor(request)
    child = get_child_for_user(user, public_id)
    agreement = _agreement(child, agreement_id)
    if not agreement.document:
        raise Http404
    agreements.agreement_document_opened(actor=user, agreement=agreement, request=request)
    content_type = agreements.document_content_type(agreement)
    suffix = agreements.document_suffix(agreement)
    # At most 5 MB: read whole, so the file is closed before the response leaves.
    with agreement.document.open("rb") as scan:
        response = HttpResponse(scan.read(), content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="agreement.{suffix}"'
    add_never_cache_headers(response)
    return response


urlpatterns: list[URLPattern] = [
    path("new/", child_create, name="child_create"),
    path("<uuid:public_id>/", child_detail, name="child_detail"),
    path("<uuid:public_id>/reveal-id/", child_reveal_id, name="child_reveal_id"),
    path("<uuid:public_id>/edit/", child_edit, name="child_edit"),
    path("<uuid:public_id>/status/", child_status, name="child_status"),
    path("<uuid:public_id>/decision/", manual_decision, name="manual_decision"),
    path("<uuid:public_id>/family/", household_edit, name="household_edit"),
    path("<uuid:public_id>/family/transfer/", household_transfer, name="household_transfer"),
    path("<uuid:public_id>/family/<str:role>/", parent_edit, name="parent_edit"),
    path(
        "<uuid:public_id>/family/<str:role>/migrations/new/",
        migration_create,
        name="migration_create",
    ),
    path("<uuid:public_id>/migrations/<uuid:spell>/", migration_edit, name="migration_edit"),
    path("<uuid:public_id>/agreements/new/", agreement_create, name="agreement_create"),
    path(
        "<uuid:public_id>/agreements/<uuid:agreement_id>/terminate/",
        agreement_terminate,
        name="agreement_terminate",
    ),
    path(
        "<uuid:public_id>/agreements/<uuid:agreement_id>/incapable/",
        agreement_incapable,
        name="agreement_incapable",
    ),
    path(
        "<uuid:public_id>/agreements/<uuid:agreement_id>/document/",
        agreement_document,
        name="agreement_document",
    ),
]
