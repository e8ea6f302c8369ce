"""Template tags of the interventions (监护干预): their section of the child's file."""

from __future__ import annotations

from typing import Any

from django import template

from tongxin.accounts.models import User
from tongxin.protection.interventions import file_section
from tongxin.registry.models import Child

register = template.Library()


@register.inclusion_tag("protection/intervention_file_section.html")
def child_interventions(child: Child, user: User) -> dict[str, Any]:
    """The counts only (what the user may know), in one query, with a link to the
    interventions (where every look is audited); nothing for a role that sees none."""
    return {"child": child, "section": file_section(user, child)}
