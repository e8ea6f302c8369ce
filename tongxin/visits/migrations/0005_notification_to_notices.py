"""The notification centre left the visits app for the notices app (issue 11): the table is
renamed to ``notices_notification`` with its rows, and the model leaves visits' state (notices
0001 takes it up)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("visits", "0004_uncount_empty_contacts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name="notification", table="notices_notification"),
            ],
            state_operations=[
                migrations.DeleteModel(name="Notification"),
            ],
        ),
    ]
