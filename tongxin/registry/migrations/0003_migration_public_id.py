"""Migration spells get an opaque public code for URLs (never a sequential id): added empty,
filled one by one, then made unique."""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    Migration = apps.get_model("registry", "Migration")
    HistoricalMigration = apps.get_model("registry", "HistoricalMigration")
    for m in Migration.objects.filter(public_id__isnull=True).only("pk"):
        code = uuid.uuid4()
        Migration.objects.filter(pk=m.pk).update(public_id=code)
        HistoricalMigration.objects.filter(id=m.pk).update(public_id=code)


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_duplicates")]

    operations = [
        migrations.AddField(
            model_name="migration",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="historicalmigration",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="migration",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name="historicalmigration",
            name="public_id",
            field=models.UUIDField(db_index=True, default=uuid.uuid4, editable=False),
        ),
    ]
