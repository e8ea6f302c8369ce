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
divisions); new rows written by the fast inserts of ``bulk`` (``executemany``
on SQLite, a binary ``COPY`` per table on PostgreSQL, sent while the next batch is read),
updates with ``bulk_update_with_history``, the history rows too, so the file's history shows
the import under the importing user with ``change_reason``. An error row aborts the apply:
nothing is written.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from itertools import islice

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from tongxin.accounts.models import User
from tongxin.registry import duplicates
from tongxin.registry.ledger.rows import (
    LedgerParent,
    LedgerRejected,
    LedgerRow,
    Outcome,
    RowResult,
)
from tongxin.registry.ledger.run import Run

BATCH_SIZE = 2000


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
    run = Run(actor, as_of or timezone.localdate(), apply, change_reason)
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


__all__ = [
    "LedgerParent",
    "LedgerRejected",
    "LedgerRow",
    "Outcome",
    "RowResult",
    "ledger_import",
]
