"""The reporter's phone encrypted at rest (decision 018): the column becomes text and the
numbers already there are encrypted in place, in batches; going back decrypts them first.

The column is one of a submitted report's content columns, which the immutability guard of
migrations 0004 and 0007 refuses to change. The rewrite keeps the number (only its form in the
column changes), so the guard is lifted for it, as the tables' owner, and put back in the same
transaction: on PostgreSQL the trigger is disabled and enabled again; on SQLite, where changing
the column's type rebuilds the table and so drops its triggers, the guard is created again over
the same columns as 0007's (operations 1 and 3 do it on the way back too)."""

import importlib
from typing import Any

from django.db import migrations
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

import tongxin.lib.fields
from tongxin.lib.fields import seal_phones

REPORT = "protection_mandatoryreport"
guards_0007 = importlib.import_module("tongxin.protection.migrations.0007_report_institution_type")


class _Executor:
    """What 0007's guard helpers use of a schema editor, over a plain connection."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection

    def execute(self, sql: str, params: Any = ()) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params or None)


def guard(connection: BaseDatabaseWrapper) -> None:
    """The report's immutability guard, as 0007 left it."""
    guards_0007._install(_Executor(connection), guards_0007.COLUMNS)


def seal(connection: BaseDatabaseWrapper, *, forward: bool) -> None:
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            # ALTER TABLE refuses a table with checks still queued in this transaction.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {REPORT} DISABLE TRIGGER {REPORT}_immutable")
        else:
            guards_0007._drop_sqlite(_Executor(connection))
    seal_phones(connection, REPORT, "id", ["reporter_phone"], forward=forward)
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(f"ALTER TABLE {REPORT} ENABLE TRIGGER {REPORT}_immutable")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    guard(connection)


def encrypt(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    seal(schema_editor.connection, forward=True)


def decrypt(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    seal(schema_editor.connection, forward=False)


def guard_again(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    guard(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("protection", "0008_report_routing"),
    ]

    operations = [
        # Backwards, after the column is narrowed again (a rebuild on SQLite).
        migrations.RunPython(migrations.RunPython.noop, guard_again),
        migrations.AlterField(
            model_name="mandatoryreport",
            name="reporter_phone",
            field=tongxin.lib.fields.EncryptedPhoneField(
                blank=True, max_length=20, verbose_name="reporter's phone"
            ),
        ),
        migrations.RunPython(encrypt, decrypt),
    ]
