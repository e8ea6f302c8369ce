"""The population stored: the places of a county read from its divisions (``county_places``),
and the plans written straight to the registry's tables in batches, categories and their
history computed by the rules (``population_generate``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as clock
from typing import Any

from django.db import transaction
from django.utils import timezone

from tongxin.audit.services import audit_record
from tongxin.geo.models import Division, Level
from tongxin.lib import crypto
from tongxin.registry import policy, rules
from tongxin.registry.generator.inserts import Table
from tongxin.registry.generator.planner import plan_population
from tongxin.registry.generator.plans import ChildPlan, HouseholdPlan, Place, plan_facts
from tongxin.registry.generator.words import pinyin_keys
from tongxin.registry.models import (
    CareAgreement,
    CategorySpan,
    Child,
    Household,
    Migration,
    Parent,
)

DEMO_SEED = 20240418  # the day the county's action plan was issued
DEFAULT_CHILDREN = 1500
BATCH = 5000  # children per transaction


@dataclass(frozen=True)
class Progress:
    children: int
    total: int
    rows: int
    seconds: float


@dataclass
class GenerationReport:
    children: int = 0
    households: int = 0
    parents: int = 0
    spells: int = 0
    agreements: int = 0
    spans: int = 0
    duplicate_pairs: int = 0
    rows: int = 0  # every row written, history records included
    seconds: float = 0.0
    categories: dict[str, int] = field(default_factory=dict)


def county_places(county: str) -> list[Place]:
    """The villages and communities of ``county`` (6- or 12-digit code), as loaded (3 queries)."""
    prefix = county[:6]
    names = dict(
        Division.objects.filter(
            code__in=[prefix[:2].ljust(12, "0"), prefix[:4].ljust(12, "0"), prefix.ljust(12, "0")]
        ).values_list("code", "name")
    )
    county_name = names.get(prefix.ljust(12, "0"), "")
    hukou_prefix = "".join(
        names.get(c.ljust(12, "0"), "") for c in (prefix[:2], prefix[:4], prefix)
    )
    towns = dict(
        Division.objects.filter(code__startswith=prefix, level=Level.TOWN).values_list(
            "code", "name"
        )
    )
    rows = Division.objects.filter(
        code__startswith=prefix, level__in=[Level.VILLAGE, Level.COMMUNITY]
    ).order_by("code")
    return [
        Place(
            code=d.code,
            name=d.name,
            rural=d.level == Level.VILLAGE,
            town_code=d.parent_id or d.code[:9].ljust(12, "0"),
            town_name=towns.get(d.parent_id or "", ""),
            hukou_prefix=hukou_prefix,
            county_name=county_name,
        )
        for d in rows
    ]


def _recorded_at(day: date) -> datetime:
    """A creation time on ``day`` (local), for the history records."""
    return datetime.combine(day, clock(9), tzinfo=timezone.get_current_timezone())


class _Writer:
    def __init__(self, today: date, report: GenerationReport) -> None:
        self.today = today
        self.thresholds = policy.thresholds()
        self.report = report
        now = timezone.now()
        self.households = Table(Household, now)
        self.parents = Table(Parent, now)
        self.spells = Table(Migration, now)
        self.agreements = Table(CareAgreement, now)
        self.children = Table(Child, now)
        self.spans = Table(CategorySpan, now)
        self._category_json: dict[tuple[str, str], dict[str, str]] = {}

    def write(self, plans: list[HouseholdPlan]) -> None:
        report = self.report
        households = [self._household(p) for p in plans]
        h_when = [_recorded_at(p.registered_on) for p in plans]
        rows = self.households.save(households, h_when)

        parents: list[dict[str, Any]] = []
        p_when: list[datetime] = []
        agreements: list[dict[str, Any]] = []
        a_when: list[datetime] = []
        for plan, household, when in zip(plans, households, h_when, strict=True):
            for pp in plan.parents:
                enc, lookup = (
                    (crypto.encrypt(pp.id_number), crypto.lookup_hash(pp.id_number))
                    if pp.id_number
                    else (None, "")
                )
                parents.append(
                    self.parents.row(
                        household_id=household["id"],
                        role=pp.role,
                        name=pp.name,
                        birth_date=pp.birth_date,
                        id_number_enc=enc,
                        id_number_hash=lookup,
                        phone=pp.phone,
                        status=pp.status.value,
                        capacity=pp.capacity.value,
                        capacity_note=pp.capacity_note,
                    )
                )
                p_when.append(when)
            for ap in plan.agreements:
                agreements.append(
                    self.agreements.row(
                        household_id=household["id"],
                        entrusted_by=ap.entrusted_by,
                        caregiver_name=ap.caregiver_name,
                        caregiver_relation=ap.caregiver_relation,
                        caregiver_phone=ap.caregiver_phone,
                        caregiver_address=ap.caregiver_address,
                        signed_on=ap.signed_on,
                        valid_until=ap.valid_until,
                        document="",
                        terminated_on=ap.terminated_on,
                        caregiver_lacks_capacity=ap.caregiver_lacks_capacity,
                        parents_told_on=ap.parents_told_on,
                    )
                )
                a_when.append(_recorded_at(max(ap.signed_on, plan.registered_on)))
        rows += self.parents.save(parents, p_when)
        rows += self.agreements.save(agreements, a_when)

        spells: list[dict[str, Any]] = []
        s_when: list[datetime] = []
        parent_rows = iter(zip(parents, p_when, strict=True))
        for plan in plans:
            for pp in plan.parents:
                parent, when = next(parent_rows)
                for sp in pp.spells:
                    spells.append(
                        self.spells.row(
                            parent_id=parent["id"],
                            left_on=sp.left_on,
                            known_since=None,
                            returned_on=sp.returned_on,
                            destination=sp.destination.value,
                            work_place=sp.work_place,
                            phone=pp.phone if sp.returned_on is None else "",
                        )
                    )
                    s_when.append(when)
        rows += self.spells.save(spells, s_when)

        children: list[dict[str, Any]] = []
        c_when: list[datetime] = []
        facts: list[rules.ChildFacts] = []
        for plan, household in zip(plans, households, strict=True):
            for cp in plan.children:
                child_facts = plan_facts(plan, cp)
                children.append(self._child(plan, cp, household["id"], child_facts))
                c_when.append(_recorded_at(cp.registered_on))
                facts.append(child_facts)
        rows += self.children.save(children, c_when)

        spans: list[dict[str, Any]] = []
        for child, child_facts in zip(children, facts, strict=True):
            registered = child["registered_on"]
            for span in rules.category_history(
                ((registered, child_facts),), registered, self.today, self.thresholds
            ):
                spans.append(
                    {
                        "child_id": child["id"],
                        "code": span.code.value,
                        "start": span.start,
                        "end": span.end,
                    }
                )
        self.spans.insert.run(spans)
        rows += len(spans)

        report.households += len(households)
        report.parents += len(parents)
        report.spells += len(spells)
        report.agreements += len(agreements)
        report.children += len(children)
        report.spans += len(spans)
        report.rows += rows
        report.duplicate_pairs += sum(1 for p in plans if p.duplicate)

    def _household(self, plan: HouseholdPlan) -> dict[str, Any]:
        since = plan.registered_on
        return self.households.row(
            village_id=plan.place.code,
            address=plan.address,
            phone=plan.phone,
            parents_divorced=plan.parents_divorced,
            dibao=plan.dibao,
            dibao_since=since if plan.dibao else None,
            tekun=plan.tekun,
            tekun_since=since if plan.tekun else None,
            income_source=plan.income_source,
            assistance=plan.assistance,
            caregiver_name=plan.caregiver_name,
            caregiver_relation=plan.caregiver_relation,
            caregiver_birth_year=plan.caregiver_birth_year,
            caregiver_health=plan.caregiver_health,
            caregiver_capacity=plan.caregiver_capacity,
            caregiver_phone=plan.caregiver_phone,
            grandparents=plan.grandparents,
        )

    def _child(
        self, plan: HouseholdPlan, cp: ChildPlan, household_id: int, facts: rules.ChildFacts
    ) -> dict[str, Any]:
        result = rules.classify(facts, self.today, self.thresholds)
        counts = self.report.categories
        categories = []
        for c in result.categories:
            categories.append(self._category(c.code.value, c.reason))
            counts[c.code.value] = counts.get(c.code.value, 0) + 1
        pinyin, initials = pinyin_keys(cp.name)
        enc, lookup = (
            (crypto.encrypt(cp.id_number), crypto.lookup_hash(cp.id_number))
            if cp.id_number
            else (None, None)
        )
        return self.children.row(
            household_id=household_id,
            village_id=plan.place.code,
            name=cp.name,
            name_pinyin=pinyin,
            name_initials=initials,
            gender=cp.gender,
            ethnicity=cp.ethnicity,
            birth_date=cp.birth_date,
            id_number_enc=enc,
            id_number_hash=lookup,
            id_missing_reason=cp.id_missing_reason,
            hukou_registered=cp.id_missing_reason != "not_registered",
            hukou_place=cp.hukou_place,
            phone="",
            school=cp.school,
            grade=cp.grade,
            school_stage=cp.school_stage,
            enrolment=cp.enrolment,
            boarding=cp.boarding,
            health=cp.health,
            disability_type=cp.disability_type,
            disability_grade=cp.disability_grade,
            disability_certificate=cp.disability_certificate,
            disability_certificate_expiry=cp.disability_certificate_expiry,
            disability_since=cp.registered_on if cp.disability_grade else None,
            serious_illness=cp.serious_illness,
            illness=cp.illness,
            illness_since=cp.registered_on if cp.serious_illness else None,
            guardianship_assessment=cp.guardianship_assessment,
            status_reason="",
            status_since=cp.registered_on,
            registered_on=cp.registered_on,
            left_behind=rules.CategoryCode.LEFT_BEHIND in result.codes,
            in_difficulty=result.in_difficulty,
            categories=categories,
            classified_on=self.today,
        )

    def _category(self, code: str, reason: str) -> dict[str, str]:
        # Reasons repeat (same dates, same parents' facts): share the small dicts.
        key = (code, reason)
        found = self._category_json.get(key)
        if found is None:
            found = {"code": code, "reason": reason}
            if len(self._category_json) < 100_000:
                self._category_json[key] = found
        return found


def population_generate(
    *,
    children: int = DEFAULT_CHILDREN,
    seed: int = DEMO_SEED,
    county: str = "620724",
    today: date | None = None,
    batch: int = BATCH,
    duplicates: int | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> GenerationReport:
    """Generate and store ``children`` synthetic children in ``county``'s villages and
    communities. One transaction per ``batch`` children; one audit entry at the end."""
    if children < 1:
        raise ValueError("children must be at least 1")
    today = today or timezone.localdate()
    places = county_places(county)
    if not places:
        raise ValueError(f"no villages or communities under {county[:6]}: load the divisions")
    started = time.perf_counter()
    taken = frozenset(
        h for h in Child.objects.values_list("id_number_hash", flat=True).iterator() if h
    )
    report = GenerationReport()
    writer = _Writer(today, report)
    pending: list[HouseholdPlan] = []
    pending_children = 0

    def flush() -> None:
        nonlocal pending, pending_children
        with transaction.atomic():
            writer.write(pending)
        pending, pending_children = [], 0
        report.seconds = time.perf_counter() - started
        if progress is not None:
            progress(Progress(report.children, children, report.rows, report.seconds))

    for plan in plan_population(
        children=children,
        seed=seed,
        places=places,
        today=today,
        region=county[:6],
        duplicates=duplicates,
        taken_hashes=taken,
    ):
        pending.append(plan)
        pending_children += len(plan.children)
        if pending_children >= batch:
            flush()
    if pending:
        flush()
    with transaction.atomic():
        audit_record(
            actor=None,
            action="registry.generate",
            object_type="child",
            division_code=county[:6].ljust(12, "0"),
            detail={"children": report.children, "households": report.households, "seed": seed},
        )
    report.seconds = time.perf_counter() - started
    return report
