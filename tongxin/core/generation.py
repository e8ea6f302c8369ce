"""The data generation: a number that moves after every transaction that changed the county's
data, so that a page made from the data can be kept until it moves (``tongxin.core.pagecache``;
decision 024).

Writes are seen where every statement passes, not where models are saved: each database
connection runs its SQL through ``watch_writes`` (installed when the connection opens), so a
bulk update, a raw cursor, a ledger import or a migration moves the number as surely as a
form's save. A statement moves it unless it only reads (``SELECT``, a savepoint …) or writes
one of the bookkeeping tables that no page kept here shows (``UNWATCHED``: the audit trail,
sessions, sign-in attempts, the task queue, API tokens' last use); a statement it cannot read
moves it too. (PostgreSQL's ``COPY``, which the ledger import sends on the driver's own cursor,
passes no wrapper; the import's own writes to its batch, through Django, move it.)

It moves after the transaction commits (``on_commit``), so a reader that reads the number
before the data never sees a new number with old data: it sees the old number with old data, or
(in the moment between a commit and its move) the old number with new data, which is only
fresher. Inside a test's own transaction it moves at once, as the test's writes are visible at
once. The number lives in one row of ``core_datageneration`` and is read and written on the
driver's own connection, below Django's cursor: it is not one of a page's queries (tests count
those) and never enters the statement log.
"""

from __future__ import annotations

import logging
import re
from functools import partial
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.dispatch import receiver

TABLE = "core_datageneration"

# Tables whose writes no kept page shows. Every read of a child's file writes the audit trail,
# and a session is renewed once a minute: counted, they would move the number all the time.
UNWATCHED = frozenset(
    {
        TABLE,
        "audit_auditevent",
        "audit_auditchainhead",
        "django_session",
        "axes_accessattempt",
        "axes_accessattemptexpiration",
        "axes_accessfailurelog",
        "axes_accesslog",
        "django_tasks_database_dbtaskresult",
        "knox_authtoken",
    }
)
# Statements that change nothing (Django's transaction control included).
_READS = ("SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK", "PRAGMA", "BEGIN", "COMMIT", "SHOW")
# A ``WITH`` query writes when a data-modifying word stands anywhere in it (``FOR UPDATE`` too:
# taken as a write, which costs only a kept page).
_MODIFIES = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)
_WRITES = ("INSERT INTO ", "UPDATE ", "DELETE FROM ", "REPLACE INTO ")
_BUMP = (
    "INSERT INTO core_datageneration (id, value) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET value = core_datageneration.value + 1"
)
_READ = "SELECT value FROM core_datageneration WHERE id = 1"
_HOOK = "_tongxin_generation_hook"
logger = logging.getLogger(__name__)


def written_table(sql: str) -> str | None:
    """The table a statement writes: ``""`` for a statement that only reads, the table's name
    for an INSERT, UPDATE or DELETE, and ``None`` for one this cannot read (taken as a write
    of unknown tables)."""
    head = sql.lstrip()[:200]
    upper = head.upper()
    if upper.startswith(_READS) or upper.startswith("SET ") or upper.startswith("EXPLAIN"):
        return ""
    if upper.startswith("WITH") and not _MODIFIES.search(sql):
        return ""
    for verb in _WRITES:
        if upper.startswith(verb):
            rest = head[len(verb) :].lstrip()
            name = rest.split(None, 1)[0] if rest else ""
            name = name.split("(", 1)[0].strip('"`[]')
            return name.lower() or None
    return None


def _moves(sql: str) -> bool:
    table = written_table(sql)
    return table != "" and table not in UNWATCHED


def bump(connection: BaseDatabaseWrapper) -> None:
    """Move the number by one, on the driver's connection (autocommit: committed at once, except
    inside a test's transaction, which it joins)."""
    try:
        cursor = connection.connection.cursor()
        try:
            cursor.execute(_BUMP)
        finally:
            cursor.close()
    except connection.Database.DatabaseError as error:  # type: ignore[attr-defined]
        # Before the table exists (the first migrations) nothing is kept yet; any other failure
        # leaves kept pages to their time limit (pagecache.TIMEOUT) and is logged.
        if "core_datageneration" not in str(error):
            logger.warning("data generation not moved: %s", type(error).__name__)


def _after_write(connection: BaseDatabaseWrapper) -> None:
    if not connection.in_atomic_block or all(
        getattr(block, "_from_testcase", False) for block in connection.atomic_blocks
    ):
        bump(connection)
        return
    hook = connection.__dict__.get(_HOOK)
    if hook is not None and any(entry[1] is hook for entry in connection.run_on_commit):
        return
    hook = partial(bump, connection)
    setattr(connection, _HOOK, hook)
    connection.on_commit(hook)


def watch_writes(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    """The execute wrapper every connection runs its statements through."""
    result = execute(sql, params, many, context)
    if _moves(sql):
        _after_write(context["connection"])
    return result


def current(connection: BaseDatabaseWrapper) -> int:
    """The number now (0 before any write)."""
    connection.ensure_connection()
    cursor = connection.connection.cursor()
    try:
        cursor.execute(_READ)
        row = cursor.fetchone()
    finally:
        cursor.close()
    return int(row[0]) if row else 0


@receiver(connection_created)
def _watch(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if watch_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(watch_writes)
