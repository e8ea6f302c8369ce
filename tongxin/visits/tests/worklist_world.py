"""Small worlds for the worklist tests, written straight to the tables (fast enough for property
tests), and the reference answer: the pure rules (``rules.worklist_lines``,
``rules.family_line``) over the same rows read back in Python."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from itertools import count
from typing import Any

from tongxin.accounts.models import User
from tongxin.registry.models import CategorySpan, Child, ChildStatus, Household
from tongxin.visits import rules
from tongxin.visits.models import (
    CadencePolicyVersion,
    ChildRisk,
    Contact,
    ContactCredit,
    RiskOverride,
    RiskSpan,
    policy_versions,
)
from tongxin.visits.worklist_sql import WorkLine

VILLAGE = "620724100201"  # 东村 (the stock village director's)
OTHER_VILLAGE = "620724100202"  # 西村, same town
TOWN = "620724100"  # 城关镇: the prefix of its villages
D = date.fromisoformat
_names = count(1)


def household(village: str = VILLAGE) -> Household:
    return Household.objects.create(village_id=village, address="一组")


def child(
    home: Household | None = None,
    *,
    registered_on: date = date(2024, 1, 1),
    status: str = ChildStatus.ACTIVE,
    status_since: date | None = None,
    spans: Sequence[tuple[date, date | None]] | None = None,
    risk: str | None = None,
    name: str | None = None,
) -> Child:
    """A child of ``home`` (a new household when None), in a category from its registration
    unless ``spans`` says otherwise; ``risk``: its level since registration, stored and in the
    history (None: nothing recorded)."""
    home = home or household()
    kid = Child.objects.create(
        household=home,
        village_id=home.village_id,
        name=name or f"王{next(_names)}明",
        gender="male",
        birth_date=date(2014, 5, 1),
        registered_on=registered_on,
        status=status,
        status_since=status_since or registered_on,
    )
    for start, end in ((registered_on, None),) if spans is None else spans:
        CategorySpan.objects.create(child=kid, code="left_behind", start=start, end=end)
    if risk is not None:
        ChildRisk.objects.create(child=kid, level=risk, computed_level=risk)
        RiskSpan.objects.create(child=kid, valid_from=registered_on, level=risk)
    return kid


def risk_history(
    kid: Child,
    computed: Iterable[tuple[date, str]] = (),
    overrides: Iterable[tuple[str, date, date, date | None]] = (),
) -> None:
    """Levels computed on days (in the order given, each as a refresh as of that day records
    it: ``rules.record_level``) and overrides ``(level, starts_on, ends_on, cleared_on)`` in
    the order they were set, written straight to the history tables."""
    spans = tuple(s.as_rule() for s in RiskSpan.objects.filter(child=kid))
    for day, level in computed:
        spans = rules.record_level(spans, day, level)
    RiskSpan.objects.filter(child=kid).delete()
    RiskSpan.objects.bulk_create(
        RiskSpan(child=kid, valid_from=s.start, valid_to=s.end, level=s.level) for s in spans
    )
    for level, starts_on, ends_on, cleared_on in overrides:
        RiskOverride.objects.create(
            child=kid,
            level=level,
            starts_on=starts_on,
            ends_on=max(ends_on, starts_on),
            cleared_on=None if cleared_on is None else max(cleared_on, starts_on),
            reason="测试",
        )


def history_of(kid: Child) -> rules.RiskHistory:
    """The child's risk history read back from the tables (overrides in the order set)."""
    return rules.RiskHistory(
        computed=tuple(s.as_rule() for s in RiskSpan.objects.filter(child=kid)),
        overrides=tuple(o.as_rule() for o in RiskOverride.objects.filter(child=kid).order_by("id")),
    )


def contact(
    author: User,
    children: Iterable[Child],
    day: date,
    *,
    role: str = rules.VILLAGE_DIRECTOR,
    kind: str = rules.ContactKind.PHONE,
) -> Contact:
    """A contact credited to ``children`` (one household), as ``contact_record`` writes it,
    with ``role`` as the author's role at the time."""
    children = list(children)
    made = Contact.objects.create(
        household_id=children[0].household_id,
        village_id=children[0].village_id,
        author=author,
        author_role=role,
        kind=kind,
        day=day,
        # What a contact must record to count (rules.contact_gaps).
        met_child=True,
        check_living="good",
        check_safety="good",
    )
    ContactCredit.objects.bulk_create(
        ContactCredit(
            contact=made,
            child=c,
            household_id=c.household_id,
            day=day,
            author_role=role,
            home_visit=kind == rules.ContactKind.HOME_VISIT,
        )
        for c in children
    )
    return made


def policy(effective_from: date, **fields: Any) -> CadencePolicyVersion:
    return CadencePolicyVersion.objects.create(
        effective_from=effective_from, reason="测试", **fields
    )


# --- the reference -----------------------------------------------------------------------------

type Key = tuple[uuid.UUID, str, date | None, date, str, int | None]


def key(line: WorkLine) -> Key:
    return (
        line.child or line.household,
        str(line.obligation),
        line.last_contact,
        line.due,
        str(line.status),
        line.interval_days,
    )


def _window(kid: Child) -> rules.ChildWindow:
    return rules.ChildWindow(
        registered_on=kid.registered_on,
        active_until=None if kid.status == ChildStatus.ACTIVE else kid.status_since,
        categorised=tuple((s.start, s.end) for s in kid.category_spans.all()),
    )


def _facts(credits: Iterable[ContactCredit]) -> list[rules.ContactFact]:
    return [
        rules.ContactFact(
            cr.day,
            rules.ContactKind.HOME_VISIT if cr.home_visit else rules.ContactKind.PHONE,
            cr.author_role,
        )
        for cr in credits
    ]


def _children(prefix: str) -> list[Child]:
    return list(
        Child.objects.filter(village__code__startswith=prefix).prefetch_related(
            "category_spans", "contact_credits"
        )
    )


def reference_child_lines(prefix: str, as_of: date) -> list[Key]:
    policies = policy_versions()
    found = []
    for kid in _children(prefix):
        for line in rules.worklist_lines(
            _facts(kid.contact_credits.all()), _window(kid), history_of(kid), as_of, policies
        ):
            found.append(
                (
                    kid.public_id,
                    str(line.obligation),
                    line.last_contact,
                    line.due,
                    str(line.status),
                    line.interval_days,
                )
            )
    return sorted(found, key=repr)


def reference_family_lines(prefix: str, as_of: date) -> list[Key]:
    policies = policy_versions()
    by_household: dict[int, list[Child]] = {}
    for kid in _children(prefix):
        by_household.setdefault(kid.household_id, []).append(kid)
    found = []
    for household_id, kids in by_household.items():
        credits = ContactCredit.objects.filter(household_id=household_id)
        window = rules.HouseholdWindow(tuple(_window(k) for k in kids))
        line = rules.family_line(_facts(credits), window, as_of, policies)
        if line is not None:
            found.append(
                (
                    kids[0].household.public_id,
                    str(line.obligation),
                    line.last_contact,
                    line.due,
                    str(line.status),
                    line.interval_days,
                )
            )
    return sorted(found, key=repr)


def keys(lines: Iterable[WorkLine]) -> list[Key]:
    return sorted((key(line) for line in lines), key=repr)
