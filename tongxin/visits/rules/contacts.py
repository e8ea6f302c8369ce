"""What a contact must record to count for the plan's obligations (issue 10). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from tongxin.visits.rules.vocabulary import ContactKind


class ContactGap(StrEnum):
    """Something a contact leaves out that makes it not count (issue 10)."""

    NOBODY_REACHED = "nobody_reached"  # neither the child, the caregiver nor a parent
    CHILD_NOT_SEEN = "child_not_seen"  # a home visit that neither saw the child nor says why
    LIVING_NOT_SEEN = "living_not_seen"  # a home visit that did not look at the living conditions
    SAFETY_NOT_SEEN = "safety_not_seen"  # … nor at the safety items


# The checklist values (visits.models.Check), as strings: this module stays Django-free.
CHECK_NOT_SEEN = "not_seen"
# The checklist items a home visit must look at, each with the gap its absence is.
HOME_VISIT_CHECKS = {
    "check_living": ContactGap.LIVING_NOT_SEEN,
    "check_safety": ContactGap.SAFETY_NOT_SEEN,
}


def contact_gaps(
    *,
    kind: str,
    met_child: bool,
    met_caregiver: bool,
    met_parent: bool,
    child_not_seen_reason: str,
    checks: Mapping[str, str],
) -> dict[str, ContactGap]:
    """What a contact lacks to count for the plan's obligations, by the field that must change.

    Any contact names whom it reached: the child, the caregiver or a parent (a call nobody
    answered is not a contact). A home visit (入户走访) also records that the child was seen, or
    why not, and what the visitor looked at in the home: the living conditions and the safety
    items (water, fire, electricity, traffic) are good or a concern, never "not seen". An empty
    answer means the contact may be recorded."""
    gaps: dict[str, ContactGap] = {}
    if not (met_child or met_caregiver or met_parent):
        gaps["met_child"] = ContactGap.NOBODY_REACHED
    if kind == ContactKind.HOME_VISIT:
        if not met_child and not child_not_seen_reason.strip():
            gaps["child_not_seen_reason"] = ContactGap.CHILD_NOT_SEEN
        for item, gap in HOME_VISIT_CHECKS.items():
            if checks.get(item, CHECK_NOT_SEEN) == CHECK_NOT_SEEN:
                gaps[item] = gap
    return gaps
