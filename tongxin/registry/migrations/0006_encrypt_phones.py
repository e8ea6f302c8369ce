"""Phone numbers encrypted at rest (decision 018): the columns become text and the numbers
already there, in the files and in their history, are encrypted in place, in batches; going
back decrypts them first.

The history tables are append-only (triggers put on after every ``migrate``, decision 016), so
on a database migrated before, their triggers are taken off for this one rewrite and put back
before the transaction ends (``tongxin.audit.database``). A history row then holds the same
number as before, encrypted: what the file said on that day is unchanged."""

from django.db import migrations
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

import tongxin.lib.fields
from tongxin.audit.database import history_rewrite
from tongxin.lib.fields import seal_phones

TABLES = {
    "registry_household": ("id", ["phone", "caregiver_phone"]),
    "registry_parent": ("id", ["phone"]),
    "registry_migration": ("id", ["phone"]),
    "registry_child": ("id", ["phone"]),
    "registry_careagreement": ("id", ["caregiver_phone"]),
    "registry_historicalhousehold": ("history_id", ["phone", "caregiver_phone"]),
    "registry_historicalparent": ("history_id", ["phone"]),
    "registry_historicalmigration": ("history_id", ["phone"]),
    "registry_historicalchild": ("history_id", ["phone"]),
    "registry_historicalcareagreement": ("history_id", ["caregiver_phone"]),
}


def seal(connection: BaseDatabaseWrapper, *, forward: bool) -> None:
    with history_rewrite(connection, [t for t in TABLES if "_historical" in t]):
        for table, (pk, columns) in TABLES.items():
            seal_phones(connection, table, pk, columns, forward=forward)


def encrypt(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    seal(schema_editor.connection, forward=True)


def decrypt(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    seal(schema_editor.connection, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0005_child_archived_on"),
    ]

    operations = [
        migrations.AlterField(
            model_name="careagreement",
            name="caregiver_phone",
            field=tongxin.lib.fields.EncryptedPhoneField(
                blank=True, max_length=20, verbose_name="caregiver's phone"
            ),
        ),
        migrations.AlterField(
            model_name="child",
            name="phone",
            field=tongxin.lib.fields.EncryptedPhoneField(
                blank=True, max_length=20, verbose_name="phone"
            ),
        ),
        migrations.AlterField(
            model_name="historicalcareagreement",
            name="caregiver_phone",
            field=tongxin.lib.fields.EncryptedPhoneField(
                blank=True, max_length=20, verbose_name="caregiver's phone"
            ),
        ),
        migrations.AlterField(
            model_name="historicalchild",
            name="phone",
            field=tongxin.lib.fields.EncryptedPhoneField(
                blank=True, max_length=20, verbose_name="phone"
            ),
        ),
        migrations.AlterField(
            model_name="historicalhousehold",
            name="caregiver_phone",
            field=tongxin.lib.fields.EncryptedPhoneField(
                blank=True, max_length=20, verbose_name="caregiver's phone"
            ),
        ),
        migrations.AlterField(
            model_name="historicalhousehold",
            name="phone",
            field=tongxin.lib.fields.EncryptedPhoneField(
                blank=True, max_length=20, verbose_name="phone"
            ),
        ),
        migrations.AlterField(
            model_name="historicalmigration",
            name="phone",
            field=tongxin.lib.fields.EncryptedPhoneField(
                blank=True, max_length=20, verbose_name="phone while away"
            ),
        ),
        migrations.AlterField(
            model_name="historicalparent",
            name="phone",
            field=tongxin.lib.fields.EncryptedPhoneField(
                blank=True, max_length=20, verbose_name="phone"
            ),
        ),
        migrations.AlterField(
            model_name="household",
            name="caregiver_phone",
            field=tongxin.lib.fields.EncryptedPhoneField(
                blank=True, max_length=20, verbose_name="caregiver's phone"
            ),
        ),
        migrations.AlterField(
            model_name="household",
            name="phone",
            field=tongxin.lib.fields.EncryptedPhoneField(
                blank=True, max_length=20, verbose_name="phone"
            ),
        ),
        migrations.AlterField(
            model_name="migration",
            name="phone",
            field=tongxin.lib.fields.EncryptedPhoneField(
                blank=True, max_length=20, verbose_name="phone while away"
            ),
        ),
        migrations.AlterField(
            model_name="parent",
            name="phone",
            field=tongxin.lib.fields.EncryptedPhoneField(
                blank=True, max_length=20, verbose_name="phone"
            ),
        ),
        migrations.RunPython(encrypt, decrypt),
    ]
