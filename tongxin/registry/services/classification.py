"""The child's categories: computed from the recorded facts when a fact changes (one child, or
every child of a household) with their history of spans, and the daily run that catches changes
time alone brings."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from tongxin.geo.models import Level
from tongxin.registry import policy, rules, signals
from tongxin.registry.models import (
    CategorySpan,
    Child,
    ChildStatus,
    Household,
    Migration,
    Parent,
    ParentRole,
)
from tongxin.registry.selectors import current_facts, facts_timeline, parent_facts


def _store_classification(child: Child, facts: rules.ChildFacts, as_of: date) -> bool:
    """Set the child's current categories from ``facts``; True when they changed."""
    result = rules.classify(facts, as_of, policy.thresholds())
    categories = [{"code": str(c.code), "reason": c.reason} for c in result.categories]
    codes = {c["code"] for c in categories}
    changed = [c["code"] for c in child.categories] != [c["code"] for c in categories]
    child.categories = categories
    child.left_behind = rules.CategoryCode.LEFT_BEHIND in codes
    child.in_difficulty = result.in_difficulty
    child.classified_on = as_of
    return changed


def child_reclassify(child: Child, *, as_of: date | None = None) -> bool:
    """Recompute the child's categories and their history from the recorded facts. Called by
    every service that changes a fact, and daily by ``manage.py reclassify``."""
    as_of = as_of or timezone.localdate()
    changed = _store_classification(child, current_facts(child), as_of)
    Child.objects.filter(pk=child.pk).update(
        categories=child.categories,
        left_behind=child.left_behind,
        in_difficulty=child.in_difficulty,
        classified_on=as_of,
    )
    category_history_rebuild(child, until=as_of)
    signals.child_facts_changed.send(sender=Child, child=child)
    return changed


def category_history_rebuild(child: Child, *, until: date) -> None:
    spans = rules.category_history(
        facts_timeline(child), child.registered_on, until, policy.thresholds()
    )
    CategorySpan.objects.filter(child=child).delete()
    CategorySpan.objects.bulk_create(
        CategorySpan(child=child, code=str(s.code), start=s.start, end=s.end) for s in spans
    )


def reclassify_household(household: Household) -> None:
    for child in household.children.select_related("village", "household"):
        child_reclassify(child)


def _family_facts(
    household_ids: set[int],
) -> dict[int, tuple[bool, bool, bool, rules.ParentFacts, rules.ParentFacts]]:
    """The facts of many households, for the rules, from three queries of plain values:
    (divorced, dibao, tekun, father, mother) by household id."""
    spells: dict[int, list[rules.MigrationSpell]] = {}
    for parent_id, left_on, returned_on, destination, known_since in (
        Migration.objects.filter(parent__household_id__in=household_ids)
        .order_by("left_on", "id")
        .values_list("parent_id", "left_on", "returned_on", "destination", "known_since")
    ):
        spell = rules.MigrationSpell(
            left_on, returned_on, rules.Destination(destination), known_since
        )
        spells.setdefault(parent_id, []).append(spell)
    absent = parent_facts(None, [])
    parents: dict[int, dict[str, rules.ParentFacts]] = {}
    for pk, household_id, role, status, capacity in Parent.objects.filter(
        household_id__in=household_ids
    ).values_list("pk", "household_id", "role", "status", "capacity"):
        parents.setdefault(household_id, {})[role] = rules.ParentFacts(
            rules.ParentStatus(status), rules.Capacity(capacity), tuple(spells.get(pk, ()))
        )
    found = {}
    for pk, divorced, dibao, tekun in Household.objects.filter(pk__in=household_ids).values_list(
        "pk", "parents_divorced", "dibao", "tekun"
    ):
        roles = parents.get(pk, {})
        found[pk] = (
            divorced,
            dibao,
            tekun,
            roles.get(ParentRole.FATHER, absent),
            roles.get(ParentRole.MOTHER, absent),
        )
    return found


def reclassify_all(*, as_of: date, batch: int = 2000) -> dict[str, int]:
    """The daily run: catch category changes that come from time alone (a 16th birthday, a
    spell reaching 3 months). Only children whose categories change are written.

    The facts are read as plain values, four queries per ``batch`` children and no model
    instances (the same facts ``current_facts`` builds), so a million children take minutes;
    the few that changed are then loaded and written one transaction each."""
    thresholds = policy.thresholds()
    village = Level.VILLAGE
    seen = 0
    to_write: list[int] = []
    last = 0
    active = Child.objects.filter(status=ChildStatus.ACTIVE).order_by("pk")
    while True:
        rows = list(
            active.filter(pk__gt=last).values_list(
                "pk",
                "household_id",
                "birth_date",
                "village__level",
                "disability_grade",
                "serious_illness",
                "categories",
            )[:batch]
        )
        if not rows:
            break
        last = rows[-1][0]
        seen += len(rows)
        families = _family_facts({row[1] for row in rows})
        for pk, household_id, birth_date, level, grade, ill, stored in rows:
            divorced, dibao, tekun, father, mother = families[household_id]
            facts = rules.ChildFacts(
                birth_date=birth_date,
                lives_in=rules.Residence.VILLAGE if level == village else rules.Residence.COMMUNITY,
                father=father,
                mother=mother,
                parents_divorced=divorced,
                dibao=dibao,
                tekun=tekun,
                disability_grade=grade,
                serious_illness=ill,
            )
            codes = [c.code for c in rules.classify(facts, as_of, thresholds).categories]
            if codes != [c["code"] for c in stored]:
                to_write.append(pk)
    changed = 0
    for pk in to_write:
        with transaction.atomic():
            child = Child.objects.select_related("household", "village").get(pk=pk)
            if not _store_classification(child, current_facts(child), as_of):
                continue
            Child.objects.filter(pk=child.pk).update(
                categories=child.categories,
                left_behind=child.left_behind,
                in_difficulty=child.in_difficulty,
                classified_on=as_of,
            )
            category_history_rebuild(child, until=as_of)
            signals.child_facts_changed.send(sender=Child, child=child)
            changed += 1
    return {"children": seen, "changed": changed}
