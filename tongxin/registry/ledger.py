"""The registry's side of a ledger import (台账导入): rows already read from a spreadsheet are
matched to the files they describe, checked, classified and, when applied, written in bulk.

The caller (``tongxin.interop``) turns each spreadsheet row into a ``LedgerRow`` of plain
values; here each row becomes a ``RowResult``: new, update, unchanged, review or error, with
its reasons and the categories ``rules.classify`` computes for it on the import date.

How rows are matched:

- **By ID number** (its keyed hash). A number already on a file outside the user's division is
  an error that reveals nothing else. The same number twice in one file is an error.
- **Rows without an ID number** are never applied: they are listed for review, with the file
  they would be matched to (same name and birth date in the same village) or none.
- **Families**: a child already registered keeps their household. A new child joins the
  household of a parent with the same ID number in the same village (a sibling registered
  before, or earlier in the same file), else gets a new household. Sibling rows of the same
  batch that give different values for a fact of the family are an error.

What a row changes: a filled cell sets the value; an empty cell never clears a stored one
(ledgers are often incomplete, and facts entered on the file page must not be lost). A parent
with a work place gets an open migration spell, or their open spell is updated; the national
form has no departure date, so a new spell without one starts "unknown", known since the
import date (``rules``: it counts as 3 months away from then on).

Writing (``apply=True``): everything in one transaction, which the caller opens; rows in
batches of ``BATCH_SIZE``, each batch read with a constant number of queries (children by ID
hash, their households, parents and spells, parents by ID hash, name matches for review rows,
divisions); new rows written by the fast inserts at the end of this module (``executemany``
on SQLite, a binary ``COPY`` per table on PostgreSQL, sent while the next batch is read),
updates with ``bulk_update_with_history``, the history rows too, so the file's history shows
the import under the importing user with ``change_reason``. An error row aborts the apply:
nothing is written.
"""

from __future__ import annotations

import gc
import json
import queue
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache
from itertools import islice
from operator import itemgetter
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections
from django.db.models import Model
from django.db.models.base import ModelState
from django.utils import timezone
from django.utils.translation import gettext as _
from pypinyin.constants import PHRASES_DICT
from simple_history.utils import bulk_update_with_history

from tongxin.accounts.models import User
from tongxin.geo.models import Division, Level
from tongxin.geo.regions import known_region
from tongxin.geo.scope import in_scope, scope_q
from tongxin.lib import crypto, idcard
from tongxin.lib.pinyin import name_keys
from tongxin.lib.plausible import birth_date_error, event_date_error, person_birth_date_error
from tongxin.registry import duplicates, policy, rules
from tongxin.registry.models import (
    CategorySpan,
    Child,
    Household,
    Migration,
    Parent,
    ParentRole,
)
from tongxin.registry.selectors import parent_facts
from tongxin.registry.services import CHILD_FIELDS, HOUSEHOLD_FIELDS, PARENT_FIELDS

BATCH_SIZE = 2000
# A fact of a family: ("household", field), (role, field), (role, "id"), (role, "record"),
# (role, "spell", field) or (role, "spell", "record").
type Fact = tuple[str, ...]
ROLES = (ParentRole.FATHER, ParentRole.MOTHER)
# Facts of a family the categories depend on: sibling rows that disagree on one are an error.
_DECISIVE = frozenset(
    {"parents_divorced", "dibao", "tekun", "status", "capacity", "destination", "left_on", "id"}
)


class Outcome(StrEnum):
    NEW = "new"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    REVIEW = "review"
    ERROR = "error"


@dataclass(slots=True)
class LedgerParent:
    """What a row says of the father or the mother. ``fields``: ``PARENT_FIELDS`` given."""

    role: str
    fields: dict[str, Any] = field(default_factory=dict)
    id_number: str = ""
    work_place: str = ""
    destination: str | None = None  # derived from the work place by the caller when not given
    left_on: date | None = None

    @property
    def away(self) -> bool:
        return bool(self.work_place or self.destination or self.left_on)


@dataclass(slots=True)
class LedgerRow:
    """One spreadsheet row as plain values. ``child``/``household`` hold only the fields the
    row gives (``CHILD_FIELDS``/``HOUSEHOLD_FIELDS``; the household also the caregiver's
    ``caregiver_id_hash`` once the number is checked); ``errors`` found while reading the
    cells make the row an error without further checks."""

    line: int
    name: str = ""
    village_code: str = ""
    id_number: str = ""
    # The entrusted caregiver's (委托监护人) number: checked like a parent's, stored encrypted
    # on the household with its keyed hash (the household's caregiver, see interop.mapping).
    caregiver_id_number: str = ""
    child: dict[str, Any] = field(default_factory=dict)
    household: dict[str, Any] = field(default_factory=dict)
    parents: list[LedgerParent] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RowResult:
    """What importing one row does (or did)."""

    line: int
    outcome: Outcome
    name: str = ""
    village: str = ""
    id_masked: str = ""
    messages: list[str] = field(default_factory=list)  # errors, or why the row needs review
    warnings: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # labels of the facts that change
    categories: list[tuple[str, str]] = field(default_factory=list)  # (code, reason)


class LedgerRejected(Exception):
    """Applying stopped at an error row; the caller's transaction rolls everything back."""

    def __init__(self, result: RowResult) -> None:
        super().__init__(f"row {result.line}: {'; '.join(result.messages)}")
        self.result = result


def _counts() -> dict[str, int]:
    return dict.fromkeys([*Outcome, "total"], 0)


def ledger_import(
    *,
    actor: User,
    rows: Iterable[LedgerRow],
    as_of: date | None = None,
    apply: bool = False,
    change_reason: str = "ledger import",
    on_result: Callable[[RowResult], None] | None = None,
    on_batch: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> dict[str, int]:
    """Preview (``apply=False``: nothing is written) or apply the rows; the counts per outcome.

    Applying must run inside the caller's ``transaction.atomic()`` (with its audit entry):
    on the first error row it raises ``LedgerRejected`` and the transaction is rolled back.
    ``on_result`` sees every row's result, ``on_batch`` the number of rows done so far.
    """
    if actor.is_read_only or not actor.keeps_child_files:
        raise PermissionDenied
    run = _Run(actor, as_of or timezone.localdate(), apply, change_reason)
    counts = _counts()
    iterator = iter(rows)
    with _sqlite_cache(apply), _fewer_collections(), run.writer:
        while batch := list(islice(iterator, batch_size)):
            for result in run.batch(batch):
                counts[result.outcome] += 1
                counts["total"] += 1
                if on_result is not None:
                    on_result(result)
                if apply and result.outcome == Outcome.ERROR:
                    raise LedgerRejected(result)
            if on_batch is not None:
                on_batch(counts["total"])
            gc.collect(0)
    if apply and run.written:
        # New and changed files may be another file's duplicate: queued for review now, in
        # the import's transaction, rather than at the next daily run (pairs inside a county,
        # as ``manage.py find_duplicates --division`` finds them).
        for county in sorted(run.written_counties):
            duplicates.candidates_refresh(prefix=county, children=run.written)
    return counts


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Python's cycle collector scans the young objects every 700 allocations; an import keeps
    a batch of rows (some 30,000 objects) alive at a time, so those scans find nothing to free
    and cost a tenth of the import. The rows hold no reference cycles (reference counting frees
    them), so the collector is paused while the import runs and the young generation collected
    once per batch (``ledger_import``)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def _sqlite_cache(apply: bool) -> Iterator[None]:
    """SQLite's page cache (2 MB by default) made 256 MB while an import writes: the indexes of
    a hundred thousand new rows then stay in memory instead of being read back page by page."""
    if not apply or connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute("PRAGMA cache_size = -262144")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


# --- one run ---------------------------------------------------------------------------------


@dataclass
class _Family:
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


@dataclass
class _Planned:
    row: LedgerRow
    result: RowResult
    child: Child | None = None
    family: _Family | None = None
    child_changed: set[str] = field(default_factory=set)
    facts: rules.ChildFacts | None = None


class _RowError(Exception):
    def __init__(self, *messages: str) -> None:
        self.messages = list(messages)


class _Run:
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
        self.pinyin: dict[str, tuple[str, str]] = {}
        self.writer = _Writer()
        self.written: list[int] = []  # the children new or updated (apply)
        self.written_counties: set[str] = set()
        # Dates repeat from row to row (birthdays, months of departure): each checked once.
        self.plausible: dict[tuple[Any, ...], str | None] = {}

    def _date_error(
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
            _Planned(row, RowResult(line=row.line, outcome=Outcome.NEW, name=row.name))
            for row in rows
        ]
        self._load_divisions({p.row.village_code for p in planned if p.row.village_code})
        ids: dict[int, str] = {}  # line → child hash
        parent_ids: dict[tuple[int, str], str] = {}  # (line, role) → parent hash
        sealed: dict[str, bytes] = {}
        for p in planned:
            self._check_row(p, ids, parent_ids, sealed)

        existing = self._existing_children(set(ids.values()))
        families = self._families_of(existing, parent_ids, planned)
        review = self._review_candidates([p for p in planned if p.result.outcome == Outcome.REVIEW])

        batch_families: dict[int | str, _Family] = {}
        for p in planned:
            if p.result.outcome in (Outcome.ERROR, Outcome.REVIEW):
                if p.result.outcome == Outcome.REVIEW:
                    self._explain_review(p, review)
                continue
            try:
                self._plan_row(p, ids, parent_ids, sealed, existing, families, batch_families)
            except _RowError as e:
                p.result.outcome = Outcome.ERROR
                p.result.messages += e.messages
                p.child = p.family = None
        for p in planned:
            if p.child is not None:
                self._conclude(p)
        if self.apply and not any(p.result.outcome == Outcome.ERROR for p in planned):
            self._write(planned, batch_families)
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

    def _check_row(
        self,
        p: _Planned,
        ids: dict[int, str],
        parent_ids: dict[tuple[int, str], str],
        sealed: dict[str, bytes],
    ) -> None:
        """Checks that need no stored file: the row's own errors, scope, ID numbers."""
        row, result = p.row, p.result
        result.warnings = list(row.warnings)
        village = self.divisions.get(row.village_code)
        result.village = village[0] if village else ""
        errors = list(row.errors)
        if row.village_code and village is None:
            errors.append(_("No such village."))
        elif village is not None and village[1] not in (Level.VILLAGE, Level.COMMUNITY):
            errors.append(_("Choose a village or community."))
        elif village is not None and not in_scope(self.actor, row.village_code):
            errors.append(
                _("%(village)s lies outside your division: you cannot import its children.")
                % {"village": village[0]}
            )
        if not row.child.get("name") and not row.name:  # a bad name is already an error
            errors.append(_("The child's name is missing."))
        number = ""
        if row.id_number:
            quick = _quick_number(row.id_number, self.as_of)
            if quick is not None and not _id_warnings(quick, row.child, self.as_of):
                number = quick[0]
                row.child.setdefault("birth_date", quick[1])
                row.child.setdefault("gender", _id_gender(number))
            else:
                # Something to say about the number: idcard.validate says it.
                check = idcard.validate(
                    row.id_number,
                    today=self.as_of,
                    known_region=known_region,
                    birth_date=row.child.get("birth_date"),
                    gender=row.child.get("gender"),
                )
                number = check.number
                if check.errors:
                    errors += [_("ID number: %(error)s") % {"error": e} for e in check.errors]
                else:
                    result.warnings += check.warnings
                    row.child.setdefault("birth_date", check.birth_date)
                    row.child.setdefault("gender", check.gender)
            result.id_masked = idcard.mask(number)
        birth = row.child.get("birth_date")
        if not birth:
            errors.append(_("The birth date is missing."))
        elif error := self._date_error(birth_date_error, birth):
            errors.append(error)
        elif (registered := row.child.get("registered_on")) and (
            error := self._date_error(event_date_error, registered, not_before=birth)
        ):
            errors.append(_said(_label(Child, "registered_on"), error))
        if not row.child.get("gender"):
            errors.append(_("The gender is missing."))
        for parent in row.parents:
            who = _parent_label(parent.role)
            if (born := parent.fields.get("birth_date")) and (
                error := self._date_error(person_birth_date_error, born)
            ):
                errors.append(_said(_of(who, _label(Parent, "birth_date")), error))
            if parent.left_on and (error := self._date_error(event_date_error, parent.left_on)):
                errors.append(_said(_of(who, _label(Migration, "left_on")), error))
        for parent in row.parents:
            if not parent.id_number:
                continue
            # Parents' numbers are checked the fast way; only a failing one goes through
            # idcard.validate, for its messages (its warnings do not concern an adult).
            quick = _quick_number(parent.id_number, self.as_of)
            if quick is None:
                pcheck = idcard.validate(parent.id_number, today=self.as_of)
                errors += [
                    _("%(parent)s's ID number: %(error)s")
                    % {"parent": _parent_label(parent.role), "error": e}
                    for e in pcheck.errors
                ]
                continue
            pnumber, born = quick
            parent.fields.setdefault("birth_date", born)
            digest = crypto.lookup_hash(pnumber)
            parent_ids[(row.line, parent.role)] = digest
            if digest not in sealed:
                sealed[digest] = crypto.encrypt(pnumber) if self.apply else b""
        if row.caregiver_id_number:
            # Like the parents' numbers; a bad one is the row's error, with its reason.
            quick = _quick_number(row.caregiver_id_number, self.as_of)
            if quick is None:
                ccheck = idcard.validate(row.caregiver_id_number, today=self.as_of)
                errors += [
                    _("The caregiver's ID number: %(error)s") % {"error": e} for e in ccheck.errors
                ]
            else:
                digest = crypto.lookup_hash(quick[0])
                row.household["caregiver_id_hash"] = digest
                if digest not in sealed:
                    sealed[digest] = crypto.encrypt(quick[0]) if self.apply else b""
        if errors:
            result.outcome = Outcome.ERROR
            result.messages = errors
            return
        if not number:
            result.outcome = Outcome.REVIEW
            return
        digest = crypto.lookup_hash(number)
        first = self.seen_ids.get(digest)
        if first is not None:
            result.outcome = Outcome.ERROR
            result.messages = [
                _("The same ID number is already on row %(line)d of this file.") % {"line": first}
            ]
            return
        self.seen_ids[digest] = row.line
        ids[row.line] = digest
        if self.apply:
            sealed[f"child:{row.line}"] = crypto.encrypt(number)

    def _existing_children(self, hashes: set[str]) -> dict[str, Child]:
        if not hashes:
            return {}
        queryset = Child.objects.filter(id_number_hash__in=hashes).select_related("household")
        if self.apply:
            queryset = queryset.select_for_update(of=("self",))
        return {c.id_number_hash or "": c for c in queryset}

    def _families_of(
        self,
        existing: dict[str, Child],
        parent_ids: dict[tuple[int, str], str],
        planned: list[_Planned],
    ) -> dict[int, _Family]:
        """Stored households this batch may touch, by pk: those of the children found, those of
        parents found by ID number (siblings), and those this run created in earlier batches."""
        household_pks = {c.household_id for c in existing.values()}
        by_parent: dict[tuple[str, str], int] = {}
        village_of = {p.row.line: p.row.village_code for p in planned}
        wanted = {(village_of[line], h) for (line, _role), h in parent_ids.items()}
        for key in wanted:
            known = self.new_families.get(key)
            if isinstance(known, int):
                by_parent[key] = known
        lookup = {h for (_v, h) in wanted if (_v, h) not in self.new_families}
        if lookup:
            for pk, village, digest in (
                Parent.objects.filter(id_number_hash__in=lookup)
                .filter(scope_q(self.actor, "household__village__code"))
                .values_list("household_id", "household__village_id", "id_number_hash")
                .order_by("household_id")
            ):
                by_parent.setdefault((village, digest), pk)
        household_pks |= set(by_parent.values())
        self._by_parent = by_parent
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
        families: dict[int, _Family] = {}
        for h in households:
            own = by_household[h.pk]
            families[h.pk] = _Family(
                household=h,
                parents=own,
                spells={role: spells[par.pk] for role, par in own.items()},
                is_new=False,
                first_line=0,
            )
        return families

    def _review_candidates(self, planned: list[_Planned]) -> dict[tuple[Any, ...], Child]:
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
        for c in Child.objects.visible_to(self.actor).filter(name__in=names, birth_date__in=births):
            found.setdefault((c.village_id, c.name, c.birth_date), c)
        return found

    def _explain_review(self, p: _Planned, candidates: dict[tuple[Any, ...], Child]) -> None:
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

    # --- planning one row --------------------------------------------------------------------

    def _plan_row(
        self,
        p: _Planned,
        ids: dict[int, str],
        parent_ids: dict[tuple[int, str], str],
        sealed: dict[str, bytes],
        existing: dict[str, Child],
        families: dict[int, _Family],
        batch_families: dict[int | str, _Family],
    ) -> None:
        row, result = p.row, p.result
        digest = ids[row.line]
        child = existing.get(digest)
        if child is not None:
            if not in_scope(self.actor, child.village_id):
                raise _RowError(
                    _(
                        "A child with this ID number is already registered elsewhere. Ask the "
                        "county to transfer the file."
                    )
                )
            if child.village_id != row.village_code:
                raise _RowError(
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
            family = self._family_for_new_child(p, parent_ids, families, batch_families)
            child = _BLANKS.new(
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
                raise _RowError(_("The registration date cannot be in the future."))
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

    def _record_first_row(self, family: _Family, parent_ids: dict[tuple[int, str], str]) -> None:
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

    def _conclude(self, p: _Planned) -> None:
        """The row's outcome and categories, with its family as the whole batch left it."""
        child, family, result = p.child, p.family, p.result
        assert child is not None
        assert family is not None
        if result.outcome == Outcome.UNCHANGED and (p.child_changed or family.labels):
            result.outcome = Outcome.UPDATE
        if result.outcome == Outcome.UPDATE:
            # Labels only for updates: a new file's "changes" are all its fields.
            result.changes = sorted(
                {_label(Child, k) for k in p.child_changed}
                | {_fact_label(fact) for fact in family.labels}
            )
        p.facts = self._facts(child, family)
        classification = rules.classify(p.facts, self.as_of, self.thresholds)
        result.categories = [(str(c.code), c.reason) for c in classification.categories]
        if result.outcome != Outcome.UNCHANGED:
            child.categories = [{"code": code, "reason": why} for code, why in result.categories]
            # left_behind comes first when it applies (rules.classify).
            child.left_behind = bool(result.categories) and result.categories[0][0] == "left_behind"
            child.in_difficulty = classification.in_difficulty
            child.classified_on = self.as_of

    def _family_for_new_child(
        self,
        p: _Planned,
        parent_ids: dict[tuple[int, str], str],
        families: dict[int, _Family],
        batch_families: dict[int | str, _Family],
    ) -> _Family:
        row = p.row
        keys = [
            (row.village_code, parent_ids[(row.line, role)])
            for role in ROLES
            if (row.line, role) in parent_ids
        ]
        for key in keys:
            pk = self._by_parent.get(key)
            if pk is not None:
                family = batch_families.get(pk) or families[pk]
                batch_families[pk] = family
                return family
            marker = self.new_families.get(key)
            if isinstance(marker, str) and marker in batch_families:
                return batch_families[marker]
        household = _BLANKS.new(
            Household, village_id=row.village_code, created_at=self.now, updated_at=self.now
        )
        family = _Family(
            household=household, parents={}, spells={}, is_new=True, first_line=row.line
        )
        marker = f"row:{row.line}"
        batch_families[marker] = family
        for key in keys:
            if key not in self.new_families:
                self.new_families[key] = marker
                self.batch_keys.append(key)
        return family

    def _set_shared(self, p: _Planned, family: _Family, fact: Fact, value: Any) -> bool:
        """A fact of the family as this row gives it; False when an earlier sibling row of the
        batch gave it otherwise and that value stays. Facts the categories depend on must
        agree (an error); for the others the first row wins, with a warning."""
        earlier = family.set_by.get(fact)
        if earlier is not None and earlier[0] != p.row.line and earlier[1] != value:
            label = _fact_label(fact)
            if fact[-1] in _DECISIVE:
                raise _RowError(
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
        self, p: _Planned, family: _Family, first: bool, sealed: dict[str, bytes]
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
        p: _Planned,
        family: _Family,
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
            parent = _BLANKS.new(Parent, household_id=family.household.pk, role=role)
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
        self, p: _Planned, family: _Family, role: str, given: LedgerParent, first: bool
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
                raise _RowError(
                    _("Say where %(parent)s works (%(column)s), so the distance can be known.")
                    % {"parent": _parent_label(role), "column": "外出去向"}
                )
            spell = _BLANKS.new(
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
            raise _RowError(_("The return cannot come before the departure."))
        for key in changed:
            setattr(open_spell, key, wanted[key])
        if open_spell.pk is None:
            return [(role, "spell", "record")]
        entry = family.spells_changed.setdefault(open_spell.pk, (open_spell, set()))
        entry[1].update(changed)
        return [(role, "spell", k) for k in sorted(changed)]

    def _facts(self, child: Child, family: _Family) -> rules.ChildFacts:
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

    # --- writing a batch ---------------------------------------------------------------------

    def _history(self) -> dict[str, Any]:
        return {"default_user": self.actor, "default_change_reason": self.reason}

    def _reserve(self, *groups: list[Any]) -> None:
        """Ids for the new rows of a batch, each group of one model, all before the first
        row is sent (PostgreSQL: queries wait for the COPYs sent before them)."""
        for objs in groups:
            if objs:
                for obj, pk in zip(objs, _reserve_ids(type(objs[0]), len(objs)), strict=True):
                    obj.pk = pk

    def _insert(self, model: type[Model], objs: list[Any]) -> None:
        """New rows (ids reserved) and their history rows ("+", by the actor, with the change
        reason), the history rows made from the rows themselves."""
        if not objs:
            return
        db = self.writer.db
        table = _table(model, with_pk=True)
        rows = table.rows(db, objs)
        self.writer.insert(table, rows)
        history = _table(model.history.model)  # type: ignore[attr-defined]
        fixed = {
            "history_date": self.now,
            "history_change_reason": self.reason,
            "history_type": "+",
            "history_user_id": self.actor.pk,
        }
        try:
            history_rows = history.rows_like(db, table, rows, **fixed)
        except LookupError:
            history_rows = history.rows(db, objs, **fixed)
        self.writer.insert(history, history_rows)
        for obj in objs:
            obj._state.adding, obj._state.db = False, "default"

    def _add(self, model: type[Model], objs: list[Any]) -> None:
        """New rows without history (category spans), their ids from the database."""
        table = _table(model)
        self.writer.insert(table, table.rows(self.writer.db, objs))

    def _write(self, planned: list[_Planned], batch_families: dict[int | str, _Family]) -> None:
        now, history = self.now, self._history()
        families = list(batch_families.values())
        new_households = [f.household for f in families if f.is_new]
        self._reserve(
            new_households,
            [f.parents[role] for f in families for role in sorted(f.parents_new)],
            [spell for f in families for _role, spell in f.spells_new],
            [
                p.child
                for p in planned
                if p.child is not None and p.family is not None and p.result.outcome == Outcome.NEW
            ],
        )

        self._insert(Household, new_households)
        changed_households = [f for f in families if not f.is_new and f.changed]
        if changed_households:
            for f in changed_households:
                f.household.version += 1
                f.household.updated_at = now
            fields = set().union(*(f.changed for f in changed_households))
            bulk_update_with_history(
                [f.household for f in changed_households],
                Household,
                [*sorted(fields), "version", "updated_at"],
                **history,
            )

        new_parents: list[Parent] = []
        changed_parents: list[Parent] = []
        parent_fields: set[str] = set()
        for f in families:
            for role, parent in f.parents.items():
                parent.household_id = f.household.pk
                if role in f.parents_new:
                    new_parents.append(parent)
                elif f.parents_changed.get(role):
                    changed_parents.append(parent)
                    parent_fields |= f.parents_changed[role]
        self._insert(Parent, new_parents)
        if changed_parents:
            bulk_update_with_history(changed_parents, Parent, sorted(parent_fields), **history)

        new_spells: list[Migration] = []
        changed_spells: list[Migration] = []
        spell_fields: set[str] = set()
        for f in families:
            for role, spell in f.spells_new:
                spell.parent_id = f.parents[role].pk
                new_spells.append(spell)
            for spell, changed in f.spells_changed.values():
                changed_spells.append(spell)
                spell_fields |= changed
        self._insert(Migration, new_spells)
        if changed_spells:
            bulk_update_with_history(changed_spells, Migration, sorted(spell_fields), **history)

        new_children: list[Child] = []
        changed_children: list[_Planned] = []
        for p in planned:
            if p.child is None or p.family is None:
                continue
            p.child.household_id = p.family.household.pk
            if p.result.outcome == Outcome.NEW:
                new_children.append(p.child)
            elif p.result.outcome == Outcome.UPDATE and p.child_changed:
                changed_children.append(p)
        if new_children:
            self._insert(Child, new_children)
            spans = []
            for p in planned:
                if p.result.outcome == Outcome.NEW and p.child is not None and p.facts:
                    registered = p.child.registered_on
                    if registered == self.as_of:  # registered today: today's categories
                        spans += [
                            _BLANKS.new(
                                CategorySpan, child_id=p.child.pk, code=code, start=registered
                            )
                            for code, _reason in p.result.categories
                        ]
                        continue
                    spans += [
                        _BLANKS.new(
                            CategorySpan,
                            child_id=p.child.pk,
                            code=str(s.code),
                            start=s.start,
                            end=s.end,
                        )
                        for s in rules.category_history(
                            [(registered, p.facts)], registered, self.as_of, self.thresholds
                        )
                    ]
            self._add(CategorySpan, spans)
        if changed_children:
            child_fields: set[str] = set()
            for p in changed_children:
                assert p.child is not None
                p.child.version += 1
                p.child.updated_at = now
                child_fields |= p.child_changed
            if child_fields & {"name"}:
                child_fields |= {"name_pinyin", "name_initials"}
            child_fields |= {"categories", "left_behind", "in_difficulty", "classified_on"}
            bulk_update_with_history(
                [p.child for p in changed_children if p.child is not None],
                Child,
                [*sorted(child_fields), "version", "updated_at"],
                **history,
            )

        # Children whose categories may move: those updated here (their own facts or their
        # family's), and their siblings registered before but not in this file.
        touched = [f for f in families if not f.is_new and f.touched]
        in_file = {p.child.pk for p in planned if p.child is not None and p.child.pk}
        reclassified: list[tuple[Child, tuple[str, ...]]] = [
            (p.child, tuple(code for code, _r in p.result.categories))
            for p in planned
            if p.child is not None and p.result.outcome == Outcome.UPDATE
        ]
        if touched:
            by_household = {f.household.pk: f for f in touched}
            siblings = list(
                Child.objects.filter(household_id__in=by_household).exclude(pk__in=in_file)
            )
            sibling_updates = []
            for sibling in siblings:
                result = rules.classify(
                    self._facts(sibling, by_household[sibling.household_id]),
                    self.as_of,
                    self.thresholds,
                )
                categories = [{"code": str(c.code), "reason": c.reason} for c in result.categories]
                if categories != sibling.categories:
                    sibling.categories = categories
                    sibling.left_behind = rules.CategoryCode.LEFT_BEHIND in result.codes
                    sibling.in_difficulty = result.in_difficulty
                    sibling.classified_on = self.as_of
                    sibling_updates.append(sibling)
                    reclassified.append((sibling, tuple(str(c) for c in result.codes)))
            if sibling_updates:
                Child.objects.bulk_update(
                    sibling_updates,
                    ["categories", "left_behind", "in_difficulty", "classified_on"],
                )
            if reclassified:
                # Children updated only through their family still carry the new categories.
                family_only = [
                    p.child
                    for p in planned
                    if p.child is not None
                    and p.result.outcome == Outcome.UPDATE
                    and not p.child_changed
                ]
                if family_only:
                    Child.objects.bulk_update(
                        family_only,
                        ["categories", "left_behind", "in_difficulty", "classified_on"],
                    )
        if reclassified:
            self._move_spans(reclassified)

        # Families created here are stored now: later batches find them by parent ID.
        for key in self.batch_keys:
            marker = self.new_families[key]
            if isinstance(marker, str) and marker in batch_families:
                self.new_families[key] = batch_families[marker].household.pk
        for f in families:
            f.is_new = False

    def _move_spans(self, children: list[tuple[Child, tuple[str, ...]]]) -> None:
        """Category history from the import date on: spans of categories left end today (or go,
        when they began today), spans of categories entered begin today."""
        wanted = {child.pk: set(codes) for child, codes in children}
        open_spans = list(CategorySpan.objects.filter(child_id__in=wanted, end__isnull=True))
        have: dict[int, set[str]] = defaultdict(set)
        to_close, to_delete = [], []
        for span in open_spans:
            if span.code in wanted[span.child_id]:
                have[span.child_id].add(span.code)
            elif span.start >= self.as_of:
                to_delete.append(span.pk)
            else:
                span.end = self.as_of
                to_close.append(span)
        if to_close:
            CategorySpan.objects.bulk_update(to_close, ["end"])
        if to_delete:
            CategorySpan.objects.filter(pk__in=to_delete).delete()
        self._add(
            CategorySpan,
            [
                _BLANKS.new(CategorySpan, child_id=pk, code=code, start=self.as_of)
                for pk, codes in wanted.items()
                for code in sorted(codes - have[pk])
            ],
        )


# --- fast bulk inserts -----------------------------------------------------------------------
#
# Django's bulk_create compiles every value of every row through the ORM (about 5 µs a value);
# an imported row makes some 250 values across the child, household, parents, spells, category
# spans and their history rows, which alone took three times as long as reading the file. New
# rows are therefore written here from rows prepared once per field, into the same tables and
# with the same values the ORM (and simple-history's ``bulk_history_create``) would write; ids
# are reserved from the table's sequence first, so the rows can point at each other. SQLite
# takes them with ``executemany``; PostgreSQL with one binary ``COPY`` per table and batch, sent
# while the next batch is read (``_Writer``). Updates, few by nature, go through
# ``bulk_update_with_history``.

# Field types whose Python values the database drivers take as they are.
_PLAIN_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BinaryField",
        "BooleanField",
        "CharField",
        "ForeignKey",
        "IntegerField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "TextField",
    }
)


class _Blanks:
    """New model instances without ``Model.__init__`` (which costs ten times as much): the
    field defaults are worked out once per model, callables (uuid4, list) called per instance."""

    def __init__(self) -> None:
        self._plans: dict[type[Model], tuple[dict[str, Any], list[tuple[str, Any]]]] = {}

    def new[M: Model](self, model: type[M], **values: Any) -> M:
        plan = self._plans.get(model)
        if plan is None:
            static: dict[str, Any] = {}
            calls: list[tuple[str, Any]] = []
            for f in model._meta.concrete_fields:
                if f.has_default() and callable(f.default):
                    calls.append((f.attname, f.default))
                else:
                    static[f.attname] = f.get_default()
            plan = self._plans[model] = (static, calls)
        obj = model.__new__(model)
        obj._state = ModelState()
        attributes = obj.__dict__
        attributes.update(plan[0])
        for name, make in plan[1]:
            attributes[name] = make()
        attributes.update(values)
        return obj


_BLANKS = _Blanks()

type _Row = Sequence[Any]


class _Table:
    """A table's new rows, from model instances: the values as the database takes them, in
    the order of ``fields``. The pk is left to the database unless ``with_pk`` (ids reserved
    beforehand). Kept per model (``_table``), so it holds no connection: an import in a
    background thread uses its own."""

    def __init__(self, model: type[Model], with_pk: bool) -> None:
        self.fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
        self.attnames = [f.attname for f in self.fields]
        self.db_table = model._meta.db_table
        self._sql: dict[tuple[str, bool], str] = {}
        self._oids: dict[str, list[int]] = {}
        self._picks: dict[tuple[int, tuple[str, ...]], Callable[[_Row], _Row] | None] = {}

    def rows(self, db: Any, objs: Iterable[Any], **fixed: Any) -> list[_Row]:
        """The rows of ``objs``; ``fixed`` gives the same value to a column of every row (the
        history columns). Columns are taken from each instance in one ``itemgetter`` call."""
        get = itemgetter(*(name for name in self.attnames if name not in fixed))
        taken = [f for f in self.fields if f.attname not in fixed]
        preps = [
            (i, prep)
            for i, f in enumerate(taken)
            if _needs_prep(f) and (prep := _prep(f, db)) is not _same
        ]
        tail = self._tail(db, fixed)
        order = self._order(fixed)
        if not (preps or tail):
            return [get(obj.__dict__) for obj in objs]
        rows = []
        for obj in objs:
            row = list(get(obj.__dict__))
            for i, prep in preps:
                value = row[i]
                if value is not None:
                    row[i] = prep(value)
            if tail:
                row += tail
            rows.append(row if order is None else order(row))
        return rows

    def rows_like(self, db: Any, source: _Table, rows: list[_Row], **fixed: Any) -> list[_Row]:
        """Rows of this table (a history table) made from ``source``'s prepared rows of the
        same instances: the columns both have are copied, ``fixed`` fills the others."""
        key = (id(source), tuple(sorted(fixed)))
        if key not in self._picks:
            index = {name: i for i, name in enumerate(source.attnames)}
            width = len(source.attnames)
            positions = []
            for name in self.attnames:
                if name in fixed:
                    positions.append(width + sorted(fixed).index(name))
                elif name in index:
                    positions.append(index[name])
                else:  # a column the source does not have: made from the instances
                    positions = []
                    break
            self._picks[key] = itemgetter(*positions) if len(positions) > 1 else None
        pick = self._picks[key]
        if pick is None:
            raise LookupError(self.db_table)
        extra = tuple(
            None if fixed[name] is None else _prep(self._field(name), db)(fixed[name])
            for name in sorted(fixed)
        )
        return [pick((*row, *extra)) for row in rows]

    def _field(self, name: str) -> Any:
        return next(f for f in self.fields if f.attname == name)

    def _tail(self, db: Any, fixed: dict[str, Any]) -> list[Any]:
        return [
            None if fixed[f.attname] is None else _prep(f, db)(fixed[f.attname])
            for f in self.fields
            if f.attname in fixed
        ]

    def _order(self, fixed: dict[str, Any]) -> Callable[[list[Any]], _Row] | None:
        """Rows are built as (taken columns, fixed columns): back into ``fields`` order."""
        if not fixed:
            return None
        built = [n for n in self.attnames if n not in fixed] + [
            n for n in self.attnames if n in fixed
        ]
        if built == self.attnames:
            return None
        return itemgetter(*(built.index(n) for n in self.attnames))

    def sql(self, db: Any, copy: bool) -> str:
        key = (db.alias, copy)
        sql = self._sql.get(key)
        if sql is None:
            quote = db.ops.quote_name
            names = ", ".join(quote(f.column) for f in self.fields)
            table = quote(self.db_table)
            marks = ", ".join(["%s"] * len(self.fields))
            # Names from the models' own metadata, quoted; the values go as parameters, or as
            # COPY's data.
            sql = self._sql[key] = (
                f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)"
                if copy
                else f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
            )
        return sql

    def oids(self, db: Any) -> list[int]:
        """PostgreSQL's types of the columns, which a binary COPY must name."""
        oids = self._oids.get(db.alias)
        if oids is None:
            with db.cursor() as cursor:
                cursor.execute(
                    "SELECT attname, atttypid FROM pg_attribute "
                    "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                    [db.ops.quote_name(self.db_table)],
                )
                types = dict(cursor.fetchall())
            oids = self._oids[db.alias] = [types[f.column] for f in self.fields]
        return oids


def _needs_prep(f: Any) -> bool:
    return f.get_internal_type() not in _PLAIN_TYPES


def _prep(f: Any, db: Any) -> Callable[[Any], Any]:
    """The field's value as the database takes it. The common types directly (what Django's
    backends do for them; a binary COPY dumps dates, UUIDs and JSON itself); others through
    ``get_db_prep_save``, remembering the last value (the timestamps of an import are one)."""
    kind = f.get_internal_type()
    sqlite = db.vendor == "sqlite"
    if kind == "DateField":
        return date.isoformat if sqlite else _same
    if kind == "UUIDField":
        return _uuid_hex if sqlite else _same
    if kind == "JSONField" and f.encoder is None:
        return _json if sqlite else _same
    last: list[Any] = [object(), None]

    def prep(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, f.get_db_prep_save(value, db)
        return last[1]

    return prep


def _same(value: Any) -> Any:
    return value


def _uuid_hex(value: Any) -> str:
    return str(value.hex)


def _json(value: Any) -> str:
    return json.dumps(value)


_TABLES: dict[tuple[type[Model], bool], _Table] = {}


def _table(model: type[Model], with_pk: bool = False) -> _Table:
    table = _TABLES.get((model, with_pk))
    if table is None:
        table = _TABLES[(model, with_pk)] = _Table(model, with_pk)
    return table


class _Writer:
    """Sends an import's new rows to the database. SQLite: an ``executemany`` per table, at
    once. PostgreSQL: a binary ``COPY`` per table and batch, sent by a thread while the import
    reads and checks the next batch, so that the server's work (rows, indexes, foreign keys)
    overlaps the reading instead of following it.

    The thread uses the import's connection, in its transaction. Every query the import makes
    meanwhile first waits for the COPYs queued before it (an execute wrapper), so statements
    run in the order they were made; ``close`` waits for the last ones before the caller
    commits, and a COPY's error is raised by the next query, or by ``close``. The foreign keys
    (deferred to the commit by Django) are checked at the end of each COPY instead, by the
    thread: only for the COPYs, whose rows come after the rows they point at."""

    def __init__(self) -> None:
        self.db = connections[DEFAULT_DB_ALIAS]
        self.copy = self.db.vendor == "postgresql"
        self._jobs: queue.Queue[tuple[str, list[int], list[_Row]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None  # a COPY's, not yet raised
        self._failed = False
        self._wrapper: AbstractContextManager[None] | None = None

    def insert(self, table: _Table, rows: list[_Row]) -> None:
        if not rows:
            return
        if not self.copy:
            with self.db.cursor() as cursor:
                cursor.executemany(table.sql(self.db, False), rows)
            return
        job = (table.sql(self.db, True), table.oids(self.db), rows)
        if self._thread is None:
            self.db.ensure_connection()
            self._wrapper = self.db.execute_wrapper(self._before_query)
            self._wrapper.__enter__()
            self._thread = threading.Thread(
                target=self._send, args=(self.db.connection,), name="ledger-copy", daemon=True
            )
            self._thread.start()
        self._jobs.put(job)

    def _send(self, conn: Any) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                if not self._failed:  # after an error the transaction is lost anyway
                    sql, oids, rows = job
                    with conn.cursor() as cursor:
                        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                        with cursor.copy(sql) as copy:
                            copy.set_types(oids)
                            write = copy.write_row
                            for row in rows:
                                write(row)
                        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            except BaseException as e:  # raised in the import's thread
                self._failed, self._error = True, e
            finally:
                self._jobs.task_done()
        self._jobs.task_done()

    def _before_query(self, execute: Any, sql: Any, params: Any, many: bool, context: Any) -> Any:
        self.wait()
        return execute(sql, params, many, context)

    def wait(self) -> None:
        """Once the COPYs queued so far are done; their error, as Django's, if one failed."""
        if self._thread is not None:
            self._jobs.join()
        if self._failed:
            error, self._error = self._error, None
            with self.db.wrap_database_errors:
                raise error or DatabaseError("An earlier COPY of this import failed.")

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_rest: object) -> None:
        self.close(failing=kind is not None)

    def close(self, *, failing: bool) -> None:
        """Stops the thread once its COPYs are done; raises their error unless the import
        is ``failing`` already (its transaction is rolled back anyway)."""
        try:
            if not failing:
                self.wait()
        finally:
            if self._thread is not None:
                self._jobs.put(None)
                self._thread.join()
                self._thread = None
            if self._wrapper is not None:
                self._wrapper.__exit__(None, None, None)
                self._wrapper = None


def _reserve_ids(model: type[Model], count: int) -> list[int]:
    """``count`` primary keys no row has had, taken from the table's sequence. On SQLite the
    importing transaction holds the write lock, so nobody else takes them meanwhile."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [connection.ops.quote_name(table), model._meta.pk.column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        pk = connection.ops.quote_name(model._meta.pk.column or "id")
        quoted = connection.ops.quote_name(table)
        cursor.execute(
            f"SELECT MAX(n) FROM (SELECT MAX({pk}) AS n FROM {quoted} UNION ALL "  # noqa: S608
            "SELECT seq FROM sqlite_sequence WHERE name = %s)",
            [table],
        )
        start = (cursor.fetchone()[0] or 0) + 1
    return list(range(start, start + count))


def _label(model: type[Model], name: str) -> str:
    return str(getattr(model._meta.get_field(name), "verbose_name", name))


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


def _quick_number(raw: str, today: date) -> tuple[str, date] | None:
    """(number, birth date) of an ID number that passes every hard rule of
    ``idcard.validate``, checked without building messages; None otherwise."""
    number = idcard.normalise(raw)
    first17 = number[:17]
    if len(number) != idcard.LENGTH or not (first17.isascii() and first17.isdigit()):
        return None
    if number[:2] not in idcard.PROVINCE_PREFIXES:
        return None
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    if born > today or born.year < idcard.EARLIEST_BIRTH_YEAR:
        return None
    if idcard.check_character(first17) != number[17]:
        return None
    return number, born


def _id_gender(number: str) -> str:
    return "male" if (ord(number[16]) - 48) % 2 else "female"


def _id_warnings(quick: tuple[str, date], child: dict[str, Any], today: date) -> bool:
    """Whether ``idcard.validate`` would warn about a number that passed ``_quick_number``:
    an unknown region, another birth date or gender than entered, an adult."""
    number, born = quick
    birth, gender = child.get("birth_date"), child.get("gender")
    adult = (today.year - born.year - ((today.month, today.day) < (born.month, born.day))) >= (
        idcard.ADULT_AGE
    )
    return (
        not known_region(number[:6])
        or (birth is not None and birth != born)
        or (gender in ("male", "female") and gender != _id_gender(number))
        or adult
    )


def _fact_label(fact: Fact) -> str:
    """How a fact of the family reads: “dibao”, “father: phone”, “mother: work place”."""
    if fact[0] == "household":
        if fact[1] == "caregiver_id_hash":
            return _("Caregiver's ID number")
        return _label(Household, fact[1])
    parent = _parent_label(fact[0])
    if fact[1] == "record":
        return parent
    if fact[1] == "id":
        return _of(parent, _("ID number"))
    if fact[1] == "spell":
        return _of(parent, _("migration") if fact[2] == "record" else _label(Migration, fact[2]))
    return _of(parent, _label(Parent, fact[1]))


def _of(parent: str, field: str) -> str:
    """A parent's fact, as a label: “father: phone”."""
    return _("%(parent)s: %(field)s") % {"parent": parent, "field": field}


def _said(field: str, error: str) -> str:
    """A row's error about one of its fields: “father: birth date: …”."""
    return _("%(field)s: %(error)s") % {"field": field, "error": error}


def _parent_label(role: str) -> str:
    return _("father") if role == ParentRole.FATHER else _("mother")


__all__ = [
    "CHILD_FIELDS",
    "HOUSEHOLD_FIELDS",
    "PARENT_FIELDS",
    "LedgerParent",
    "LedgerRejected",
    "LedgerRow",
    "Outcome",
    "RowResult",
    "ledger_import",
]
