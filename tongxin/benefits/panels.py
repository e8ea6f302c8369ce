"""What benefits adds to pages it does not own: the menu entry of the enrolments and standards
(county officers and auditors), and the enrolments' section of the child's file."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.benefits import selectors, services
from tongxin.core.panels import register_child_section, register_menu_entry
from tongxin.geo.scope import in_scope
from tongxin.registry.models import Child

_COUNTY = (Role.COUNTY_ADMIN, Role.AUDITOR)

# One entry (the menu is one line on a wide screen): the list of enrolments, which links the
# standards.
register_menu_entry(
    "benefits",
    order=115,
    url=lambda: reverse("benefits:enrolment_list"),
    label=lambda u: _("Benefits"),
    shows=lambda user: user.role in _COUNTY,
)


def _benefits_section(child: Child, user: User) -> tuple[str, dict[str, Any]] | None:
    """The child's and its household's enrolments, in one query; the file's opening is
    already audited. Nothing for a role that reads no files."""
    if not user.reads_child_files:
        return None
    return "benefits/file_section.html", {
        "child": child,
        "enrolments": selectors.child_enrolments(child),
        "may_enrol": services.keeps_benefits(user) and in_scope(user, child.village_id),
    }


register_child_section("benefits", order=30, render=_benefits_section)
