"""What the file's pages share: who may read and who may keep files, the file's address, and
every edit form of the file, one way (``edit``): filled from the stored values, refused with
what changed meanwhile when someone else saved first, back to the file's section when saved."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.core.forms import add_errors
from tongxin.core.versions import FieldChange, StaleEdit
from tongxin.registry import services
from tongxin.registry.models import Child, Household


def reads_files(user: User) -> bool:
    return user.reads_child_files


def keeps_files(user: User) -> bool:
    return user.keeps_child_files


def decides(user: User) -> bool:
    return user.role == Role.COUNTY_ADMIN


def file_url(child: Child, section: str = "") -> str:
    url = reverse("registry:child_detail", args=[child.public_id])
    return f"{url}#{section}" if section else url


# --- stale edits -----------------------------------------------------------------------------


def refuse_if_stale(
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


def edit(
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
            "back": file_url(child, section),
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
            warn(request, warnings or ())
            return redirect(file_url(child, section))
    return page(form)


def warn(request: HttpRequest, warnings: tuple[str, ...]) -> None:
    for warning in warnings:
        messages.warning(request, warning)


def values(obj: Model | None, names: Iterable[str]) -> dict[str, Any]:
    """The stored values of ``names``, to fill a form (none for a record not yet made)."""
    return {name: getattr(obj, name) for name in names} if obj is not None else {}
