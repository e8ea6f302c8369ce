"""Matching a ledger import's rows to the stored files: children by ID number, the stored
households a batch may touch (of the children found, and of parents found by ID number:
siblings), a new child's family (a parent's ID number in the same village, else a new one), and
the file a row without an ID number would be matched to (same name, birth date and village)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from tongxin.geo.scope import scope_q
from tongxin.registry.ledger.bulk import BLANKS
from tongxin.registry.ledger.checks import Fact
from tongxin.registry.ledger.rows import LedgerRow
from tongxin.registry.models import Child, Household, Migration, Parent, ParentRole

if TYPE_CHECKING:
    from tongxin.registry.ledger.run import Planned, Run

ROLES = (ParentRole.FATHER, ParentRole.MOTHER)


@dataclass
class Family:
    """A household as this import sees it: the stored one (or a new one), its parents and
    their spells, and what the rows of the batch set on it."""

    household: Household
    parents: dict[str, Parent]
    spells: dict[str, list[Migration]]
    is_new: bool
    first_line: int
    set_by: dict[Fact, tuple[int, Any]] = field(default_factory=dict)  # fact → (line, value)
    labels: list[Fact] = field(default_factory=list)  # what the batch changes, for the rows
    # The first row of the batch for this family sets its facts unchecked; only when a second
    # row comes are the first one's facts recorded in ``set_by`` (most families have one row).
    first_row: LedgerRow | None = None
    shared: bool = False
    changed: set[str] = field(default_factory=set)  # household fields changed
    parents_new: set[str] = field(default_factory=set)
    parents_changed: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    spells_new: list[tuple[str, Migration]] = field(default_factory=list)  # (role, spell)
    spells_changed: dict[int, tuple[Migration, set[str]]] = field(default_factory=dict)

    @property
    def touched(self) -> bool:
        return bool(
            self.is_new
            or self.changed
            or self.parents_new
            or any(self.parents_changed.values())
            or self.spells_new
            or self.spells_changed
        )


def existing_children(run: Run, hashes: set[str]) -> dict[str, Child]:
    if not hashes:
        return {}
    queryset = Child.objects.filter(id_number_hash__in=hashes).select_related("household")
    if run.apply:
        queryset = queryset.select_for_update(of=("self",))
    return {c.id_number_hash or "": c for c in queryset}


def families_of(
    run: Run,
    existing: dict[str, Child],
    parent_ids: dict[tuple[int, str], str],
    planned: list[Planned],
) -> dict[int, Family]:
    """Stored households this batch may touch, by pk: those of the children found, those of
    parents found by ID number (siblings), and those this run created in earlier batches."""
    household_pks = {c.household_id for c in existing.values()}
    by_parent: dict[tuple[str, str], int] = {}
    village_of = {p.row.line: p.row.village_code for p in planned}
    wanted = {(village_of[line], h) for (line, _role), h in parent_ids.items()}
    for key in wanted:
        known = run.new_families.get(key)
        if isinstance(known, int):
            by_parent[key] = known
    lookup = {h for (_v, h) in wanted if (_v, h) not in run.new_families}
    if lookup:
        for pk, village, digest in (
            Parent.objects.filter(id_number_hash__in=lookup)
            .filter(scope_q(run.actor, "household__village__code"))
            .values_list("household_id", "household__village_id", "id_number_hash")
            .order_by("household_id")
        ):
            by_parent.setdefault((village, digest), pk)
    household_pks |= set(by_parent.values())
    run.by_parent = by_parent
    if not household_pks:
        return {}
    households = Household.objects.filter(pk__in=household_pks)
    parents = list(Parent.objects.filter(household_id__in=household_pks))
    spells: dict[int, list[Migration]] = defaultdict(list)
    for m in Migration.objects.filter(parent__household_id__in=household_pks):
        spells[m.parent_id].append(m)
    by_household: dict[int, dict[str, Parent]] = defaultdict(dict)
    for parent in parents:
        by_household[parent.household_id][parent.role] = parent
    families: dict[int, Family] = {}
    for h in households:
        own = by_household[h.pk]
        families[h.pk] = Family(
            household=h,
            parents=own,
            spells={role: spells[par.pk] for role, par in own.items()},
            is_new=False,
            first_line=0,
        )
    return families


def review_candidates(run: Run, planned: list[Planned]) -> dict[tuple[Any, ...], Child]:
    """Files a row without an ID number would be matched to: same village, name, birth."""
    keys = {
        (p.row.village_code, p.row.child.get("name", ""), p.row.child.get("birth_date"))
        for p in planned
    }
    if not keys:
        return {}
    found: dict[tuple[Any, ...], Child] = {}
    names = {k[1] for k in keys}
    births = {k[2] for k in keys if k[2]}
    for c in Child.objects.visible_to(run.actor).filter(name__in=names, birth_date__in=births):
        found.setdefault((c.village_id, c.name, c.birth_date), c)
    return found


def explain_review(p: Planned, candidates: dict[tuple[Any, ...], Child]) -> None:
    row = p.row
    match = candidates.get(
        (row.village_code, row.child.get("name", ""), row.child.get("birth_date"))
    )
    if match is not None:
        p.result.messages = [
            _(
                "No ID number: not imported. It matches the file of %(name)s (same name, "
                "birth date and village); add the ID number to the row, or update that "
                "file by hand."
            )
            % {"name": match.name}
        ]
    else:
        p.result.messages = [
            _(
                "No ID number: not imported. No file has the same name, birth date and "
                "village; add the ID number to the row, or register the child by hand "
                "with the reason the number is missing."
            )
        ]


def family_for_new_child(
    run: Run,
    p: Planned,
    parent_ids: dict[tuple[int, str], str],
    families: dict[int, Family],
    batch_families: dict[int | str, Family],
) -> Family:
    row = p.row
    keys = [
        (row.village_code, parent_ids[(row.line, role)])
        for role in ROLES
        if (row.line, role) in parent_ids
    ]
    for key in keys:
        pk = run.by_parent.get(key)
        if pk is not None:
            family = batch_families.get(pk) or families[pk]
            batch_families[pk] = family
            return family
        marker = run.new_families.get(key)
        if isinstance(marker, str) and marker in batch_families:
            return batch_families[marker]
    household = BLANKS.new(
        Household, village_id=row.village_code, created_at=run.now, updated_at=run.now
    )
    family = Family(household=household, parents={}, spells={}, is_new=True, first_line=row.line)
    marker = f"row:{row.line}"
    batch_families[marker] = family
    for key in keys:
        if key not in run.new_families:
            run.new_families[key] = marker
            run.batch_keys.append(key)
    return family
