"""The notification centre's model, taken over from the visits app with its table (renamed by
visits 0005, which therefore runs first): this migration writes nothing but the state, then
gives the index the name the notices app would give it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("visits", "0005_notification_to_notices"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("kind", models.CharField(max_length=30)),
                        ("title", models.CharField(max_length=200)),
                        ("body", models.TextField(blank=True)),
                        ("url", models.CharField(blank=True, max_length=300)),
                        ("key", models.CharField(max_length=200)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("read_at", models.DateTimeField(blank=True, null=True)),
                        ("emailed_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "recipient",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notifications",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-created_at"],
                        "indexes": [
                            models.Index(
                                fields=["recipient", "read_at"],
                                name="visits_noti_recipie_33ad3e_idx",
                            )
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("recipient", "key"), name="notification_once_per_key"
                            )
                        ],
                    },
                ),
            ],
        ),
        migrations.RenameIndex(
            model_name="notification",
            new_name="notices_not_recipie_217c34_idx",
            old_name="visits_noti_recipie_33ad3e_idx",
        ),
    ]
