"""What the accounts app adds to the navigation: the home page ("My work"), the divisions
(whose readers are known by role) and the user management."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.core.panels import register_menu_entry


def _reads_divisions(user: User) -> bool:
    return bool(
        user.reads_child_files or user.manages_users or user.role == Role.DEPARTMENT_OFFICER
    )


register_menu_entry(
    "home",
    order=10,
    url=lambda: reverse("home"),
    label=lambda u: _("My work"),
    shows=lambda u: True,
)
register_menu_entry(
    "divisions",
    order=140,
    url=lambda: reverse("geo:division_list"),
    label=lambda u: _("Divisions"),
    shows=_reads_divisions,
)
register_menu_entry(
    "users",
    order=150,
    url=lambda: reverse("accounts:user_list"),
    label=lambda u: _("Users"),
    shows=lambda user: bool(user.manages_users),
)
