"""Contacts (联系/走访) in the browser: record one from a child's file on a phone, read it with
its addenda, correct it within the edit window, add an addendum after.

Reads need a role that reads files and the contact's family in scope (404 alike for "not
there" and "not yours"); writes need a role that keeps files (read-only roles: 403); only the
author edits, within ``Contact.EDIT_WINDOW_HOURS``."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tongxin.accounts.models import User
from tongxin.core.forms import add_errors
from tongxin.core.http import signed_in_user as _actor
from tongxin.core.http import staff_view
from tongxin.core.versions import StaleEdit
from tongxin.geo.scope import get_for_user_or_404
from tongxin.protection.selectors import contact_problems
from tongxin.registry.models import Child, ChildStatus
from tongxin.registry.selectors import get_child_for_user
from tongxin.visits import services
from tongxin.visits.forms import AddendumForm, ContactForm
from tongxin.visits.models import CHECKLIST, Check, Contact, ContactAddendum, ContactKind


def _reads_files(user: User) -> bool:
    return user.reads_child_files


def _keeps_files(user: User) -> bool:
    return user.keeps_child_files


def _file_url(child: Child) -> str:
    return reverse("registry:child_detail", args=[child.public_id]) + "#contacts"


def _next_url(request: HttpRequest) -> str | None:
    """Where to go after saving when the page was opened from elsewhere (the worklist)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def _get_contact(user: User, public_id: Any) -> Contact:
    return get_for_user_or_404(
        Contact.objects.visible_to(user).select_related("household", "author", "village"),
        public_id=public_id,
    )


def _siblings(child: Child) -> Any:
    """The other active children of the family, oldest first."""
    return (
        child.household.children.exclude(pk=child.pk)
        .filter(status=ChildStatus.ACTIVE)
        .order_by("birth_date", "pk")
    )


# --- record ----------------------------------------------------------------------------------


@staff_view(allow=_keeps_files, write=True)
@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest) -> HttpResponse:
    """One screen on a phone: how, when, who was met, the checklist (each concern may become a
    problem found), notes, where. The hidden idempotency key makes a double submit on a weak
    network record once."""
    user = _actor(request)
    code = (request.GET.get("child") or request.POST.get("child") or "").strip()
    try:
        uuid.UUID(code)
    except ValueError:
        raise Http404 from None
    child = get_child_for_user(user, code)
    siblings = _siblings(child)
    if request.method != "POST":
        # A worklist line opens the form with its kind (a home visit's line: a home visit).
        kind = request.GET.get("kind", "")
        form = ContactForm(
            initial={
                "day": timezone.localdate(),
                "kind": kind if kind in ContactKind.values else ContactKind.PHONE,
            },
            child=child,
            siblings=siblings,
        )
        return _form_page(request, child, form, siblings=siblings)
    form = ContactForm(request.POST, child=child, siblings=siblings)
    if form.is_valid():
        try:
            recorded = services.contact_record(
                actor=user,
                household=child.household,
                children=[child, *form.cleaned_data.get("also", [])],
                fields=form.contact_fields(),
                problems=form.problems(owner=user),
                idempotency_key=form.cleaned_data["idempotency_key"],
                request=request,
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            if recorded.created:
                credited = recorded.contact.credits.count()
                if credited > 1:
                    shown = _("Contact recorded; it counts for %(count)d children.")
                    messages.success(request, shown % {"count": credited})
                else:
                    messages.success(request, _("Contact recorded."))
            else:
                messages.info(request, _("This contact was already recorded."))
            return redirect(_next_url(request) or _file_url(child))
    return _form_page(request, child, form, siblings=siblings)


def _form_page(
    request: HttpRequest,
    child: Child,
    form: ContactForm,
    *,
    siblings: Any = None,
    contact: Contact | None = None,
    stale: StaleEdit | None = None,
    status: int = 200,
) -> HttpResponse:
    back = reverse("visits:contact_detail", args=[contact.public_id]) if contact else None
    response = render(
        request,
        "visits/contact_form.html",
        {
            "child": child,
            "form": form,
            "contact": contact,
            "siblings": list(siblings) if siblings is not None else [],
            "stale": stale,
            "editable_until": services.contact_editable_until(contact) if contact else None,
            "back": back or _next_url(request) or _file_url(child),
            "next": _next_url(request) or "",
        },
        status=status,
    )
    add_never_cache_headers(response)
    return response


# --- read ------------------------------------------------------------------------------------


def _credited(contact: Contact) -> list[Child]:
    """The children the contact counts for, oldest first."""
    return [
        credit.child
        for credit in contact.credits.select_related("child").order_by("child__birth_date", "pk")
    ]


def _first_child(contact: Contact) -> Child:
    credited = _credited(contact)
    if not credited:
        raise Http404
    return credited[0]


def _detail_context(user: User, contact: Contact) -> dict[str, Any]:
    credited = _credited(contact)
    problems = contact_problems(contact)
    addenda = ContactAddendum.objects.filter(contact=contact).select_related("author")
    writes = user.keeps_child_files and not user.is_read_only
    can_edit = services.contact_can_edit(user, contact)
    return {
        "contact": contact,
        "child": credited[0] if credited else None,
        "credited": credited,
        "checklist": [
            {"label": label, "value": value, "shown": Check(value).label}
            for item, label in CHECKLIST
            if (value := getattr(contact, item))
        ],
        "problems": problems,
        "addenda": list(addenda),
        "can_edit": can_edit,
        "editable_until": services.contact_editable_until(contact),
        "can_add": writes and not can_edit,
    }


@staff_view(allow=_reads_files)
def contact_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The contact as recorded, the problems raised from it, its addenda; the author's edit
    link within the window, else the addendum form."""
    user = _actor(request)
    contact = _get_contact(user, public_id)
    services.contact_opened(actor=user, contact=contact, request=request)
    context = _detail_context(user, contact)
    context["addendum_form"] = AddendumForm()
    response = render(request, "visits/contact_detail.html", context)
    add_never_cache_headers(response)
    return response


@staff_view(allow=_keeps_files, write=True)
@require_POST
def contact_addendum(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = _actor(request)
    contact = _get_contact(user, public_id)
    form = AddendumForm(request.POST)
    if form.is_valid():
        try:
            services.addendum_add(
                actor=user, contact=contact, text=form.cleaned_data["text"], request=request
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("The addendum was added."))
            return redirect(reverse("visits:contact_detail", args=[contact.public_id]) + "#addenda")
    context = _detail_context(user, contact)
    context["addendum_form"] = form
    return render(request, "visits/contact_detail.html", context)


# --- correct ---------------------------------------------------------------------------------


def _initial(contact: Contact) -> dict[str, Any]:
    return {name: getattr(contact, name) for name in services.CONTACT_FIELDS} | {
        "version": contact.version
    }


@staff_view(allow=_keeps_files, write=True)
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The author's correction within the edit window, based on the version shown; a stale
    version is refused (409) with what changed meanwhile and the input kept."""
    user = _actor(request)
    contact = _get_contact(user, public_id)
    if contact.author_id != user.pk:
        raise PermissionDenied
    detail = reverse("visits:contact_detail", args=[contact.public_id])
    if not services.contact_can_edit(user, contact):
        messages.warning(
            request, _("A contact can be changed only within 48 hours. Add an addendum instead.")
        )
        return redirect(detail + "#addenda")
    child = _first_child(contact)
    if request.method != "POST":
        form = ContactForm(initial=_initial(contact), child=child, editing=True)
        return _form_page(request, child, form, contact=contact)
    form = ContactForm(request.POST, child=child, editing=True)
    if form.is_valid():
        try:
            services.contact_update(
                actor=user,
                contact=contact,
                version=form.cleaned_data["version"],
                changes=form.contact_fields(),
                request=request,
            )
        except StaleEdit as exc:
            data = request.POST.copy()
            data["version"] = str(exc.current_version)
            form = ContactForm(data, child=child, editing=True)
            return _form_page(request, child, form, contact=contact, stale=exc, status=409)
        except services.EditWindowClosed:
            messages.warning(
                request,
                _("A contact can be changed only within 48 hours. Add an addendum instead."),
            )
            return redirect(detail + "#addenda")
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(detail)
    return _form_page(request, child, form, contact=contact)


urlpatterns: list[URLPattern] = [
    path("contacts/new/", contact_create, name="contact_create"),
    path("contacts/<uuid:public_id>/", contact_detail, name="contact_detail"),
    path("contacts/<uuid:public_id>/edit/", contact_edit, name="contact_edit"),
    path("contacts/<uuid:public_id>/addenda/", contact_addendum, name="contact_addendum"),
]
