"""The home page: each role's "my work"."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.accounts.views import login_view
from tongxin.core.http import staff_view
from tongxin.geo.scope import in_scope
from tongxin.protection import referrals as protection_referrals
from tongxin.protection import selectors as protection_selectors
from tongxin.protection.models import Concern
from tongxin.registry import agreements, duplicates
from tongxin.visits import reminders
from tongxin.visits.views import worklist as visits_worklist

# A panel lists at most this many items; its count says how many there are in all.
PANEL_LENGTH = 10


@dataclass
class WorkList:
    """One panel of the home page. ``items`` is filled by the apps that own the work: the first
    ``PANEL_LENGTH``; ``total`` is how many there are in all, ``url`` the page listing them."""

    key: str
    title: Promise
    empty: Promise
    items: list[object] = field(default_factory=list)
    total: int = 0
    url: str = ""

    @property
    def more(self) -> bool:
        """Whether the panel shows fewer items than there are."""
        return self.total > len(self.items)


@dataclass(frozen=True)
class PanelFill:
    """What a panel's filler answers: the items shown (at most ``PANEL_LENGTH``), how many
    there are in all, and the page that lists them all. A filler may also answer a plain list
    (then all of them are shown and counted)."""

    items: Iterable[object]
    total: int
    url: str = ""


# The panels each role's home page shows, in order. Each has its filler in PANEL_ITEMS: a panel
# is listed only once the work it shows exists (no empty placeholder that always says "none").
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
        ("problems_overdue", _("Overdue problems in my area"), _("No overdue problem.")),
        ("problems_mine", _("Problems I own"), _("No problem is yours.")),
    ],
    Role.COUNTY_ADMIN: [
        ("urgent_reports", _("Urgent mandatory reports"), _("No urgent report.")),
        ("duplicates", _("Possible duplicate files to review"), _("Nothing to review.")),
        ("villages_without_director", _("Villages without an active director"), _("None.")),
        ("problems_overdue", _("Overdue problems in my area"), _("No overdue problem.")),
        ("problems_mine", _("Problems I own"), _("No problem is yours.")),
    ],
    Role.DEPARTMENT_OFFICER: [
        ("urgent_reports", _("Urgent mandatory reports"), _("No urgent report.")),
        ("referrals_incoming", _("Referrals waiting for my department"), _("No referral waiting.")),
        ("problems_mine", _("Problems my department owns"), _("No problem is yours.")),
    ],
    Role.REPORTER: [
        ("my_reports", _("Reports I submitted"), _("You have submitted no report.")),
    ],
    Role.AUDITOR: [
        ("villages_without_director", _("Villages without an active director"), _("None.")),
        ("problems_overdue", _("Overdue problems in my area"), _("No overdue problem.")),
    ],
}


def _agreements_expiring(user: User) -> PanelFill:
    return PanelFill(
        items=agreements.expiring_panel_items(user, limit=PANEL_LENGTH),
        total=agreements.expiring_count(user),
        url=reverse("registry:agreement_expiring_list"),
    )


def _duplicates(user: User) -> PanelFill:
    return PanelFill(
        items=duplicates.home_panel_items(user, limit=PANEL_LENGTH),
        total=duplicates.open_candidate_count(user),
        url=reverse("registry:duplicate_list"),
    )


def _urgent_reports(user: User) -> PanelFill:
    return PanelFill(
        items=protection_selectors.urgent_panel_items(user, limit=PANEL_LENGTH),
        total=protection_selectors.urgent_count(user),
        url=reverse("reports:report_list") + "?status=awaiting",
    )


def _my_reports(user: User) -> PanelFill:
    return PanelFill(
        items=protection_selectors.my_reports_panel_items(user, limit=PANEL_LENGTH),
        total=protection_selectors.my_reports_count(user),
        url=reverse("reports:report_list") + "?status=all",
    )


def _problems_open(user: User) -> PanelFill:
    """Open problems found on files in scope, the overdue and nearest due first (the overdue
    marked so)."""
    open_problems = (
        Concern.objects.visible_to(user)
        .open()
        .select_related("child")
        .order_by(F("due_on").asc(nulls_last=True), "pk")
    )
    today = timezone.localdate()
    items: list[object] = []
    for concern in open_problems[:PANEL_LENGTH]:
        text = f"{concern.child.name} — {concern.get_category_display()}"
        if concern.due_on:
            text += " · " + _("due by %(due)s") % {
                "due": date_format(concern.due_on, "DATE_FORMAT")
            }
        if concern.is_overdue(today):
            text += " · " + str(_("overdue"))
        url = reverse("registry:child_detail", args=[concern.child.public_id]) + "#problems"
        items.append(visits_worklist.PanelLine(url, text))
    return PanelFill(items=items, total=open_problems.count(), url="")


def _villages_without_director(user: User) -> PanelFill:
    """Villages in the user's area with active children and no active child director (the
    daily ``remind`` alerts the county of the same villages)."""
    villages = [(v, n) for v, n in reminders.villages_without_director() if in_scope(user, v.code)]
    items = [
        visits_worklist.PanelLine(
            reverse("geo:division_detail", args=[village.code]),
            _("%(village)s: %(children)d active children")
            % {"village": village.name, "children": children},
        )
        for village, children in villages[:PANEL_LENGTH]
    ]
    url = reverse("accounts:user_list") if user.manages_users else ""
    return PanelFill(items=items, total=len(villages), url=url)


def _problems_mine(user: User) -> PanelFill:
    items, total = protection_referrals.my_problems_panel(user, limit=PANEL_LENGTH)
    return PanelFill(items=items, total=total, url=reverse("reports:problem_mine"))


def _problems_overdue(user: User) -> PanelFill:
    items, total = protection_referrals.overdue_problems_panel(user, limit=PANEL_LENGTH)
    return PanelFill(items=items, total=total, url="")


def _referrals_incoming(user: User) -> PanelFill:
    items, total = protection_referrals.incoming_panel(user, limit=PANEL_LENGTH)
    return PanelFill(items=items, total=total, url=reverse("reports:referral_list"))


def _worklist_panel(key: str) -> Callable[[User], PanelFill]:
    """The worklist's panels: lines not done yet, or the supervisor's escalations."""

    def fill(user: User) -> PanelFill:
        items, total, url = visits_worklist.home_panel(user, key, limit=PANEL_LENGTH)
        return PanelFill(items=items, total=total, url=url)

    return fill


# The apps that own the work fill the panels: panel key → the items for a user.
PANEL_ITEMS: dict[str, Callable[[User], Iterable[object] | PanelFill]] = {
    "agreements_expiring": _agreements_expiring,
    "duplicates": _duplicates,
    "urgent_reports": _urgent_reports,
    "my_reports": _my_reports,
    "problems_open": _problems_open,
    "problems_mine": _problems_mine,
    "problems_overdue": _problems_overdue,
    "villages_without_director": _villages_without_director,
    "referrals_incoming": _referrals_incoming,
    **{key: _worklist_panel(key) for key in visits_worklist.PANEL_KEYS},
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
            found = fill(user)
            if isinstance(found, PanelFill):
                panel.items, panel.total, panel.url = list(found.items), found.total, found.url
            else:
                panel.items = list(found)
                panel.total = len(panel.items)
    # Deadlines counted over a year whose holidays are missing: said before any panel.
    warning = protection_selectors.calendar_warning(user)
    return render(request, "home.html", {"panels": panels, "calendar_warning": warning})
