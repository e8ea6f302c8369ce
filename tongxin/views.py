"""The home page: each role's "my work"."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tongxin.accounts.decorators import staff_view
from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.accounts.views import login_view
from tongxin.registry import agreements, duplicates


@dataclass
class WorkList:
    """One panel of the home page. ``items`` is filled by the apps that own the work."""

    key: str
    title: Promise
    empty: Promise
    items: list[object] = field(default_factory=list)


# The panels each role's home page shows, in order. Later issues fill them.
HOME_PANELS: dict[str, list[tuple[str, Promise, Promise]]] = {
    Role.VILLAGE_DIRECTOR: [
        ("contacts_due", _("Monthly contacts due"), _("No contact is due.")),
        ("visits_due", _("Home visits due this quarter"), _("No home visit is due.")),
        ("agreements_expiring", _("Care agreements expiring within 30 days"), _("None expiring.")),
        ("problems_open", _("Open problems"), _("No open problem.")),
    ],
    Role.TOWN_SUPERVISOR: [
        ("family_contacts_due", _("Yearly family contacts due"), _("No family contact is due.")),
        ("escalations", _("Overdue children in my villages"), _("Nothing overdue.")),
    ],
    Role.COUNTY_ADMIN: [
        ("urgent_reports", _("Urgent mandatory reports"), _("No urgent report.")),
        ("duplicates", _("Possible duplicate files to review"), _("Nothing to review.")),
        ("villages_without_director", _("Villages without an active director"), _("None.")),
    ],
    Role.DEPARTMENT_OFFICER: [
        ("referrals_incoming", _("Referrals waiting for my department"), _("No referral waiting.")),
        ("plan_tasks", _("My department's plan tasks"), _("No task due.")),
    ],
    Role.REPORTER: [
        ("my_reports", _("Reports I submitted"), _("You have submitted no report.")),
    ],
    Role.AUDITOR: [
        ("spot_checks", _("Spot checks this year"), _("No spot check yet.")),
    ],
    Role.SYSTEM_ADMIN: [
        ("accounts_locked", _("Locked accounts"), _("No account is locked.")),
    ],
}


# The apps that own the work fill the panels: panel key → the items for a user.
PANEL_ITEMS: dict[str, Callable[[User], Iterable[object]]] = {
    "agreements_expiring": agreements.expiring_panel_items,
    "duplicates": duplicates.home_panel_items,
}


def home(request: HttpRequest) -> HttpResponse:
    """Signed in: my work. Not signed in: the sign-in page itself, at the address people type."""
    if not request.user.is_authenticated:
        return login_view(request)
    return _my_work(request)


@staff_view()
def _my_work(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    panels = [WorkList(key, title, empty) for key, title, empty in HOME_PANELS.get(user.role, [])]
    for panel in panels:
        if fill := PANEL_ITEMS.get(panel.key):
            panel.items = list(fill(user))
    return render(request, "home.html", {"panels": panels})
