"""Template tags of the visits app: the sections of the child's file it owns."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Prefetch

from tongxin.accounts.models import User
from tongxin.protection.selectors import child_open_problems
from tongxin.registry.models import Child
from tongxin.visits.models import (
    CHECKLIST_FIELDS,
    Check,
    ChildRisk,
    Contact,
    ContactAddendum,
    WorkLogEntry,
)

register = template.Library()

# How many contacts and work-log entries the file shows (the latest).
TIMELINE_LENGTH = 20


@register.inclusion_tag("visits/_file_contacts.html")
def child_contacts(child: Child, user: User) -> dict[str, Any]:
    """The file's contacts (with the work-log entries that concern the child, newest first),
    its open problems and its risk level, in five queries whatever their number. The caller
    has already fetched ``child`` through the user's scope."""
    return file_sections(child, user)


def file_sections(child: Child, user: User) -> dict[str, Any]:
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
