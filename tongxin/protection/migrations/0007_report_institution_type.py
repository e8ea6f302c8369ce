"""The kind of a report's institution, fixed at submission (school, medical … government,
village committee, none given), guarded by the immutability trigger like the other content
columns.

The reports already there get theirs as the statistics reckoned it until now: from their
reporting organisation (its kind, or an institution's type, which accounts' migration 0002 set),
else from the submitter's role for a report filed online, else from the words of the
institution a caller named.

The trigger and the new column: on SQLite, adding a NOT NULL column rebuilds the table, which
drops its triggers; they are dropped first and created again afterwards with the new column
among the guarded ones. On PostgreSQL the trigger's function is replaced; the backfill runs
under the old function, which does not look at the new column."""

import importlib

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

REPORT = "protection_mandatoryreport"
triggers_0004 = importlib.import_module(
    "tongxin.protection.migrations.0004_report_immutable_triggers"
)
names_0002 = importlib.import_module(
    "tongxin.accounts.migrations.0002_organisation_institution_type"
)

# Frozen copy of models.IMMUTABLE_COLUMNS as of this migration.
COLUMNS = (*triggers_0004.COLUMNS, "reporting_institution_type")
GOVERNMENT_KINDS = ("department", "town_government")
# The roles whose reports filed online without an organisation count for the government.
OFFICER_ROLES = ("county_admin", "department_officer", "town_supervisor")


def _install(schema_editor: BaseDatabaseSchemaEditor, columns: tuple[str, ...]) -> None:
    """The report's update and delete guards, over ``columns``."""
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _drop_sqlite(schema_editor)
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
        child = "(OLD.child_id IS NOT NULL AND OLD.child_id IS NOT NEW.child_id)"
        schema_editor.execute(
            f"""CREATE TRIGGER {REPORT}_immutable BEFORE UPDATE ON {REPORT}
                WHEN {changed} OR {child}
                BEGIN SELECT RAISE(ABORT, 'a submitted mandatory report is immutable'); END"""
        )
        schema_editor.execute(
            f"""CREATE TRIGGER {REPORT}_no_delete BEFORE DELETE ON {REPORT}
                BEGIN SELECT RAISE(ABORT, 'mandatory reports cannot be deleted'); END"""
        )
    elif vendor == "postgresql":
        old = ", ".join(f"OLD.{c}" for c in columns)
        new = ", ".join(f"NEW.{c}" for c in columns)
        schema_editor.execute(
            f"""CREATE OR REPLACE FUNCTION {REPORT}_immutable() RETURNS trigger AS $$
                BEGIN
                  IF TG_OP = 'DELETE' THEN
                    RAISE EXCEPTION 'mandatory reports cannot be deleted';
                  END IF;
                  IF ROW({old}) IS DISTINCT FROM ROW({new}) OR {triggers_0004.CHILD_ONCE} THEN
                    RAISE EXCEPTION 'a submitted mandatory report is immutable';
                  END IF;
                  RETURN NEW;
                END $$ LANGUAGE plpgsql"""
        )


def _drop_sqlite(schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        for name in (f"{REPORT}_immutable", f"{REPORT}_no_delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


def drop_guards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _drop_sqlite(schema_editor)


def old_guards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _install(schema_editor, triggers_0004.COLUMNS)


def new_guards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _install(schema_editor, COLUMNS)


def backfill(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Report = apps.get_model("protection", "MandatoryReport")
    reports = Report.objects.using(schema_editor.connection.alias)
    field = "reporting_institution_type"
    with_organisation = reports.filter(reporting_organisation__isnull=False)
    with_organisation.filter(reporting_organisation__kind__in=GOVERNMENT_KINDS).update(
        **{field: "government"}
    )
    with_organisation.filter(reporting_organisation__kind="village_committee").update(
        **{field: "village_committee"}
    )
    for institution_type in names_0002.INSTITUTION_TYPES:
        with_organisation.filter(
            reporting_organisation__kind="institution",
            reporting_organisation__institution_type=institution_type,
        ).update(**{field: institution_type})
    # A caller's institution, named in words.
    named = reports.filter(reporting_organisation__isnull=True).exclude(
        reporting_organisation_name=""
    )
    for name in set(named.values_list("reporting_organisation_name", flat=True)):
        named.filter(reporting_organisation_name=name).update(
            **{field: names_0002.type_from_name(name, institution=False)}
        )
    # No institution: the submitter's own, for a report filed online.
    unnamed_online = reports.filter(
        reporting_organisation__isnull=True, reporting_organisation_name="", channel="online"
    )
    unnamed_online.filter(submitted_by__role="village_director").update(
        **{field: "village_committee"}
    )
    unnamed_online.filter(submitted_by__role__in=OFFICER_ROLES).update(**{field: "government"})
    # Everything else keeps the column's default: "not_given".


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_organisation_institution_type"),
        ("protection", "0006_merge_referrals_interventions"),
    ]

    operations = [
        migrations.RunPython(drop_guards, old_guards),
        migrations.AddField(
            model_name="mandatoryreport",
            name="reporting_institution_type",
            field=models.CharField(
                choices=[
                    ("school", "School"),
                    ("kindergarten", "Kindergarten or childcare"),
                    ("medical", "Medical institution"),
                    ("welfare", "Welfare or rescue institution"),
                    ("hotel", "Hotel or lodging"),
                    ("other", "Other institution"),
                    ("government", "Government department"),
                    ("village_committee", "Village or community committee"),
                    ("not_given", "No institution given"),
                ],
                default="not_given",
                editable=False,
                max_length=20,
                verbose_name="kind of reporting institution",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(new_guards, old_guards),
    ]
