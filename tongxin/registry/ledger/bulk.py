"""The fast bulk inserts of a ledger import.

Django's bulk_create compiles every value of every row through the ORM (about 5 µs a value);
an imported row makes some 250 values across the child, household, parents, spells, category
spans and their history rows, which alone took three times as long as reading the file. New
rows are therefore written here from rows prepared once per field, into the same tables and
with the same values the ORM (and simple-history's ``bulk_history_create``) would write; ids
are reserved from the table's sequence first, so the rows can point at each other. SQLite
takes them with ``executemany``; PostgreSQL with one binary ``COPY`` per table and batch, sent
while the next batch is read (``Writer``). Updates, few by nature, go through
``bulk_update_with_history``.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import date
from operator import itemgetter
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections
from django.db.models import Model
from django.db.models.base import ModelState

from tongxin.lib.fields import EncryptedPhoneField

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


class Blanks:
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


BLANKS = Blanks()

type Row = Sequence[Any]


class Table:
    """A table's new rows, from model instances: the values as the database takes them, in
    the order of ``fields``. The pk is left to the database unless ``with_pk`` (ids reserved
    beforehand). Kept per model (``table``), so it holds no connection: an import in a
    background thread uses its own."""

    def __init__(self, model: type[Model], with_pk: bool) -> None:
        self.fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
        self.attnames = [f.attname for f in self.fields]
        self.db_table = model._meta.db_table
        self._sql: dict[tuple[str, bool], str] = {}
        self._oids: dict[str, list[int]] = {}
        self._picks: dict[tuple[int, tuple[str, ...]], Callable[[Row], Row] | None] = {}

    def rows(self, db: Any, objs: Iterable[Any], **fixed: Any) -> list[Row]:
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

    def rows_like(self, db: Any, source: Table, rows: list[Row], **fixed: Any) -> list[Row]:
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

    def _order(self, fixed: dict[str, Any]) -> Callable[[list[Any]], Row] | None:
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
    return isinstance(f, EncryptedPhoneField) or f.get_internal_type() not in _PLAIN_TYPES


def _prep(f: Any, db: Any) -> Callable[[Any], Any]:
    """The field's value as the database takes it. The common types directly (what Django's
    backends do for them; a binary COPY dumps dates, UUIDs and JSON itself); others through
    ``get_db_prep_save``, remembering the last value (the timestamps of an import are one)."""
    kind = f.get_internal_type()
    sqlite = db.vendor == "sqlite"
    if isinstance(f, EncryptedPhoneField):
        # Sealed afresh each time: reusing the last value would give equal numbers one form.
        return f.get_prep_value
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


_TABLES: dict[tuple[type[Model], bool], Table] = {}


def table_of(model: type[Model], with_pk: bool = False) -> Table:
    table = _TABLES.get((model, with_pk))
    if table is None:
        table = _TABLES[(model, with_pk)] = Table(model, with_pk)
    return table


class Writer:
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
        self._jobs: queue.Queue[tuple[str, list[int], list[Row]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None  # a COPY's, not yet raised
        self._failed = False
        self._wrapper: AbstractContextManager[None] | None = None

    def insert(self, table: Table, rows: list[Row]) -> None:
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

    def __enter__(self) -> Writer:
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


def reserve_ids(model: type[Model], count: int) -> list[int]:
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
