"""What the database itself guards (decision 016, docs/deploy-database.md).

- The history tables (django-simple-history's, one per model that keeps one: the child, the
  household, parents, spells of work away, care agreements, problems, contacts) are append-only
  like the audit trail: triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL). They
  are put on after every ``migrate`` (``post_migrate``) rather than by one migration, because
  SQLite rebuilds a table for most changes to it, and a rebuilt table has lost its triggers.
- On PostgreSQL the application runs as a runtime role that owns nothing: it may only add to
  and read the audit trail and the history tables, move the chain's head, and read and write
  the other tables. Not being their owner, it cannot drop or disable a trigger.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from simple_history.models import HistoricalChanges

AUDIT_TABLE = "audit_auditevent"
HEAD_TABLE = "audit_auditchainhead"
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_PG_FUNCTION = "tongxin_history_append_only"


class RoleError(Exception):
    """The runtime role cannot be set up as asked (a message for the operator)."""


def history_tables() -> list[str]:
    """Every history table of the installed apps, by name."""
    return sorted(
        m._meta.db_table
        for m in apps.get_models()
        if issubclass(m, HistoricalChanges) and not m._meta.proxy
    )


def append_only_tables(connection: BaseDatabaseWrapper) -> list[str]:
    """The tables that are only ever added to, of those the database holds now."""
    present = set(connection.introspection.table_names())
    return [t for t in [AUDIT_TABLE, *history_tables()] if t in present]


def protect_history(connection: BaseDatabaseWrapper) -> None:
    """Put the append-only triggers on every history table that lacks them."""
    present = set(connection.introspection.table_names())
    tables = [t for t in history_tables() if t in present]
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for table in tables:
                for op in ("update", "delete"):
                    cursor.execute(
                        f"CREATE TRIGGER IF NOT EXISTS {q(table + '_no_' + op)} "
                        f"BEFORE {op.upper()} ON {q(table)} "
                        "BEGIN SELECT RAISE(ABORT, 'history rows are append-only'); END"
                    )
        elif connection.vendor == "postgresql":
            cursor.execute("SELECT 1 FROM pg_proc WHERE proname = %s", [_PG_FUNCTION])
            if cursor.fetchone() is None:
                cursor.execute(
                    f"CREATE FUNCTION {_PG_FUNCTION}() RETURNS trigger AS $$ "
                    "BEGIN RAISE EXCEPTION 'history rows are append-only'; END $$ "
                    "LANGUAGE plpgsql"
                )
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE %s", ["%_append_only"])
            existing = {name for (name,) in cursor.fetchall()}
            for table in tables:
                for suffix, when, each in (
                    ("append_only", "UPDATE OR DELETE", "ROW"),
                    ("no_truncate_append_only", "TRUNCATE", "STATEMENT"),
                ):
                    name = f"{table}_{suffix}"
                    if name in existing:
                        continue
                    cursor.execute(
                        f"CREATE TRIGGER {q(name)} BEFORE {when} ON {q(table)} "
                        f"FOR EACH {each} EXECUTE FUNCTION {_PG_FUNCTION}()"
                    )


def grant_runtime(connection: BaseDatabaseWrapper, role: str) -> list[str]:
    """Give ``role`` exactly what the application needs on this database's tables, and return
    the statements run. Run as the tables' owner, after every ``migrate`` (``post_migrate``
    does it when ``TONGXIN_DB_RUNTIME_ROLE`` names the role). Refuses a role that could undo
    the protection: a superuser, the owner of the audit trail, or a member of its owner."""
    if connection.vendor != "postgresql":
        raise RoleError("Database roles are PostgreSQL's; SQLite has none.")
    if not ROLE_NAME.match(role):
        raise RoleError(f"{role!r} is not a plain role name (a-z, 0-9, _).")
    q = connection.ops.quote_name
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, pg_has_role(%s, tableowner, 'MEMBER') "
            "FROM pg_roles, pg_tables WHERE rolname = %s AND tablename = %s "
            "AND schemaname = current_schema()",
            [role, role, AUDIT_TABLE],
        )
        found = cursor.fetchone()
        if found is None:
            raise RoleError(f"No role {role} (or no audit table: run migrate first).")
        if found[0] or found[1]:
            raise RoleError(
                f"{role} is a superuser, or owns the audit trail's table (or is a member of "
                "its owner): it could drop the triggers. Use a role of its own."
            )
        cursor.execute("SELECT current_database(), current_schema()")
        database, schema = cursor.fetchone()
        protected = ", ".join(q(t) for t in append_only_tables(connection))
        statements = [
            f"GRANT CONNECT ON DATABASE {q(database)} TO {q(role)}",
            f"GRANT USAGE ON SCHEMA {q(schema)} TO {q(role)}",
            # From nothing to exactly this, in one transaction: no moment with more.
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {q(schema)} FROM {q(role)}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {q(schema)} "
            f"TO {q(role)}",
            f"REVOKE UPDATE, DELETE ON {protected} FROM {q(role)}",
            f"REVOKE DELETE ON {q(HEAD_TABLE)} FROM {q(role)}",
            f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {q(schema)} TO {q(role)}",
        ]
        for statement in statements:
            cursor.execute(statement)
    return statements


def create_runtime_role(connection: BaseDatabaseWrapper, role: str, password: str) -> None:
    """Create ``role`` as a login role with nothing but its password (the owner needs
    CREATEROLE, or a superuser runs it): ``grant_runtime`` gives it its privileges."""
    if not ROLE_NAME.match(role):
        raise RoleError(f"{role!r} is not a plain role name (a-z, 0-9, _).")
    from psycopg import sql

    raw: Any = connection.connection
    statement = sql.SQL(
        "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD {}"
    ).format(sql.Identifier(role), sql.Literal(password))
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(raw))


def after_migrate(using: str = "default", **kwargs: Any) -> None:
    """``post_migrate``: the history tables' triggers, and the runtime role's privileges on
    tables the migrations made."""
    from django.db import connections

    connection = connections[using]
    protect_history(connection)
    role = settings.TONGXIN_DB_RUNTIME_ROLE
    if role and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            exists = cursor.fetchone() is not None
        if exists:
            grant_runtime(connection, role)


class AppendOnlyError(Exception):
    """The history cannot be rewritten by this connection: on PostgreSQL only the tables' owner
    can lift their triggers (the runtime role cannot, by design)."""


@contextmanager
def history_rewrite(connection: BaseDatabaseWrapper, tables: list[str]) -> Iterator[None]:
    """Lift the append-only update triggers of the history ``tables`` for the rest of the
    caller's transaction, and put back at the end of the block those it lifted: the one
    deliberate path around them, for retention (decision 019), which blanks personal values in
    the history of archived files, and for data migrations that change how a value is stored
    (decision 018: phone numbers encrypted in place). A table without its trigger (a database
    being migrated for the first time: ``post_migrate`` puts them on) is rewritten as it is.
    Triggers are transactional on both engines: if the block fails, the rollback puts them back.
    The audit trail's own triggers are never lifted here."""
    if not connection.in_atomic_block:
        raise RuntimeError("history_rewrite needs the caller's transaction")
    known = set(history_tables())
    if any(t not in known for t in tables):
        raise ValueError("only history tables")
    present = set(connection.introspection.table_names())
    tables = [t for t in tables if t in present]
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_no_update'"
            )
            existing = {name for (name,) in cursor.fetchall()}
            lifted = [t for t in tables if f"{t}_no_update" in existing]
            for table in lifted:
                cursor.execute(f"DROP TRIGGER {q(table + '_no_update')}")
        else:
            cursor.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename = ANY(%s) AND NOT pg_has_role(current_user, tableowner, 'MEMBER')",
                [tables],
            )
            (foreign,) = cursor.fetchone()
            if foreign:
                raise AppendOnlyError("run as the tables' owner")
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE %s", ["%_append_only"])
            existing = {name for (name,) in cursor.fetchall()}
            lifted = [t for t in tables if f"{t}_append_only" in existing]
            # ALTER TABLE refuses a table with deferred checks still pending in the transaction.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in lifted:
                cursor.execute(
                    f"ALTER TABLE {q(table)} DISABLE TRIGGER {q(table + '_append_only')}"
                )
    yield
    with connection.cursor() as cursor:
        for table in lifted:
            if connection.vendor == "sqlite":
                cursor.execute(
                    f"CREATE TRIGGER {q(table + '_no_update')} BEFORE UPDATE ON {q(table)} "
                    "BEGIN SELECT RAISE(ABORT, 'history rows are append-only'); END"
                )
            else:
                cursor.execute(f"ALTER TABLE {q(table)} ENABLE TRIGGER {q(table + '_append_only')}")
