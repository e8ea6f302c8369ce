"""What the database guards by itself: the history tables are append-only like the trail, and on
PostgreSQL the tests, like the application, run as a runtime role that owns nothing and may
only add to and read the trail (decision 016, docs/deploy-database.md)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from tongxin.audit.database import (
    AUDIT_TABLE,
    HEAD_TABLE,
    RoleError,
    grant_runtime,
    history_tables,
)
from tongxin.registry.models import Household
from tongxin.testing import Actors, database_owner

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="database roles are PostgreSQL's"
)


def test_the_history_tables_that_matter_are_all_protected() -> None:
    assert {
        "registry_historicalchild",
        "registry_historicalhousehold",
        "registry_historicalparent",
        "registry_historicalmigration",
        "registry_historicalcareagreement",
        "protection_historicalconcern",
        "visits_historicalcontact",
    } <= set(history_tables())


@pytest.mark.parametrize("table", history_tables())
def test_each_history_table_has_its_triggers(table: str) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [table],
            )
            assert {n for (n,) in cursor.fetchall()} >= {f"{table}_no_update", f"{table}_no_delete"}
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [table],
            )
            assert {n for (n,) in cursor.fetchall()} >= {
                f"{table}_append_only",
                f"{table}_no_truncate_append_only",
            }


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE registry_historicalhousehold SET address = 'elsewhere'",
        "DELETE FROM registry_historicalhousehold",
    ],
)
def test_a_history_row_cannot_be_changed_even_by_the_owner(actors: Actors, sql: str) -> None:
    household = Household.objects.create(village_id="620724100201", address="东村1号")
    assert household.history.count() == 1
    with (
        database_owner(),
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert household.history.get().address == "东村1号"


def _privileges(table: str) -> dict[str, bool]:
    with connection.cursor() as cursor:
        return {
            privilege: cursor.execute(
                "SELECT has_table_privilege(current_user, %s, %s)", [table, privilege]
            ).fetchone()[0]
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER")
        }


@postgresql_only
def test_the_tests_run_as_a_runtime_role_that_owns_nothing() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user <> session_user, rolsuper, "
            "(SELECT tableowner FROM pg_tables WHERE tablename = %s) "
            "FROM pg_roles WHERE rolname = current_user",
            [AUDIT_TABLE],
        )
        switched, superuser, owner = cursor.fetchone()
        cursor.execute("SELECT current_user")
        (me,) = cursor.fetchone()
    assert switched
    assert not superuser
    assert owner != me


@postgresql_only
def test_the_runtime_role_may_only_add_to_and_read_the_trail_and_the_history() -> None:
    only_add = {
        "SELECT": True,
        "INSERT": True,
        "UPDATE": False,
        "DELETE": False,
        "TRUNCATE": False,
        "TRIGGER": False,
    }
    assert _privileges(AUDIT_TABLE) == only_add
    for table in history_tables():
        assert _privileges(table) == only_add, table
    assert _privileges(HEAD_TABLE) == {**only_add, "UPDATE": True}
    assert _privileges("registry_child") == {**only_add, "UPDATE": True, "DELETE": True}


@postgresql_only
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET action = 'x'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent",
        "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_no_change",
        "DROP TRIGGER audit_auditevent_no_change ON audit_auditevent",
        "ALTER TABLE registry_historicalchild DISABLE TRIGGER ALL",
        "SET session_replication_role = replica",
    ],
)
def test_the_runtime_role_cannot_undo_the_protection(db: None, sql: str) -> None:
    with (
        pytest.raises(DatabaseError, match=r"permission denied|must be owner"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)


@postgresql_only
def test_it_refuses_to_make_a_runtime_role_of_the_owner_or_a_superuser(db: None) -> None:
    with database_owner(), connection.cursor() as cursor:
        cursor.execute("SELECT session_user")
        (superuser,) = cursor.fetchone()
        with pytest.raises(RoleError, match="superuser, or owns"):
            grant_runtime(connection, superuser)
        with pytest.raises(RoleError, match="plain role name"):
            grant_runtime(connection, 'x"; DROP TABLE audit_auditevent; --')
        with pytest.raises(RoleError, match="No role"):
            grant_runtime(connection, "no_such_role_here")
