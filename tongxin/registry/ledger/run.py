"""One run of a ledger import (``Run``): its batches read, checked (``checks``), matched to the
stored files (``match``: children by ID number, families by a parent's ID number, review rows
by name and birth date), and planned: what each row changes in memory, on the child and on the
family its siblings share, and its outcome and categories. ``write`` then writes the planned
batch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from pypinyin.constants import PHRASES_DICT

from tongxin.accounts.models import User
from tongxin.geo.models import Division, Level
from tongxin.geo.scope import in_scope
from tongxin.lib.pinyin import name_keys
from tongxin.registry import policy, rules
from tongxin.registry.ledger.bulk import BLANKS, Writer
from tongxin.registry.ledger.checks import Fact, check_row, fact_label, field_label, parent_label
from tongxin.registry.ledger.match import (
    Family,
    existing_children,
    explain_review,
    families_of,
    family_for_new_child,
    review_candidates,
)
from tongxin.registry.ledger.rows import LedgerParent, LedgerRow, Outcome, RowResult
from tongxin.registry.ledger.write import write_batch
from tongxin.registry.models import (
    Child,
    Migration,
    Parent,
    ParentRole,
)
from tongxin.registry.selectors import parent_facts

# Facts of a family the categories depend on: sibling rows that disagree on one are an error.
_DECISIVE = frozenset(
    {"parents_divorced", "dibao", "tekun", "status", "capacity", "destination", "left_on", "id"}
)


@dataclass
class Planned:
    row: LedgerRow
    result: RowResult
    child: Child | None = None
    family: Family | None = None
    child_changed: set[str] = field(default_factory=set)
    facts: rules.ChildFacts | None = None


class RowError(Exception):
    def __init__(self, *messages: str) -> None:
        self.messages = list(messages)


class Run:
    def __init__(self, actor: User, as_of: date, apply: bool, change_reason: str) -> None:
        self.actor = actor
        self.as_of = as_of
        self.apply = apply
        self.reason = change_reason[:100]
        self.thresholds = policy.thresholds()
        self.now = timezone.now()
        self.divisions: dict[str, tuple[str, str]] = {}  # code → (name, level)
        self.seen_ids: dict[str, int] = {}  # child ID hash → line
        # Families created by this run, by (village, parent ID hash): household pk once
        # written (apply), else the first row's line (preview).
        self.new_families: dict[tuple[str, str], int | str] = {}
        self.batch_keys: list[tuple[str, str]] = []  # those the current batch added
        # Stored households the current batch may join, by (village, parent ID hash).
        self.by_parent: dict[tuple[str, str], int] = {}
        self.pinyin: dict[str, tuple[str, str]] = {}
        self.writer = Writer()
        self.written: list[int] = []  # the children new or updated (apply)
        self.written_counties: set[str] = set()
        # Dates repeat from row to row (birthdays, months of departure): each checked once.
        self.plausible: dict[tuple[Any, ...], str | None] = {}

    def date_error(
        self, check: Callable[..., str | None], day: date, not_before: date | None = None
    ) -> str | None:
        """``check`` (one of ``lib.plausible``'s) of ``day`` on the import date."""
        key = (check, day, not_before)
        if key not in self.plausible:
            extra = {"not_before": not_before} if not_before is not None else {}
            self.plausible[key] = check(day, today=self.as_of, **extra)
        return self.plausible[key]

    # --- reading a batch -------------------------------------------------------------------

    def batch(self, rows: list[LedgerRow]) -> list[RowResult]:
        self.batch_keys = []
        planned = [
            Planned(row, RowResult(line=row.line, outcome=Outcome.NEW, name=row.name))
            for row in rows
        ]
        self._load_divisions({p.row.village_code for p in planned if p.row.village_code})
        ids: dict[int, str] = {}  # line → child hash
        parent_ids: dict[tuple[int, str], str] = {}  # (line, role) → parent hash
        sealed: dict[str, bytes] = {}
        for p in planned:
            check_row(self, p, ids, parent_ids, sealed)

        existing = existing_children(self, set(ids.values()))
        families = families_of(self, existing, parent_ids, planned)
        review = review_candidates(self, [p for p in planned if p.result.outcome == Outcome.REVIEW])

        batch_families: dict[int | str, Family] = {}
        for p in planned:
            if p.result.outcome in (Outcome.ERROR, Outcome.REVIEW):
                if p.result.outcome == Outcome.REVIEW:
                    explain_review(p, review)
                continue
            try:
                self._plan_row(p, ids, parent_ids, sealed, existing, families, batch_families)
            except RowError as e:
                p.result.outcome = Outcome.ERROR
                p.result.messages += e.messages
                p.child = p.family = None
        for p in planned:
            if p.child is not None:
                self._conclude(p)
        if self.apply and not any(p.result.outcome == Outcome.ERROR for p in planned):
            write_batch(self, planned, batch_families)
            for p in planned:
                if p.child is not None and p.result.outcome in (Outcome.NEW, Outcome.UPDATE):
                    self.written.append(p.child.pk)
                    self.written_counties.add(p.child.village_id[:6])
        return [p.result for p in planned]

    def _load_divisions(self, codes: set[str]) -> None:
        missing = codes - set(self.divisions)
        if missing:
            for code, name, level in Division.objects.filter(code__in=missing).values_list(
                "code", "name", "level"
            ):
                self.divisions[code] = (name, level)

    # --- planning one row --------------------------------------------------------------------

    def _plan_row(
        self,
        p: Planned,
        ids: dict[int, str],
        parent_ids: dict[tuple[int, str], str],
        sealed: dict[str, bytes],
        existing: dict[str, Child],
        families: dict[int, Family],
        batch_families: dict[int | str, Family],
    ) -> None:
        row, result = p.row, p.result
        digest = ids[row.line]
        child = existing.get(digest)
        if child is not None:
            if not in_scope(self.actor, child.village_id):
                raise RowError(
                    _(
                        "A child with this ID number is already registered elsewhere. Ask the "
                        "county to transfer the file."
                    )
                )
            if child.village_id != row.village_code:
                raise RowError(
                    _(
                        "This child's file is in %(village)s, not in %(row_village)s: transfer "
                        "the family on the file page first."
                    )
                    % {
                        "village": self._village_name(child.village_id),
                        "row_village": result.village,
                    }
                )
            family = batch_families.get(child.household_id) or families[child.household_id]
            batch_families[child.household_id] = family
            result.outcome = Outcome.UNCHANGED
        else:
            family = family_for_new_child(self, p, parent_ids, families, batch_families)
            child = BLANKS.new(
                Child,
                village_id=row.village_code,
                registered_on=self.as_of,
                status_since=self.as_of,
                created_by_id=self.actor.pk,
                id_number_hash=digest,
                created_at=self.now,
                updated_at=self.now,
            )
            if self.apply:
                child.id_number_enc = sealed[f"child:{row.line}"]
            result.outcome = Outcome.NEW
        p.child, p.family = child, family

        # The child's own facts.
        for key, value in row.child.items():
            if getattr(child, key) != value:
                setattr(child, key, value)
                p.child_changed.add(key)
        if child.pk is None:
            if child.registered_on > self.as_of:
                raise RowError(_("The registration date cannot be in the future."))
            child.status_since = child.registered_on
            if self.apply:  # search keys: not needed for a preview
                child.name_pinyin, child.name_initials = self._pinyin(child.name)
            if child.disability_grade and not child.disability_since:
                child.disability_since = self.as_of
            if child.serious_illness and not child.illness_since:
                child.illness_since = self.as_of
        else:
            if "disability_grade" in p.child_changed and child.disability_grade:
                child.disability_since = self.as_of
                p.child_changed.add("disability_since")
            if "serious_illness" in p.child_changed and child.serious_illness:
                child.illness_since = self.as_of
                p.child_changed.add("illness_since")
            if "name" in p.child_changed:
                child.name_pinyin, child.name_initials = self._pinyin(child.name)
        # The family's facts, shared with siblings: what changes there is reported on every
        # row of the family, once all rows of the batch are read (``_conclude``).
        first = family.first_row is None
        if first:
            family.first_row = row
        elif not family.shared:
            self._record_first_row(family, parent_ids)
            family.shared = True
        family.labels += self._apply_household(p, family, first, sealed)
        for parent in row.parents:
            family.labels += self._apply_parent(p, family, parent, parent_ids, sealed, first)

    def _record_first_row(self, family: Family, parent_ids: dict[tuple[int, str], str]) -> None:
        """The facts the family's first row of the batch set, as ``_set_shared`` records them."""
        row = family.first_row
        assert row is not None
        mark = family.set_by
        for key, value in row.household.items():
            mark[("household", key)] = (row.line, value)
        for parent in row.parents:
            role = parent.role
            for key, value in parent.fields.items():
                mark[(role, key)] = (row.line, value)
            if (digest := parent_ids.get((row.line, role))) is not None:
                mark[(role, "id")] = (row.line, digest)
            for key, value in (
                ("work_place", parent.work_place),
                ("destination", parent.destination),
                ("left_on", parent.left_on),
            ):
                if value:
                    mark[(role, "spell", key)] = (row.line, value)

    def _conclude(self, p: Planned) -> None:
        """The row's outcome and categories, with its family as the whole batch left it."""
        child, family, result = p.child, p.family, p.result
        assert child is not None
        assert family is not None
        if result.outcome == Outcome.UNCHANGED and (p.child_changed or family.labels):
            result.outcome = Outcome.UPDATE
        if result.outcome == Outcome.UPDATE:
            # Labels only for updates: a new file's "changes" are all its fields.
            result.changes = sorted(
                {field_label(Child, k) for k in p.child_changed}
                | {fact_label(fact) for fact in family.labels}
            )
        p.facts = self.facts(child, family)
        classification = rules.classify(p.facts, self.as_of, self.thresholds)
        result.categories = [(str(c.code), c.reason) for c in classification.categories]
        if result.outcome != Outcome.UNCHANGED:
            child.categories = [{"code": code, "reason": why} for code, why in result.categories]
            # left_behind comes first when it applies (rules.classify).
            child.left_behind = bool(result.categories) and result.categories[0][0] == "left_behind"
            child.in_difficulty = classification.in_difficulty
            child.classified_on = self.as_of

    def _set_shared(self, p: Planned, family: Family, fact: Fact, value: Any) -> bool:
        """A fact of the family as this row gives it; False when an earlier sibling row of the
        batch gave it otherwise and that value stays. Facts the categories depend on must
        agree (an error); for the others the first row wins, with a warning."""
        earlier = family.set_by.get(fact)
        if earlier is not None and earlier[0] != p.row.line and earlier[1] != value:
            label = fact_label(fact)
            if fact[-1] in _DECISIVE:
                raise RowError(
                    _(
                        "Row %(line)d gives this child's family a different %(field)s; the "
                        "rows of one family must agree."
                    )
                    % {"line": earlier[0], "field": label}
                )
            p.result.warnings.append(
                _("Row %(line)d gives this child's family a different %(field)s; kept that one.")
                % {"line": earlier[0], "field": label}
            )
            return False
        family.set_by[fact] = (p.row.line, value)
        return True

    def _apply_household(
        self, p: Planned, family: Family, first: bool, sealed: dict[str, bytes]
    ) -> list[Fact]:
        household, changes = family.household, list[Fact]()
        for key, value in p.row.household.items():
            fact: Fact = ("household", key)
            if not first and not self._set_shared(p, family, fact, value):
                continue
            if getattr(household, key) != value:
                setattr(household, key, value)
                family.changed.add(key)
                changes.append(fact)
                if key == "caregiver_id_hash":  # the number itself goes with its hash
                    household.caregiver_id_enc = sealed.get(value) or None
                    family.changed.add("caregiver_id_enc")
                if key in ("dibao", "tekun") and value:
                    setattr(household, f"{key}_since", self.as_of)
                    family.changed.add(f"{key}_since")
        return changes

    def _apply_parent(
        self,
        p: Planned,
        family: Family,
        given: LedgerParent,
        parent_ids: dict[tuple[int, str], str],
        sealed: dict[str, bytes],
        first: bool,
    ) -> list[Fact]:
        role = given.role
        parent = family.parents.get(role)
        digest = parent_ids.get((p.row.line, role))
        values = dict(given.fields)
        created_here = parent is None
        if parent is None:
            if not values and not digest and not given.away:
                return []
            parent = BLANKS.new(Parent, household_id=family.household.pk, role=role)
            family.parents[role] = parent
            family.spells[role] = []
            family.parents_new.add(role)
        changes: list[Fact] = []
        for key, value in values.items():
            fact: Fact = (role, key)
            if not first and not self._set_shared(p, family, fact, value):
                continue
            if getattr(parent, key) != value:
                setattr(parent, key, value)
                family.parents_changed[role].add(key)
                changes.append(fact)
        if (
            digest
            and (first or self._set_shared(p, family, (role, "id"), digest))
            and parent.id_number_hash != digest
        ):
            parent.id_number_hash = digest
            parent.id_number_enc = sealed.get(digest) or None
            family.parents_changed[role] |= {"id_number_hash", "id_number_enc"}
            changes.append((role, "id"))
        if given.away:
            changes += self._apply_spell(p, family, role, given, first)
        return [(role, "record")] if created_here else changes

    def _apply_spell(
        self, p: Planned, family: Family, role: str, given: LedgerParent, first: bool
    ) -> list[Fact]:
        spells = family.spells.setdefault(role, [])
        open_spell = next((m for m in reversed(spells) if m.returned_on is None), None)
        wanted: dict[str, Any] = {}
        if given.work_place:
            wanted["work_place"] = given.work_place
        if given.destination:
            wanted["destination"] = given.destination
        if given.left_on:
            wanted["left_on"] = given.left_on
        for key, value in list(wanted.items()):
            if not first and not self._set_shared(p, family, (role, "spell", key), value):
                del wanted[key]
        if open_spell is None:
            if "destination" not in wanted:
                raise RowError(
                    _("Say where %(parent)s works (%(column)s), so the distance can be known.")
                    % {"parent": parent_label(role), "column": "外出去向"}
                )
            spell = BLANKS.new(
                Migration,
                parent_id=family.parents[role].pk,
                left_on=given.left_on,
                known_since=None if given.left_on else self.as_of,
                destination=wanted["destination"],
                work_place=given.work_place,
            )
            spells.append(spell)
            family.spells_new.append((role, spell))
            return [(role, "spell", "record")]
        changed = {k for k, v in wanted.items() if getattr(open_spell, k) != v}
        if not changed:
            return []
        if (
            "left_on" in changed
            and open_spell.returned_on
            and given.left_on
            and (open_spell.returned_on < given.left_on)
        ):
            raise RowError(_("The return cannot come before the departure."))
        for key in changed:
            setattr(open_spell, key, wanted[key])
        if open_spell.pk is None:
            return [(role, "spell", "record")]
        entry = family.spells_changed.setdefault(open_spell.pk, (open_spell, set()))
        entry[1].update(changed)
        return [(role, "spell", k) for k in sorted(changed)]

    def facts(self, child: Child, family: Family) -> rules.ChildFacts:
        father = family.parents.get(ParentRole.FATHER)
        mother = family.parents.get(ParentRole.MOTHER)
        level = self.divisions.get(child.village_id, ("", Level.VILLAGE))[1]
        household = family.household
        return rules.ChildFacts(
            birth_date=child.birth_date,
            lives_in=rules.Residence.VILLAGE
            if level == Level.VILLAGE
            else rules.Residence.COMMUNITY,
            father=parent_facts(father, family.spells.get(ParentRole.FATHER, [])),
            mother=parent_facts(mother, family.spells.get(ParentRole.MOTHER, [])),
            parents_divorced=household.parents_divorced,
            dibao=household.dibao,
            tekun=household.tekun,
            disability_grade=child.disability_grade,
            serious_illness=child.serious_illness,
        )

    def _pinyin(self, name: str) -> tuple[str, str]:
        keys = self.pinyin.get(name)
        if keys is None:
            keys = self.pinyin[name] = fast_name_keys(name)
        return keys

    def _village_name(self, code: str) -> str:
        self._load_divisions({code})
        return self.divisions.get(code, (code, ""))[0]


@lru_cache(maxsize=16384)
def _char_keys(char: str) -> tuple[str, str]:
    return name_keys(char)


def _has_phrase(name: str) -> bool:
    return any(
        name[i:j] in PHRASES_DICT for i in range(len(name)) for j in range(i + 2, len(name) + 1)
    )


def fast_name_keys(name: str) -> tuple[str, str]:
    """``name_keys(name)``, character by character when that reads the same: a name of Chinese
    characters none of whose parts is one of pypinyin's phrases (pypinyin then reads each
    character alone). A fifth of the cost, which counts at 100,000 names."""
    if name and all("\u4e00" <= char <= "\u9fff" for char in name) and not _has_phrase(name):
        keys = [_char_keys(char) for char in name]
        return "".join(k[0] for k in keys), "".join(k[1] for k in keys)
    return name_keys(name)
