"""The child's stored risk level: facts read from the file, the pure rule (rules.risk_level),
the officer's override. Refreshed whenever a fact changes (the registry's signal, a problem
raised or closed) and daily by ``manage.py refresh_risk`` for what time alone changes (both
parents away 12 months, an agreement expiring, an override ending)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db.models import Count, Q
from django.utils import timezone

from tongxin.protection.models import OPEN_STATUSES, ConcernCategory, Severity
from tongxin.registry.models import (
    Capacity,
    Child,
    ChildStatus,
    Enrolment,
    ParentRole,
    ParentStatus,
)
from tongxin.visits import rules
from tongxin.visits.models import ChildRisk


def _away_since(parent_spells: list[tuple[date | None, date | None, date | None]]) -> date | None:
    """The start of the open spell away (left_on, or known_since when the start is unknown)."""
    starts = [
        start
        for left, known, returned in parent_spells
        if returned is None and (start := left or known) is not None
    ]
    return min(starts) if starts else None


def risk_facts(children: Iterable[Child]) -> dict[int, rules.RiskFacts]:
    """The risk facts of each child, in a fixed number of queries whatever their number."""
    children = list(children)
    household_ids = {c.household_id for c in children}
    child_ids = [c.pk for c in children]
    from tongxin.registry.models import CareAgreement, Migration, Parent

    parents: dict[tuple[int, str], tuple[int, str, str]] = {}
    for pk, household_id, role, status, capacity in Parent.objects.filter(
        household_id__in=household_ids
    ).values_list("pk", "household_id", "role", "status", "capacity"):
        parents[(household_id, role)] = (pk, status, capacity)
    spells: dict[int, list[tuple[date | None, date | None, date | None]]] = {}
    for parent_id, left, known, returned in Migration.objects.filter(
        parent__household_id__in=household_ids
    ).values_list("parent_id", "left_on", "known_since", "returned_on"):
        spells.setdefault(parent_id, []).append((left, known, returned))
    agreements: dict[int, list[rules.AgreementFact]] = {}
    for household_id, signed, until, terminated in CareAgreement.objects.filter(
        household_id__in=household_ids
    ).values_list("household_id", "signed_on", "valid_until", "terminated_on"):
        agreements.setdefault(household_id, []).append(
            rules.AgreementFact(signed, until, terminated)
        )
    from tongxin.protection.models import Concern

    concerns = {
        row["child_id"]: row
        for row in Concern.objects.filter(child_id__in=child_ids, status__in=OPEN_STATUSES)
        .values("child_id")
        .annotate(
            high=Count("pk", filter=Q(severity=Severity.HIGH)),
            psych=Count("pk", filter=Q(category=ConcernCategory.PSYCHOLOGICAL)),
        )
    }
    households = {
        c.household_id: c.household for c in children if "household" in c._state.fields_cache
    }
    missing = household_ids - set(households)
    if missing:
        from tongxin.registry.models import Household

        households.update(Household.objects.in_bulk(missing))

    facts: dict[int, rules.RiskFacts] = {}
    for child in children:
        father = parents.get((child.household_id, ParentRole.FATHER))
        mother = parents.get((child.household_id, ParentRole.MOTHER))

        def away(parent: tuple[int, str, str] | None) -> date | None:
            return _away_since(spells.get(parent[0], [])) if parent else None

        def disabled(parent: tuple[int, str, str] | None) -> bool:
            return parent is not None and parent[2] == Capacity.SERIOUS_DISABILITY

        def at_home_and_able(parent: tuple[int, str, str] | None) -> bool:
            return (
                parent is not None
                and parent[1] == ParentStatus.ALIVE
                and parent[2] == Capacity.FULL
                and away(parent) is None
            )

        household = households[child.household_id]
        no_caregiver = not household.caregiver_name.strip() or (
            household.caregiver_capacity == "incapable"
        )
        counts = concerns.get(child.pk, {"high": 0, "psych": 0})
        facts[child.pk] = rules.RiskFacts(
            father_away_since=away(father),
            mother_away_since=away(mother),
            father_serious_disability=disabled(father),
            mother_serious_disability=disabled(mother),
            child_disability=child.disability_grade is not None,
            child_disability_grade=child.disability_grade,
            psychological_problems=counts["psych"] > 0,
            open_high_severity_problems=counts["high"],
            left_behind=child.left_behind,
            care_agreements=tuple(agreements.get(child.household_id, ())),
            dropped_out=child.enrolment == Enrolment.DROPPED_OUT,
            guardianship_assessment=child.guardianship_assessment,
            # 无人监护: no parent at home able to care and no capable daily caregiver.
            no_guardian=no_caregiver
            and not at_home_and_able(father)
            and not at_home_and_able(mother),
        )
    return facts


def _store(child_ids: list[int], facts: dict[int, rules.RiskFacts], as_of: date) -> int:
    """Write the computed levels; returns how many effective levels changed."""
    stored = ChildRisk.objects.in_bulk(child_ids)
    changed = 0
    new: list[ChildRisk] = []
    dirty: list[ChildRisk] = []
    for pk in child_ids:
        risk = rules.risk_level(facts[pk], as_of)
        row = stored.get(pk)
        if row is None:
            row = ChildRisk(child_id=pk)
            new.append(row)
        override = row.override_level or None
        effective = rules.apply_override(risk, override, row.override_until, as_of)
        if effective.override_level is None and row.override_level:
            row.override_level, row.override_until, row.override_reason = "", None, ""
            row.override_by = None
        if row.level != effective.level:
            changed += 1
        row.level = effective.level
        row.computed_level = risk.level
        row.reasons = list(risk.reasons)
        row.factors = [str(f) for f in risk.factors]
        row.computed_on = as_of
        if row not in new:
            dirty.append(row)
    ChildRisk.objects.bulk_create(new)
    ChildRisk.objects.bulk_update(
        dirty,
        [
            "level",
            "computed_level",
            "reasons",
            "factors",
            "computed_on",
            "override_level",
            "override_until",
            "override_reason",
            "override_by",
        ],
    )
    return changed


def risk_refresh(child: Child, *, as_of: date | None = None) -> ChildRisk:
    """Recompute and store one child's risk."""
    as_of = as_of or timezone.localdate()
    _store([child.pk], risk_facts([child]), as_of)
    return ChildRisk.objects.get(pk=child.pk)


def risk_refresh_all(*, as_of: date | None = None, batch: int = 2000) -> dict[str, int]:
    """The daily run over every active child, ``batch`` at a time."""
    as_of = as_of or timezone.localdate()
    seen = changed = 0
    last = 0
    active = Child.objects.filter(status=ChildStatus.ACTIVE).select_related("household")
    while True:
        children = list(active.filter(pk__gt=last).order_by("pk")[:batch])
        if not children:
            break
        last = children[-1].pk
        seen += len(children)
        changed += _store([c.pk for c in children], risk_facts(children), as_of)
    return {"children": seen, "changed": changed}
