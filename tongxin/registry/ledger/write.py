"""Writing a checked batch of a ledger import (``write_batch``): new rows through the fast
inserts of ``bulk``, ids reserved first so they can point at each other; changed rows with
``bulk_update_with_history``, their history under the importing user; then the categories of
the children the batch touched, siblings included, and their category spans."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from django.db.models import Model
from simple_history.utils import bulk_update_with_history

from tongxin.registry import rules
from tongxin.registry.ledger.bulk import BLANKS, reserve_ids, table_of
from tongxin.registry.ledger.rows import Outcome
from tongxin.registry.models import (
    CategorySpan,
    Child,
    Household,
    Migration,
    Parent,
)

if TYPE_CHECKING:
    from tongxin.registry.ledger.match import Family
    from tongxin.registry.ledger.run import Planned, Run


def _history(run: Run) -> dict[str, Any]:
    return {"default_user": run.actor, "default_change_reason": run.reason}


def _reserve(run: Run, *groups: list[Any]) -> None:
    """Ids for the new rows of a batch, each group of one model, all before the first
    row is sent (PostgreSQL: queries wait for the COPYs sent before them)."""
    for objs in groups:
        if objs:
            for obj, pk in zip(objs, reserve_ids(type(objs[0]), len(objs)), strict=True):
                obj.pk = pk


def _insert(run: Run, model: type[Model], objs: list[Any]) -> None:
    """New rows (ids reserved) and their history rows ("+", by the actor, with the change
    reason), the history rows made from the rows themselves."""
    if not objs:
        return
    db = run.writer.db
    table = table_of(model, with_pk=True)
    rows = table.rows(db, objs)
    run.writer.insert(table, rows)
    history = table_of(model.history.model)  # type: ignore[attr-defined]
    fixed = {
        "history_date": run.now,
        "history_change_reason": run.reason,
        "history_type": "+",
        "history_user_id": run.actor.pk,
    }
    try:
        history_rows = history.rows_like(db, table, rows, **fixed)
    except LookupError:
        history_rows = history.rows(db, objs, **fixed)
    run.writer.insert(history, history_rows)
    for obj in objs:
        obj._state.adding, obj._state.db = False, "default"


def _add(run: Run, model: type[Model], objs: list[Any]) -> None:
    """New rows without history (category spans), their ids from the database."""
    table = table_of(model)
    run.writer.insert(table, table.rows(run.writer.db, objs))


def write_batch(run: Run, planned: list[Planned], batch_families: dict[int | str, Family]) -> None:
    now, history = run.now, _history(run)
    families = list(batch_families.values())
    new_households = [f.household for f in families if f.is_new]
    _reserve(
        run,
        new_households,
        [f.parents[role] for f in families for role in sorted(f.parents_new)],
        [spell for f in families for _role, spell in f.spells_new],
        [
            p.child
            for p in planned
            if p.child is not None and p.family is not None and p.result.outcome == Outcome.NEW
        ],
    )

    _insert(run, Household, new_households)
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
    _insert(run, Parent, new_parents)
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
    _insert(run, Migration, new_spells)
    if changed_spells:
        bulk_update_with_history(changed_spells, Migration, sorted(spell_fields), **history)

    new_children: list[Child] = []
    changed_children: list[Planned] = []
    for p in planned:
        if p.child is None or p.family is None:
            continue
        p.child.household_id = p.family.household.pk
        if p.result.outcome == Outcome.NEW:
            new_children.append(p.child)
        elif p.result.outcome == Outcome.UPDATE and p.child_changed:
            changed_children.append(p)
    if new_children:
        _insert(run, Child, new_children)
        spans = []
        for p in planned:
            if p.result.outcome == Outcome.NEW and p.child is not None and p.facts:
                registered = p.child.registered_on
                if registered == run.as_of:  # registered today: today's categories
                    spans += [
                        BLANKS.new(CategorySpan, child_id=p.child.pk, code=code, start=registered)
                        for code, _reason in p.result.categories
                    ]
                    continue
                spans += [
                    BLANKS.new(
                        CategorySpan,
                        child_id=p.child.pk,
                        code=str(s.code),
                        start=s.start,
                        end=s.end,
                    )
                    for s in rules.category_history(
                        [(registered, p.facts)], registered, run.as_of, run.thresholds
                    )
                ]
        _add(run, CategorySpan, spans)
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
        siblings = list(Child.objects.filter(household_id__in=by_household).exclude(pk__in=in_file))
        sibling_updates = []
        for sibling in siblings:
            result = rules.classify(
                run.facts(sibling, by_household[sibling.household_id]),
                run.as_of,
                run.thresholds,
            )
            categories = [{"code": str(c.code), "reason": c.reason} for c in result.categories]
            if categories != sibling.categories:
                sibling.categories = categories
                sibling.left_behind = rules.CategoryCode.LEFT_BEHIND in result.codes
                sibling.in_difficulty = result.in_difficulty
                sibling.classified_on = run.as_of
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
        _move_spans(run, reclassified)

    # Families created here are stored now: later batches find them by parent ID.
    for key in run.batch_keys:
        marker = run.new_families[key]
        if isinstance(marker, str) and marker in batch_families:
            run.new_families[key] = batch_families[marker].household.pk
    for f in families:
        f.is_new = False


def _move_spans(run: Run, children: list[tuple[Child, tuple[str, ...]]]) -> None:
    """Category history from the import date on: spans of categories left end today (or go,
    when they began today), spans of categories entered begin today."""
    wanted = {child.pk: set(codes) for child, codes in children}
    open_spans = list(CategorySpan.objects.filter(child_id__in=wanted, end__isnull=True))
    have: dict[int, set[str]] = defaultdict(set)
    to_close, to_delete = [], []
    for span in open_spans:
        if span.code in wanted[span.child_id]:
            have[span.child_id].add(span.code)
        elif span.start >= run.as_of:
            to_delete.append(span.pk)
        else:
            span.end = run.as_of
            to_close.append(span)
    if to_close:
        CategorySpan.objects.bulk_update(to_close, ["end"])
    if to_delete:
        CategorySpan.objects.filter(pk__in=to_delete).delete()
    _add(
        run,
        CategorySpan,
        [
            BLANKS.new(CategorySpan, child_id=pk, code=code, start=run.as_of)
            for pk, codes in wanted.items()
            for code in sorted(codes - have[pk])
        ],
    )
