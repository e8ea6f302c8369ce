"""The worklist (待办, issue 4): each worker's lines, computed in the database.

``worklist_lines(user, as_of)`` gives the same lines as the pure reference
(``rules.worklist_lines`` for a child, ``rules.family_line`` for a household; the property tests
in ``tests/test_worklist_property.py`` hold the two equal on SQLite and PostgreSQL) in one SQL
query whatever the number of children, plus one for the cadence versions (and one for the
user's scope prefix, once per user object, and one for the division when ``village`` is given).
The lines themselves come from ``worklist_sql`` (``child_lines``, ``family_lines``: every line
of a division); this module decides whose lines a user sees, filters and orders them, and
picks the escalations.

Whose lines (``worklist_scope``)
    A village director (儿童主任): a line per child in scope and per child obligation
    (``monthly_contact``, ``quarterly_home_visit``). A town supervisor (儿童督导员): a line per
    household in scope (``yearly_family_contact``); ``village`` narrows it to one village. A
    county officer or an auditor sees a worklist read-only, once ``village`` names a division
    inside their scope: a village (or community) shows its director's lines, a town its
    supervisor's lines. Any other role, or a ``village`` outside the scope, has no lines.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from typing import Literal, NamedTuple

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.geo.models import PREFIX_LENGTH, Division, Level
from tongxin.geo.scope import scope_prefix
from tongxin.visits import rules
from tongxin.visits.models import CadencePolicyVersion
from tongxin.visits.worklist_sql import WorkLine, child_lines, family_lines

Obligation, Status = rules.Obligation, rules.Status

# Roles with a worklist of their own, and the county roles that look at one read-only.
OWN_WORKLIST_ROLES = frozenset({Role.VILLAGE_DIRECTOR, Role.TOWN_SUPERVISOR})
WORKLIST_ROLES = frozenset({*OWN_WORKLIST_ROLES, Role.COUNTY_ADMIN, Role.AUDITOR})
VILLAGE_LEVELS = frozenset({Level.VILLAGE, Level.COMMUNITY})
DEFAULT_ESCALATE_AFTER_DAYS = 15

_OBLIGATION_ORDER = {o: i for i, o in enumerate(Obligation)}


def sort_key(line: WorkLine) -> tuple[int, date, str, str, str, int]:
    """Most urgent first (``rules.urgency``), then by village, name and line, so that pages
    are stable."""
    rank, due = rules.urgency(line.as_rule_line())
    return (
        rank,
        due,
        line.village,
        line.name,
        str(line.child or line.household),
        _OBLIGATION_ORDER[line.obligation],
    )


# --- scope ------------------------------------------------------------------------------------


class Scope(NamedTuple):
    """Whose lines: ``child`` lines (a village director's) or ``family`` lines (a town
    supervisor's), for the divisions whose code starts with ``prefix``."""

    kind: Literal["child", "family"]
    prefix: str


def worklist_scope(user: User, village: str | None = None) -> Scope | None:
    """The lines ``user`` sees (module doc); None: none at all."""
    if not user.is_authenticated or user.role not in WORKLIST_ROLES:
        return None
    prefix = scope_prefix(user)
    if prefix is None:
        return None
    level: str | None = None
    if village:
        level = Division.objects.filter(code=village).values_list("level", flat=True).first()
        if level is None or not village.startswith(prefix):
            return None
    if user.role == Role.VILLAGE_DIRECTOR:
        if village:
            return Scope("child", village) if level in VILLAGE_LEVELS else None
        return Scope("child", prefix)
    if user.role == Role.TOWN_SUPERVISOR:
        if village:
            return Scope("family", village) if level in VILLAGE_LEVELS else None
        return Scope("family", prefix)
    # County officer, auditor: a division chosen inside the scope, read-only.
    if level in VILLAGE_LEVELS:
        assert village is not None
        return Scope("child", village)
    if level == Level.TOWN:
        assert village is not None
        return Scope("family", village[: PREFIX_LENGTH[Level.TOWN]])
    return None


def worklist_lines(
    user: User,
    as_of: date,
    *,
    village: str | None = None,
    status: str | None = None,
) -> list[WorkLine]:
    """The user's worklist on ``as_of``, most urgent first; ``village`` (a division code
    inside the scope) and ``status`` (a ``rules.Status`` code) filter it."""
    scope = worklist_scope(user, village)
    if scope is None:
        return []
    if scope.kind == "child":
        lines = child_lines(scope.prefix, as_of)
    else:
        lines = family_lines(scope.prefix, as_of)
    if status:
        wanted = Status(status)
        lines = [line for line in lines if line.status is wanted]
    return sorted(lines, key=sort_key)


def status_counts(lines: Iterable[WorkLine]) -> dict[rules.Status, int]:
    counts = dict.fromkeys(Status, 0)
    for line in lines:
        counts[line.status] += 1
    return counts


def escalate_after_days(as_of: date) -> int:
    """The cadence version in force on ``as_of``: days overdue before a child is escalated to
    the town supervisor (15 by default)."""
    days = (
        CadencePolicyVersion.objects.filter(effective_from__lte=as_of)
        .order_by("-effective_from")
        .values_list("escalate_after_days", flat=True)
        .first()
    )
    return DEFAULT_ESCALATE_AFTER_DAYS if days is None else days


def escalations(user: User, as_of: date) -> list[WorkLine]:
    """For a town supervisor: the children of the town's villages whose director's line is
    overdue by more than ``escalate_after_days`` (each child once, its most urgent line)."""
    if user.role != Role.TOWN_SUPERVISOR:
        return []
    prefix = scope_prefix(user)
    if prefix is None:
        return []
    limit = escalate_after_days(as_of)
    seen: set[uuid.UUID | None] = set()
    found = []
    for line in sorted(child_lines(prefix, as_of), key=sort_key):
        if line.days_overdue(as_of) > limit and line.child not in seen:
            seen.add(line.child)
            found.append(line)
    return found
