"""A submitted mandatory report cannot be changed or lost, at the database too: its content
columns refuse an UPDATE that changes them (the workflow columns stay writable; ``child`` may go
once from empty to a file), and reports, their harms, addenda, timeline and attachments refuse
DELETE, whatever code or person at a SQL prompt tries it."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

REPORT = "protection_mandatoryreport"
# Frozen copy of models.IMMUTABLE_COLUMNS as of this migration.
COLUMNS = (
    "public_id",
    "receipt_no",
    "county_code",
    "division_id",
    "channel",
    "reporting_organisation_id",
    "reporting_organisation_name",
    "reporter_name",
    "reporter_phone",
    "keep_identity_confidential",
    "child_name",
    "child_age",
    "child_gender",
    "child_village_id",
    "child_address",
    "facts",
    "discovered_at",
    "discovered_where",
    "urgency",
    "names_masked",
    "submitted_by_id",
    "submitted_at",
)
APPEND_ONLY = (
    "protection_reportharm",
    "protection_reportaddendum",
    "protection_reportevent",
    "protection_reportattachment",
)
CHILD_ONCE = "(OLD.child_id IS NOT NULL AND OLD.child_id IS DISTINCT FROM NEW.child_id)"


def _sqlite() -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in COLUMNS)
    child = "(OLD.child_id IS NOT NULL AND OLD.child_id IS NOT NEW.child_id)"
    statements = [
        f"""CREATE TRIGGER {REPORT}_immutable BEFORE UPDATE ON {REPORT}
            WHEN {changed} OR {child}
            BEGIN SELECT RAISE(ABORT, 'a submitted mandatory report is immutable'); END""",
        f"""CREATE TRIGGER {REPORT}_no_delete BEFORE DELETE ON {REPORT}
            BEGIN SELECT RAISE(ABORT, 'mandatory reports cannot be deleted'); END""",
    ]
    for table in APPEND_ONLY:
        statements += [
            f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
                BEGIN SELECT RAISE(ABORT, 'report records are append-only'); END""",
            f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
                BEGIN SELECT RAISE(ABORT, 'report records are append-only'); END""",
        ]
    return statements


def _postgres() -> list[str]:
    old = ", ".join(f"OLD.{c}" for c in COLUMNS)
    new = ", ".join(f"NEW.{c}" for c in COLUMNS)
    statements = [
        f"""CREATE FUNCTION {REPORT}_immutable() RETURNS trigger AS $$
            BEGIN
              IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'mandatory reports cannot be deleted';
              END IF;
              IF ROW({old}) IS DISTINCT FROM ROW({new}) OR {CHILD_ONCE} THEN
                RAISE EXCEPTION 'a submitted mandatory report is immutable';
              END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql""",
        f"""CREATE TRIGGER {REPORT}_immutable BEFORE UPDATE OR DELETE ON {REPORT}
            FOR EACH ROW EXECUTE FUNCTION {REPORT}_immutable()""",
        """CREATE FUNCTION protection_append_only() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION 'report records are append-only'; END $$ LANGUAGE plpgsql""",
    ]
    for table in APPEND_ONLY:
        statements.append(
            f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION protection_append_only()"""
        )
    return statements


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": _sqlite, "postgresql": _postgres}.get(vendor, lambda: [])()
    for sql in statements:
        schema_editor.execute(sql)


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        names = [f"{REPORT}_immutable", f"{REPORT}_no_delete"]
        for table in APPEND_ONLY:
            names += [f"{table}_no_update", f"{table}_no_delete"]
        for name in names:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {REPORT}_immutable ON {REPORT}")
        for table in APPEND_ONLY:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {REPORT}_immutable()")
        schema_editor.execute("DROP FUNCTION IF EXISTS protection_append_only()")


class Migration(migrations.Migration):
    dependencies = [("protection", "0003_mandatory_reports")]
    operations = [migrations.RunPython(create, drop)]
