"""What the visits app adds to pages it does not own: its home panels (the worklist's lines
not done yet, the supervisor's escalations, villages without a director), its navigation
entries and the contacts' section of the child's file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.core.panels import (
    PANEL_LENGTH,
    PanelFill,
    PanelLine,
    register_child_section,
    register_home_panel,
    register_menu_entry,
)
from tongxin.geo.scope import in_scope
from tongxin.protection.selectors import child_open_problems
from tongxin.registry.models import Child
from tongxin.visits import reminders
from tongxin.visits.models import (
    CHECKLIST_FIELDS,
    Check,
    ChildRisk,
    Contact,
    ContactAddendum,
    WorkLogEntry,
)
from tongxin.visits.views import worklist

# How many contacts and work-log entries the file shows (the latest).
TIMELINE_LENGTH = 20


def _worklist_panel(key: str) -> Callable[[User], PanelFill]:
    """The worklist's panels: lines not done yet, or the supervisor's escalations."""

    def fill(user: User) -> PanelFill:
        items, total, url = worklist.home_panel(user, key, limit=PANEL_LENGTH)
        return PanelFill(items=items, total=total, url=url)

    return fill


def _villages_without_director(user: User) -> PanelFill:
    """Villages in the user's area with active children and no active child director (the
    daily ``remind`` alerts the county of the same villages)."""
    villages = [(v, n) for v, n in reminders.villages_without_director() if in_scope(user, v.code)]
    items = [
        PanelLine(
            reverse("geo:division_detail", args=[village.code]),
            _("%(village)s: %(children)d active children")
            % {"village": village.name, "children": children},
        )
        for village, children in villages[:PANEL_LENGTH]
    ]
    url = reverse("accounts:user_list") if user.manages_users else ""
    return PanelFill(items=items, total=len(villages), url=url)


register_home_panel(
    "contacts_due",
    roles=[Role.VILLAGE_DIRECTOR],
    order=20,
    title=_("Monthly contacts due"),
    empty=_("No contact is due."),
    fill=_worklist_panel("contacts_due"),
)
register_home_panel(
    "visits_due",
    roles=[Role.VILLAGE_DIRECTOR],
    order=21,
    title=_("Home visits due this quarter"),
    empty=_("No home visit is due."),
    fill=_worklist_panel("visits_due"),
)
register_home_panel(
    "family_contacts_due",
    roles=[Role.TOWN_SUPERVISOR],
    order=22,
    title=_("Yearly family contacts due"),
    empty=_("No family contact is due."),
    fill=_worklist_panel("family_contacts_due"),
)
register_home_panel(
    "escalations",
    roles=[Role.TOWN_SUPERVISOR],
    order=23,
    title=_("Overdue children in my villages"),
    empty=_("Nothing overdue."),
    fill=_worklist_panel("escalations"),
)
register_home_panel(
    "villages_without_director",
    roles=[Role.COUNTY_ADMIN, Role.AUDITOR],
    order=40,
    title=_("Villages without an active director"),
    empty=_("None."),
    fill=_villages_without_director,
)

_OWN_WORKLIST = (Role.VILLAGE_DIRECTOR, Role.TOWN_SUPERVISOR)

register_menu_entry(
    "worklist",
    order=20,
    url=lambda: reverse("visits:worklist"),
    label=lambda u: _("Worklist"),
    shows=lambda user: user.role in _OWN_WORKLIST,
)
register_menu_entry(
    "worklog",
    order=30,
    url=lambda: reverse("visits:worklog"),
    label=lambda u: _("Work log"),
    shows=lambda user: user.role in _OWN_WORKLIST,
)
register_menu_entry(
    "compliance",
    order=100,
    url=lambda: reverse("visits:compliance"),
    label=lambda u: _("Compliance"),
    shows=lambda user: user.role in (Role.COUNTY_ADMIN, Role.TOWN_SUPERVISOR, Role.AUDITOR),
)
register_menu_entry(
    "cadence_policy",
    order=170,
    url=lambda: reverse("visits:policy"),
    label=lambda u: _("Cadence policy"),
    shows=lambda user: user.role == Role.COUNTY_ADMIN,
)


def file_sections(child: Child, user: User) -> dict[str, Any]:
    """The file's contacts (with the work-log entries that concern the child, newest first),
    its open problems and its risk level, in five queries whatever their number. The caller
    has already fetched ``child`` through the user's scope."""
    contacts = list(
        Contact.objects.filter(credits__child=child)
        .select_related("author")
        .prefetch_related(
            Prefetch(
                "addenda",
                queryset=ContactAddendum.objects.select_related("author").order_by("created_at"),
            )
        )
        .order_by("-day", "-created_at")[:TIMELINE_LENGTH]
    )
    # The entries that concern the child are shown to whoever may read the file.
    entries = list(
        WorkLogEntry.objects.filter(children=child)
        .select_related("author")
        .order_by("-day", "-created_at")[:TIMELINE_LENGTH]
    )
    rows = [
        {
            "day": c.day,
            "contact": c,
            "concerns": sum(getattr(c, f) == Check.CONCERN for f in CHECKLIST_FIELDS),
        }
        for c in contacts
    ] + [{"day": e.day, "entry": e} for e in entries]
    rows.sort(key=lambda r: r["day"], reverse=True)
    problems = child_open_problems(child)
    risk = ChildRisk.objects.filter(pk=child.pk).select_related("override__set_by").first()
    return {
        "child": child,
        "timeline": rows[:TIMELINE_LENGTH],
        "truncated": len(contacts) == TIMELINE_LENGTH or len(entries) == TIMELINE_LENGTH,
        "problems": problems,
        "risk": risk,
        "can_record": user.keeps_child_files and not user.is_read_only,
    }


def _contacts_section(child: Child, user: User) -> tuple[str, dict[str, Any]]:
    return "visits/_file_contacts.html", file_sections(child, user)


register_child_section("contacts", order=10, render=_contacts_section)
