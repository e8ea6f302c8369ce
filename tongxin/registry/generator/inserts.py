"""Fast bulk inserts for the generator: rows written to one table with the driver's own
multi-row ``INSERT … RETURNING`` (SQLite) or ``COPY`` (PostgreSQL), each with its creation
record in the model's history table."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.db import connections, router

from tongxin.lib.fields import EncryptedPhoneField

INSERT_BATCH = 1000  # rows per INSERT statement


class _Statement:
    """Fast inserts into some columns of one table, each value adapted for the driver as
    Django would (dates, datetimes, UUIDs, JSON), without Django's per-value compile step,
    which costs most of the time of ``bulk_create``.

    - SQLite: multi-row ``INSERT … VALUES (…), (…) RETURNING id`` with the driver's own ``?``
      placeholders on its own cursor (Django's wrapper rewrites ``%s`` with a regular
      expression over the whole, long statement).
    - PostgreSQL: ``COPY … FROM STDIN``; the new keys are first taken from the table's
      sequence in one query, so concurrent writers are safe.
    """

    def __init__(self, connection: Any, table: str, fields: list[Any], returning: str) -> None:
        if connection.vendor not in ("sqlite", "postgresql"):
            raise NotImplementedError(f"no fast insert for {connection.vendor}")
        ops, quote = connection.ops, connection.ops.quote_name
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        self.table = table
        self.returning = returning
        self.pairs = [(f.attname, self._adapter(f, connection)) for f in fields]
        self.rows_per_statement = min(
            INSERT_BATCH, ops.bulk_batch_size(fields, range(INSERT_BATCH))
        )
        columns = [quote(f.column) for f in fields]
        # Only the model's own quoted table and column names go into the text; values are bound.
        if self.postgres:
            copied = [quote(returning), *columns] if returning else columns
            self.head = f"COPY {quote(table)} ({', '.join(copied)}) FROM STDIN"
        else:
            self.head = f"INSERT INTO {quote(table)} ({', '.join(columns)}) VALUES "  # noqa: S608
        self.one = "(" + ", ".join(["?"] * len(fields)) + ")"
        self.tail = f" RETURNING {quote(returning)}" if returning else ""

    @staticmethod
    def _adapter(f: Any, connection: Any) -> Callable[[Any], Any] | None:
        ops = connection.ops
        kind = f.get_internal_type()
        if isinstance(f, EncryptedPhoneField):
            return f.get_prep_value
        if kind == "DateField":
            return ops.adapt_datefield_value  # type: ignore[no-any-return]
        if kind == "DateTimeField":
            # Few distinct values (the batch's "now", one time per registration day).
            return lru_cache(maxsize=4096)(ops.adapt_datetimefield_value)
        if kind == "UUIDField" and not connection.features.has_native_uuid_field:
            return lambda v: v.hex if v is not None else None
        if kind == "JSONField":
            encoder = f.encoder
            return lambda v: ops.adapt_json_value(v, encoder)
        return None

    def _values(self, row: dict[str, Any]) -> list[Any]:
        return [
            value if adapt is None else adapt(value)
            for attname, adapt in self.pairs
            for value in (row[attname],)
        ]

    def run(self, rows: Sequence[dict[str, Any]]) -> list[Any]:
        """Insert ``rows``; the keys of the new rows in the same order (when asked)."""
        self.connection.ensure_connection()
        raw = self.connection.connection
        if self.postgres:
            return self._copy(raw, rows)
        found: list[Any] = []
        step = self.rows_per_statement
        cursor = raw.cursor()
        try:
            for start in range(0, len(rows), step):
                chunk = rows[start : start + step]
                params = [value for row in chunk for value in self._values(row)]
                cursor.execute(self.head + ", ".join([self.one] * len(chunk)) + self.tail, params)
                if self.tail:
                    found += [r[0] for r in cursor.fetchall()]
        finally:
            cursor.close()
        return found

    def _copy(self, raw: Any, rows: Sequence[dict[str, Any]]) -> list[Any]:
        keys: list[Any] = []
        with raw.cursor() as cursor:
            if self.returning:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [self.table, self.returning, len(rows)],
                )
                keys = [r[0] for r in cursor.fetchall()]
            with cursor.copy(self.head) as copy:
                if keys:
                    for key, row in zip(keys, rows, strict=True):
                        copy.write_row([key, *self._values(row)])
                else:
                    for row in rows:
                        copy.write_row(self._values(row))
        return keys


class Table:
    """Rows for one model, as dicts keyed by attname, inserted with their creation records in
    the model's history table (simple-history) when it has one."""

    def __init__(self, model: Any, now: datetime) -> None:
        connection = connections[router.db_for_write(model)]
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.defaults: dict[str, Any] = {}
        self.uuids: list[str] = []
        for f in fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                self.defaults[f.attname] = now
            elif f.get_internal_type() == "UUIDField" and f.has_default():
                self.uuids.append(f.attname)
            else:  # the field's default, else "" for text and None for the rest
                self.defaults[f.attname] = f.get_default()
        pk = model._meta.pk.column
        self.insert = _Statement(connection, model._meta.db_table, fields, pk)
        self.history: _Statement | None = None
        manager = getattr(model, "history", None)
        if manager is not None:
            hist = manager.model
            hist_fields = [f for f in hist._meta.concrete_fields if not f.primary_key]
            self.history = _Statement(connection, hist._meta.db_table, hist_fields, "")

    def row(self, **values: Any) -> dict[str, Any]:
        row = {**self.defaults, **values}
        for attname in self.uuids:
            row[attname] = uuid.uuid4()
        return row

    def save(self, rows: list[dict[str, Any]], recorded: list[datetime]) -> int:
        """Insert ``rows`` (setting their ``id``) and their history records; rows written."""
        if not rows:
            return 0
        for row, pk in zip(rows, self.insert.run(rows), strict=True):
            row["id"] = pk
        if self.history is None:
            return len(rows)
        extra = {"history_change_reason": None, "history_type": "+", "history_user_id": None}
        self.history.run(
            [
                {**row, **extra, "history_date": when}
                for row, when in zip(rows, recorded, strict=True)
            ]
        )
        return 2 * len(rows)
