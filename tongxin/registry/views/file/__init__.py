"""The child's file (一人一档): the page that shows it in one place (``page``), the forms that
change it (the child's own facts and a new file: ``child``; the family, its parents and their
spells: ``family``), and the care agreement (``agreements``); the edit form they all go through
is in ``common``.

Reads need a role that reads files and the child inside the user's scope (404 alike for "not
there" and "not yours"); writes need a role that keeps files (read-only roles: 403). Every edit
names the version it was based on and is refused, with what changed meanwhile, when someone
else saved first."""

from django.urls import URLPattern, path

from tongxin.registry.views.file.agreements import (
    agreement_create,
    agreement_document,
    agreement_incapable,
    agreement_terminate,
)
from tongxin.registry.views.file.child import (
    child_create,
    child_edit,
    child_status,
    manual_decision,
)
from tongxin.registry.views.file.family import (
    household_edit,
    household_transfer,
    migration_create,
    migration_edit,
    parent_edit,
)
from tongxin.registry.views.file.page import child_copy, child_detail, child_reveal_id

urlpatterns: list[URLPattern] = [
    path("new/", child_create, name="child_create"),
    path("<uuid:public_id>/", child_detail, name="child_detail"),
    path("<uuid:public_id>/reveal-id/", child_reveal_id, name="child_reveal_id"),
    path("<uuid:public_id>/copy/", child_copy, name="child_copy"),
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
