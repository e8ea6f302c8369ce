"""The hash chain (decision 016): every entry gets its number in the chain, the hash of the entry
before it and its own hash; the entries already written are chained here, in the order they
were written (by id), and the chain's head row is created.

The append-only triggers of 0002 are dropped for the time it takes (the entries are updated
once, here) and created again at the end: on SQLite, adding a column rebuilds the table, which
drops its triggers anyway.

It uses ``tongxin.audit.chain`` as it stands: the canonical form is versioned ("v1"), and any
later form must still verify the entries written in this one."""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

SQLITE = [
    """CREATE TRIGGER audit_auditevent_no_update BEFORE UPDATE ON audit_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    """CREATE TRIGGER audit_auditevent_no_delete BEFORE DELETE ON audit_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
]
POSTGRES = [
    """CREATE FUNCTION audit_auditevent_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_auditevent_no_change BEFORE UPDATE OR DELETE ON audit_auditevent
       FOR EACH ROW EXECUTE FUNCTION audit_auditevent_append_only()""",
    """CREATE TRIGGER audit_auditevent_no_truncate BEFORE TRUNCATE ON audit_auditevent
       FOR EACH STATEMENT EXECUTE FUNCTION audit_auditevent_append_only()""",
]
CHUNK = 5000


def create_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    statements = {"sqlite": SQLITE, "postgresql": POSTGRES}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def drop_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_auditevent_no_update")
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_auditevent_no_delete")
    elif vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_auditevent_no_change ON audit_auditevent")
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON audit_auditevent")
        schema_editor.execute("DROP FUNCTION IF EXISTS audit_auditevent_append_only()")


def chain_existing(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from tongxin.audit.chain import GENESIS, HASHED_FIELDS, entry_hash

    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    columns = [f for f in HASHED_FIELDS if f != "seq"]
    seq, prev, last_id = 0, GENESIS, 0
    with schema_editor.connection.cursor() as cursor:
        while True:
            rows = list(
                AuditEvent.objects.filter(id__gt=last_id).order_by("id").values("id", *columns)[:CHUNK]
            )
            if not rows:
                break
            updates = []
            for row in rows:
                seq += 1
                digest = entry_hash(prev, {**row, "seq": seq})
                updates.append((seq, prev, digest, row["id"]))
                prev = digest
            cursor.executemany(
                "UPDATE audit_auditevent SET seq = %s, prev_hash = %s, hash = %s WHERE id = %s",
                updates,
            )
            last_id = rows[-1]["id"]
    AuditChainHead.objects.create(pk=1, seq=seq, hash=prev)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]

    operations = [
        migrations.RunPython(drop_triggers, create_triggers),
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(editable=False, null=True, verbose_name="entry number"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.BigIntegerField(default=0)),
                (
                    "hash",
                    models.CharField(
                        default="0000000000000000000000000000000000000000000000000000000000000000",
                        max_length=64,
                    ),
                ),
            ],
            options={"verbose_name": "audit chain head"},
        ),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(editable=False, unique=True, verbose_name="entry number"),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
