"""The family on the child's file: its facts, its transfer to another village, the parents and
their spells of work away."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tongxin.accounts.models import User
from tongxin.core.http import signed_in_user as _actor
from tongxin.core.http import staff_view
from tongxin.core.versions import record_version
from tongxin.geo.scope import get_for_user_or_404
from tongxin.registry import services
from tongxin.registry.forms import (
    HOUSEHOLD_FORM_FIELDS,
    HouseholdForm,
    MigrationForm,
    ParentForm,
    TransferForm,
)
from tongxin.registry.models import Child, Household, Migration, Parent, ParentRole
from tongxin.registry.selectors import get_child_for_user, household_changes, masked_id
from tongxin.registry.views.file.common import edit, keeps_files, refuse_if_stale, values


def _role_or_404(role: str) -> ParentRole:
    if role not in ParentRole.values:
        raise Http404
    return ParentRole(role)


@staff_view(allow=keeps_files, write=True)
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

    return edit(
        request,
        child,
        HouseholdForm,
        save,
        initial=lambda: {
            **values(household, HOUSEHOLD_FORM_FIELDS),
            "version": household.version,
        },
        title=_("Family"),
        section="family",
        intro=intro,
    )


@staff_view(allow=keeps_files, write=True)
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
        refuse_if_stale(
            Household, household, version, lambda: household_changes(household, version)
        )
        services.household_transfer(
            actor=user,
            household=household,
            village=data["village"],
            reason=data["reason"],
            request=request,
        )

    return edit(
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


@staff_view(allow=keeps_files, write=True)
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

    return edit(
        request,
        child,
        ParentForm,
        save,
        initial=lambda: {
            "token": record_version(Parent, parent.pk if parent else None),
            **values(parent, ParentForm.model_fields),
        },
        title=str(parent_role.label),
        section="family",
        intro=intro,
        version_field="token",
    )


@staff_view(allow=keeps_files, write=True)
@require_http_methods(["GET", "POST"])
def migration_create(request: HttpRequest, public_id: Any, role: str) -> HttpResponse:
    user = _actor(request)
    child = get_child_for_user(user, public_id)
    parent_role = _role_or_404(role)
    parent = Parent.objects.filter(household=child.household, role=parent_role).first()
    if parent is None:
        raise Http404
    return _migration_edit(request, user, child, parent, None)


@staff_view(allow=keeps_files, write=True)
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

    return edit(
        request,
        child,
        partial(MigrationForm, born_on=parent.birth_date),
        save,
        initial=lambda: {
            "token": record_version(Migration, migration.pk if migration else None),
            **values(migration, MigrationForm.model_fields),
        },
        title=_("Work away: %(parent)s") % {"parent": ParentRole(parent.role).label},
        section="family",
        version_field="token",
    )
