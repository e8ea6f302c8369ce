"""Phone numbers encrypted at rest (decision 018): the column becomes text and the numbers
already there are encrypted in place, in batches; going back decrypts them first."""

from django.db import migrations
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

import tongxin.lib.fields
from tongxin.lib.fields import seal_phones

TABLES = {"accounts_user": ("id", ["phone"])}


def seal(connection: BaseDatabaseWrapper, *, forward: bool) -> None:
    for table, (pk, columns) in TABLES.items():
        seal_phones(connection, table, pk, columns, forward=forward)


def encrypt(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    seal(schema_editor.connection, forward=True)


def decrypt(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    seal(schema_editor.connection, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_separation_of_duties"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="phone",
            field=tongxin.lib.fields.EncryptedPhoneField(
                blank=True, max_length=20, verbose_name="phone"
            ),
        ),
        migrations.RunPython(encrypt, decrypt),
    ]
