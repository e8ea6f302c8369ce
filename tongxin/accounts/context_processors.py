"""The navigation a role sees: one list, built from the role table."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tongxin.accounts.roles import Role


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    nav: list[tuple[str, Any]] = [(reverse("home"), _("My work"))]
    if user.reads_child_files:
        nav.append((reverse("registry:child_list"), _("Children")))
    if user.role in (Role.COUNTY_ADMIN, Role.TOWN_SUPERVISOR, Role.AUDITOR):
        nav.append((reverse("registry:duplicate_list"), _("Duplicates")))
    if user.keeps_child_files:
        nav.append((reverse("registry:transfer_request_list"), _("Transfers")))
    if user.reads_child_files or user.manages_users or user.role == Role.DEPARTMENT_OFFICER:
        nav.append((reverse("geo:division_list"), _("Divisions")))
    if user.manages_users:
        nav.append((reverse("accounts:user_list"), _("Users")))
    if user.reads_audit:
        nav.append((reverse("audit:event_list"), _("Audit log")))
    return {"nav": [{"url": url, "label": label} for url, label in nav]}
