"""The risk history (decision 012): every stored level becomes the first span of its child's
computed history, from the day it was computed; an override in force becomes an override row
from the day the audit trail says it was set (else the day the level was computed). Reversible:
the override in force goes back onto the child's row."""


import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def backfill(apps, schema_editor):
    ChildRisk = apps.get_model("visits", "ChildRisk")
    RiskOverride = apps.get_model("visits", "RiskOverride")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    connection = schema_editor.connection
    q = connection.ops.quote_name
    today = timezone.localdate()
    # One statement: a county's million rows are copied in the database, not through Python.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {q('visits_riskspan')} (child_id, valid_from, valid_to, {q('level')}, "  # noqa: S608
            f"reasons, factors, recorded_at) "
            f"SELECT child_id, COALESCE(computed_on, %s), NULL, computed_level, reasons, factors, %s "
            f"FROM {q('visits_childrisk')}",
            [
                connection.ops.adapt_datefield_value(today),
                connection.ops.adapt_datetimefield_value(timezone.now()),
            ],
        )
    for risk in ChildRisk.objects.exclude(override_level="").select_related("child"):
        since = risk.computed_on or today
        event = (
            AuditEvent.objects.filter(
                action="risk.override", object_code=str(risk.child.public_id)
            )
            .order_by("-at")
            .first()
        )
        if event is not None:
            since = timezone.localdate(event.at)
        ends_on = risk.override_until or since
        override = RiskOverride.objects.create(
            child_id=risk.child_id,
            level=risk.override_level,
            starts_on=min(since, ends_on),
            ends_on=ends_on,
            reason=risk.override_reason,
            set_by_id=risk.override_by_id,
        )
        risk.override = override
        risk.save(update_fields=["override"])


def restore(apps, schema_editor):
    ChildRisk = apps.get_model("visits", "ChildRisk")
    for risk in ChildRisk.objects.exclude(override=None).select_related("override"):
        override = risk.override
        risk.override_level = override.level
        risk.override_until = override.ends_on
        risk.override_reason = override.reason
        risk.override_by_id = override.set_by_id
        risk.save(
            update_fields=["override_level", "override_until", "override_reason", "override_by"]
        )


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0002_append_only_triggers'),
        ('registry', '0004_caregiver_id_and_pinyin_birth_index'),
        ('visits', '0002_contact_child_not_seen_reason'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='RiskOverride',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('level', models.CharField(choices=[('low', 'Low'), ('medium', 'Medium'), ('high', 'High')], max_length=10, verbose_name='level set by an officer')),
                ('starts_on', models.DateField(verbose_name='set on')),
                ('ends_on', models.DateField(verbose_name='override ends on')),
                ('reason', models.CharField(max_length=500, verbose_name='reason for the override')),
                ('set_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('cleared_on', models.DateField(blank=True, null=True, verbose_name='cleared on')),
                ('cleared_at', models.DateTimeField(blank=True, null=True)),
                ('child', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='risk_overrides', to='registry.child')),
                ('cleared_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('set_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'risk override',
                'ordering': ['child', '-starts_on', '-id'],
            },
        ),
        migrations.AddField(
            model_name='childrisk',
            name='override',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='visits.riskoverride'),
        ),
        migrations.CreateModel(
            name='RiskSpan',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('valid_from', models.DateField(verbose_name='from')),
                ('valid_to', models.DateField(blank=True, null=True, verbose_name='until')),
                ('level', models.CharField(choices=[('low', 'Low'), ('medium', 'Medium'), ('high', 'High')], max_length=10, verbose_name='computed level')),
                ('reasons', models.JSONField(default=list)),
                ('factors', models.JSONField(default=list)),
                ('recorded_at', models.DateTimeField(auto_now=True)),
                ('child', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='risk_spans', to='registry.child')),
            ],
            options={
                'verbose_name': 'computed risk level',
                'ordering': ['child', '-valid_from'],
            },
        ),
        migrations.AddIndex(
            model_name='riskoverride',
            index=models.Index(fields=['child', 'starts_on'], name='risk_override_child_start'),
        ),
        migrations.AddConstraint(
            model_name='riskoverride',
            constraint=models.CheckConstraint(condition=models.Q(('ends_on__gte', models.F('starts_on'))), name='risk_override_ends_after'),
        ),
        migrations.AddConstraint(
            model_name='riskoverride',
            constraint=models.CheckConstraint(condition=models.Q(('cleared_on__isnull', True), ('cleared_on__gte', models.F('starts_on')), _connector='OR'), name='risk_override_cleared_after'),
        ),
        migrations.AddConstraint(
            model_name='riskspan',
            constraint=models.UniqueConstraint(fields=('child', 'valid_from'), name='risk_span_child_from'),
        ),
        migrations.AddConstraint(
            model_name='riskspan',
            constraint=models.CheckConstraint(condition=models.Q(('valid_to__isnull', True), ('valid_to__gt', models.F('valid_from')), _connector='OR'), name='risk_span_not_empty'),
        ),
        migrations.RunPython(backfill, restore),
        migrations.RemoveField(
            model_name='childrisk',
            name='override_by',
        ),
        migrations.RemoveField(
            model_name='childrisk',
            name='override_level',
        ),
        migrations.RemoveField(
            model_name='childrisk',
            name='override_reason',
        ),
        migrations.RemoveField(
            model_name='childrisk',
            name='override_until',
        ),
    ]
