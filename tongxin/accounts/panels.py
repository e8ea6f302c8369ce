"""What the accounts app adds to the navigation: the home page ("My work"), the divisions
(whose readers are known by role), the user management and the requests for roles that need a
second person; and, on the home page of those who make or decide such requests, the ones that
await a decision."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tongxin.accounts.models import GrantState, RoleGrant, User
from tongxin.accounts.roles import ACCOUNT_READER_ROLES, Role
from tongxin.core.panels import (
    PANEL_LENGTH,
    PanelFill,
    PanelLine,
    register_home_panel,
    register_menu_entry,
)


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
    shows=lambda user: bool(user.reads_accounts),
)
register_menu_entry(
    "role_grants",
    order=155,
    url=lambda: reverse("accounts:grant_list"),
    label=lambda u: _("Role requests"),
    # The security administrator's main page; the user administrators reach it from the list
    # of users and from their home page's panel.
    shows=lambda user: bool(user.keeps_security),
)


def _pending_grants(user: User) -> PanelFill:
    pending = RoleGrant.objects.visible_to(user).filter(state=GrantState.PENDING)
    shown = pending.select_related("user", "division")[:PANEL_LENGTH]
    url = reverse("accounts:grant_list")
    lines = [
        PanelLine(
            url,
            _("%(person)s: %(role)s, %(division)s")
            % {
                "person": grant.user.name or grant.user.username,
                "role": grant.get_role_display(),
                "division": grant.division.name,
            },
        )
        for grant in shown
    ]
    return PanelFill(items=lines, total=pending.count(), url=url)


register_home_panel(
    "role_grants",
    roles=ACCOUNT_READER_ROLES,
    order=200,
    title=_("Role requests awaiting a second person"),
    empty=_("No role request awaits a decision."),
    fill=_pending_grants,
)
