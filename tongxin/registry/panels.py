"""What the registry adds to pages it does not own: its home panels (care agreements
expiring, possible duplicates) and its navigation entries (children, duplicates, transfers)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.core.panels import PANEL_LENGTH, PanelFill, register_home_panel, register_menu_entry
from tongxin.registry import agreements, duplicates


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


register_home_panel(
    "agreements_expiring",
    roles=[Role.VILLAGE_DIRECTOR],
    order=30,
    title=_("Care agreements expiring within 30 days"),
    empty=_("None expiring."),
    fill=_agreements_expiring,
)
register_home_panel(
    "duplicates",
    roles=[Role.COUNTY_ADMIN],
    order=31,
    title=_("Possible duplicate files to review"),
    empty=_("Nothing to review."),
    fill=_duplicates,
)

_REVIEWS_DUPLICATES = (Role.COUNTY_ADMIN, Role.TOWN_SUPERVISOR, Role.AUDITOR)

register_menu_entry(
    "children",
    order=80,
    url=lambda: reverse("registry:child_list"),
    label=lambda u: _("Children"),
    shows=lambda user: bool(user.reads_child_files),
)
register_menu_entry(
    "duplicates",
    order=90,
    url=lambda: reverse("registry:duplicate_list"),
    label=lambda u: _("Duplicates"),
    shows=lambda user: user.role in _REVIEWS_DUPLICATES,
)
register_menu_entry(
    "transfers",
    order=120,
    url=lambda: reverse("registry:transfer_request_list"),
    label=lambda u: _("Transfers"),
    shows=lambda user: bool(user.keeps_child_files),
)
