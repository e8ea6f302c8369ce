"""What child protection adds to pages it does not own: its home panels (urgent reports, the
reporter's reports, problems, referrals), its navigation entries and the interventions'
section of the child's file."""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from tongxin.accounts.models import User
from tongxin.accounts.roles import CASEWORK_ROLES, Role
from tongxin.core.panels import (
    PANEL_LENGTH,
    PanelFill,
    PanelLine,
    register_child_section,
    register_home_panel,
    register_menu_entry,
)
from tongxin.protection import problems, referral_reads, selectors
from tongxin.protection.interventions import file_section
from tongxin.protection.models import Concern
from tongxin.registry.models import Child


def _urgent_reports(user: User) -> PanelFill:
    return PanelFill(
        items=selectors.urgent_panel_items(user, limit=PANEL_LENGTH),
        total=selectors.urgent_count(user),
        url=reverse("reports:report_list") + "?status=awaiting",
    )


def _my_reports(user: User) -> PanelFill:
    return PanelFill(
        items=selectors.my_reports_panel_items(user, limit=PANEL_LENGTH),
        total=selectors.my_reports_count(user),
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
        items.append(PanelLine(url, text))
    return PanelFill(items=items, total=open_problems.count(), url="")


def _problems_mine(user: User) -> PanelFill:
    items, total = problems.my_problems_panel(user, limit=PANEL_LENGTH)
    return PanelFill(items=items, total=total, url=reverse("reports:problem_mine"))


def _problems_overdue(user: User) -> PanelFill:
    items, total = problems.overdue_problems_panel(user, limit=PANEL_LENGTH)
    return PanelFill(items=items, total=total, url="")


def _referrals_incoming(user: User) -> PanelFill:
    items, total = referral_reads.incoming_panel(user, limit=PANEL_LENGTH)
    return PanelFill(items=items, total=total, url=reverse("reports:referral_list"))


register_home_panel(
    "urgent_reports",
    roles=[Role.COUNTY_ADMIN, Role.DEPARTMENT_OFFICER],
    order=10,
    title=_("Urgent mandatory reports"),
    empty=_("No urgent report."),
    fill=_urgent_reports,
)
register_home_panel(
    "referrals_incoming",
    roles=[Role.DEPARTMENT_OFFICER],
    order=15,
    title=_("Referrals waiting for my department"),
    empty=_("No referral waiting."),
    fill=_referrals_incoming,
)
register_home_panel(
    "problems_open",
    roles=[Role.VILLAGE_DIRECTOR],
    order=50,
    title=_("Open problems"),
    empty=_("No open problem."),
    fill=_problems_open,
)
register_home_panel(
    "problems_overdue",
    roles=[Role.TOWN_SUPERVISOR, Role.COUNTY_ADMIN, Role.AUDITOR],
    order=51,
    title=_("Overdue problems in my area"),
    empty=_("No overdue problem."),
    fill=_problems_overdue,
)
register_home_panel(
    "problems_mine",
    roles=[Role.TOWN_SUPERVISOR, Role.COUNTY_ADMIN],
    order=52,
    title=_("Problems I own"),
    empty=_("No problem is yours."),
    fill=_problems_mine,
)
register_home_panel(
    "problems_mine",
    roles=[Role.DEPARTMENT_OFFICER],
    order=52,
    title=_("Problems my department owns"),
    empty=_("No problem is yours."),
    fill=_problems_mine,
)
register_home_panel(
    "my_reports",
    roles=[Role.REPORTER],
    order=60,
    title=_("Reports I submitted"),
    empty=_("You have submitted no report."),
    fill=_my_reports,
)

register_menu_entry(
    "report_create",
    order=40,
    url=lambda: reverse("reports:report_create"),
    label=lambda u: _("File a report"),
    shows=lambda user: user.role == Role.REPORTER,
)
register_menu_entry(
    "report_list",
    order=50,
    url=lambda: reverse("reports:report_list"),
    label=lambda u: _("Mandatory reports"),
    shows=lambda user: user.role in CASEWORK_ROLES,
)
register_menu_entry(
    "referrals",
    order=60,
    url=lambda: reverse("reports:referral_list"),
    label=lambda u: _("Referrals"),
    shows=lambda user: user.role in (Role.COUNTY_ADMIN, Role.DEPARTMENT_OFFICER),
)
register_menu_entry(
    "problems_mine",
    order=70,
    url=lambda: reverse("reports:problem_mine"),
    label=lambda u: _("My problems"),
    shows=lambda user: user.role == Role.DEPARTMENT_OFFICER,
)
register_menu_entry(
    "report_stats",
    order=110,
    url=lambda: reverse("reports:report_stats"),
    label=lambda u: _("Report statistics"),
    shows=lambda user: user.role in (Role.COUNTY_ADMIN, Role.AUDITOR),
)


def _interventions_section(child: Child, user: User) -> tuple[str, dict[str, Any]]:
    """The interventions' counts only (what the user may know), in one query, with a link to
    the interventions (where every look is audited); nothing for a role that sees none."""
    return "protection/intervention_file_section.html", {
        "child": child,
        "section": file_section(user, child),
    }


register_child_section("interventions", order=20, render=_interventions_section)
