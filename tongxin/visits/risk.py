"""The child's stored risk level: facts read from the file, the pure rule (rules.risk_level),
the officer's override. Refreshed whenever a fact changes (the registry's signal, a problem
raised or closed) and daily by ``manage.py refresh_risk`` for what time alone changes (both
parents away 12 months, an agreement expiring, an override ending).

Each refresh also keeps the history (decision 012): a ``RiskSpan`` where the computed level
changes, so that a worklist or a compliance report of a past day reads the level of that day
(``level_on_sql``), and the page and API show how the level went (``child_risk_history``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from tongxin.protection.selectors import NO_OPEN_PROBLEMS, open_problem_counts
from tongxin.registry.models import (
    Capacity,
    Child,
    ChildStatus,
    Enrolment,
    ParentRole,
    ParentStatus,
)
from tongxin.visits import rules
from tongxin.visits.models import ChildRisk, RiskOverride, RiskSpan


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
    problems = open_problem_counts(child_ids)
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
        counts = problems.get(child.pk, NO_OPEN_PROBLEMS)
        facts[child.pk] = rules.RiskFacts(
            father_away_since=away(father),
            mother_away_since=away(mother),
            father_serious_disability=disabled(father),
            mother_serious_disability=disabled(mother),
            child_disability=child.disability_grade is not None,
            child_disability_grade=child.disability_grade,
            psychological_problems=counts.psychological > 0,
            open_high_severity_problems=counts.high,
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


def _in_force_on(day: date) -> Q:
    return Q(starts_on__lte=day, ends_on__gte=day) & (
        Q(cleared_on__isnull=True) | Q(cleared_on__gt=day)
    )


def overrides_in_force(child_ids: Iterable[int], day: date) -> dict[int, RiskOverride]:
    """The override in force on ``day`` for each child that has one (of two, the later set:
    ``rules.RiskHistory.override_on``), in one query."""
    found: dict[int, RiskOverride] = {}
    for override in (
        RiskOverride.objects.filter(_in_force_on(day), child_id__in=list(child_ids))
        .select_related("set_by")
        .order_by("starts_on", "id")
    ):
        found[override.child_id] = override
    return found


def _write_history(
    rows: list[RiskSpan], child_id: int, risk: rules.Risk, as_of: date
) -> tuple[list[int], list[RiskSpan], list[RiskSpan]]:
    """The history of one child once ``risk`` was computed as of ``as_of`` (``rows``: its spans
    that end on or after ``as_of``, the others cannot change): the rows to delete, update and
    create."""
    old = {row.valid_from: row for row in rows}
    spans = rules.record_level([row.as_rule() for row in rows], as_of, risk.level)
    new = {span.start: span for span in spans}
    deleted = [row.pk for start, row in old.items() if start not in new]
    updated: list[RiskSpan] = []
    created: list[RiskSpan] = []
    for start, span in new.items():
        row = old.get(start)
        if row is None:
            created.append(
                RiskSpan(
                    child_id=child_id,
                    valid_from=span.start,
                    valid_to=span.end,
                    level=span.level,
                    reasons=list(risk.reasons),
                    factors=[str(f) for f in risk.factors],
                )
            )
        elif (row.valid_to, row.level) != (span.end, span.level):
            if row.level != span.level:
                row.reasons, row.factors = list(risk.reasons), [str(f) for f in risk.factors]
            row.valid_to, row.level = span.end, span.level
            updated.append(row)
    return deleted, updated, created


@transaction.atomic
def _store(child_ids: list[int], facts: dict[int, rules.RiskFacts], as_of: date) -> int:
    """Write the levels computed as of ``as_of``: the history (a span where the computed level
    changes), and the stored level of each child unless it was last computed on a later day.
    Returns how many levels in force on ``as_of`` changed. Four queries and the writes; the
    stored rows are locked first, so that two refreshes of a child write its history in turn."""
    stored = ChildRisk.objects.select_for_update().in_bulk(child_ids)
    spans: dict[int, list[RiskSpan]] = {}
    for span in RiskSpan.objects.filter(child_id__in=child_ids).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=as_of)
    ):
        spans.setdefault(span.child_id, []).append(span)
    overrides = overrides_in_force(child_ids, as_of)
    changed = 0
    new: list[ChildRisk] = []
    dirty: list[ChildRisk] = []
    deleted: list[int] = []
    updated: list[RiskSpan] = []
    created: list[RiskSpan] = []
    for pk in child_ids:
        risk = rules.risk_level(facts[pk], as_of)
        held = spans.get(pk, [])
        before = next((r.level for r in held if r.as_rule().holds_on(as_of)), None)
        gone, changed_rows, added = _write_history(held, pk, risk, as_of)
        deleted += gone
        updated += changed_rows
        created += added
        override = overrides.get(pk)
        level = override.level if override is not None else risk.level
        row = stored.get(pk)
        if row is None:
            row = ChildRisk(child_id=pk, level=level)
            new.append(row)
            changed += level != rules.RiskLevel.LOW
        elif row.computed_on is None or as_of >= row.computed_on:
            changed += row.level != level
            dirty.append(row)
        else:
            # A past day recomputed: the history changes, the stored level of a later day not.
            changed += override is None and (before or rules.RiskLevel.LOW) != risk.level
            continue
        row.level = level
        row.override = override
        row.computed_level = risk.level
        row.reasons = list(risk.reasons)
        row.factors = [str(f) for f in risk.factors]
        row.computed_on = as_of
    RiskSpan.objects.filter(pk__in=deleted).delete()
    RiskSpan.objects.bulk_update(updated, ["valid_to", "level", "reasons", "factors"])
    RiskSpan.objects.bulk_create(created)
    ChildRisk.objects.bulk_create(new)
    ChildRisk.objects.bulk_update(
        dirty, ["level", "override", "computed_level", "reasons", "factors", "computed_on"]
    )
    return changed


def risk_refresh(child: Child, *, as_of: date | None = None) -> ChildRisk:
    """Recompute and store one child's risk."""
    as_of = as_of or timezone.localdate()
    _store([child.pk], risk_facts([child]), as_of)
    return ChildRisk.objects.select_related("override__set_by").get(pk=child.pk)


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


# --- reading the history ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChildRiskHistory:
    """A child's risk over time, for its page and the API: the computed spans and the
    overrides (newest first, with who set and cleared them), and the level in force over time
    (``rules.timeline``: each entry's ``override`` indexes ``overrides_by_age``)."""

    spans: tuple[RiskSpan, ...]
    overrides: tuple[RiskOverride, ...]
    overrides_by_age: tuple[RiskOverride, ...]
    history: rules.RiskHistory
    timeline: tuple[rules.TimelineEntry, ...]

    def override_of(self, entry: rules.TimelineEntry) -> RiskOverride | None:
        return None if entry.override is None else self.overrides_by_age[entry.override]


def child_risk_history(child: Child, *, upto: date | None = None) -> ChildRiskHistory:
    """Two queries. ``upto``: the timeline stops at the stretch in force that day (default
    today): what is planned after it (an override's end) is not history yet."""
    spans = tuple(RiskSpan.objects.filter(child=child).order_by("-valid_from"))
    by_age = tuple(
        RiskOverride.objects.filter(child=child)
        .select_related("set_by", "cleared_by")
        .order_by("id")
    )
    history = rules.RiskHistory(
        computed=tuple(span.as_rule() for span in reversed(spans)),
        overrides=tuple(o.as_rule() for o in by_age),
    )
    return ChildRiskHistory(
        spans=spans,
        overrides=tuple(reversed(by_age)),
        overrides_by_age=by_age,
        history=history,
        timeline=rules.timeline(history, upto or timezone.localdate()),
    )


def level_on_sql(child: str, day: date) -> tuple[str, list[Any]]:
    """SQL for the level in force on ``day`` of the child whose id is the expression ``child``
    (``rules.RiskHistory.level_on``): the override in force, else the computed span holding
    that day, else low. Each part is one probe of an index: (child, starts_on) of the
    overrides, (child, valid_from) of the spans."""
    q = connection.ops.quote_name
    value = connection.ops.adapt_datefield_value(day)
    overrides, spans = q(RiskOverride._meta.db_table), q(RiskSpan._meta.db_table)
    level = q("level")
    sql = (
        f"COALESCE((SELECT ro.{level} FROM {overrides} ro WHERE ro.child_id = {child}"  # noqa: S608
        " AND ro.starts_on <= %s AND ro.ends_on >= %s"
        " AND (ro.cleared_on IS NULL OR ro.cleared_on > %s)"
        " ORDER BY ro.starts_on DESC, ro.id DESC LIMIT 1),"
        f" (SELECT rsp.{level} FROM {spans} rsp WHERE rsp.child_id = {child}"
        " AND rsp.valid_from <= %s AND (rsp.valid_to IS NULL OR rsp.valid_to > %s)"
        " ORDER BY rsp.valid_from DESC LIMIT 1), %s)"
    )
    return sql, [value, value, value, value, value, rules.RiskLevel.LOW.value]
