"""The chain on a database of its own, through ``manage.py`` in processes of their own, as a
server runs it: the migration chains the entries written before it; three writers at once
still make one chain; on PostgreSQL the application runs as a runtime role that cannot change
an entry nor disable a trigger, while the owner (the person with the database) can change an
entry, and ``audit_verify`` then names it (decision 016, docs/deploy-database.md).

A database of its own because these writes must be committed to be seen by other connections,
and committed audit entries cannot be removed again from the test database."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

THREADS, PER_THREAD = 3, 15
WRITERS = "tongxin.audit.tests.chain_writers"
LEGACY = 2  # entries written before the chain existed


@dataclass
class Fresh:
    """A database of its own: how the owner and the runtime role reach it, and how the owner
    runs a statement on it."""

    owner_url: str
    runtime_url: str
    env: dict[str, str]
    execute: Callable[[str], None]
    disable_triggers: str
    enable_triggers: str
    runtime: dict[str, Any] | None = None  # PostgreSQL: the runtime role's connection keywords

    def manage(self, *args: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env={**self.env, "DATABASE_URL": url or self.owner_url},
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )

    def writers(self) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-m", WRITERS, str(THREADS), str(PER_THREAD)],
            cwd=settings.BASE_DIR,
            env={**self.env, "DATABASE_URL": self.runtime_url},
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return found


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "PYTEST"))}
    env["DJANGO_SETTINGS_MODULE"] = "tongxin.settings"
    env["TONGXIN_AUDIT_ANCHOR_FILE"] = str(tmp_path / "anchors.txt")
    return env


LEGACY_ROWS = (
    "INSERT INTO audit_auditevent (at, actor_username, actor_role, action, object_type, "
    "object_code, division_code, ip, result, detail) VALUES "
    "('2024-06-01 10:00:00', 'officer', 'county_admin', 'child.view', 'child', 'c1', "
    "'620724100201', '10.0.0.1', 'ok', '{\"fields\": [\"name\"], \"n\": 1.0}'), "
    "('2024-06-01 10:00:01.5', '', '', 'auth.login_failed', '', '', '', NULL, 'failed', '{}')"
)


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Fresh]:
    if connection.vendor == "sqlite":
        path = tmp_path / "fresh.sqlite3"
        url = f"sqlite:///{path}"

        def execute_sqlite(sql: str) -> None:
            with sqlite3.connect(path) as db:
                db.executescript(sql)

        yield Fresh(
            owner_url=url,
            runtime_url=url,
            env=_env(tmp_path),
            execute=execute_sqlite,
            disable_triggers="DROP TRIGGER audit_auditevent_no_update;",
            enable_triggers="",
        )
        return
    import psycopg

    own = connection.settings_dict
    server: dict[str, Any] = {
        "host": own["HOST"] or "127.0.0.1",
        "port": own["PORT"] or 5432,
        "user": own["USER"],
        "password": own["PASSWORD"] or None,
    }
    tag = uuid.uuid4().hex[:8]
    name, owner, runtime = f"tx_audit_{tag}", f"tx_owner_{tag}", f"tx_app_{tag}"
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f"CREATE ROLE {owner} LOGIN CREATEROLE PASSWORD 'owner-{tag}'")
        admin.execute(f'CREATE DATABASE "{name}" OWNER {owner}')
    host, port = server["host"], server["port"]

    def execute_pg(sql: str) -> None:
        with psycopg.connect(
            dbname=name, host=host, port=port, user=owner, password=f"owner-{tag}"
        ) as db:
            db.execute(sql)

    env = {**_env(tmp_path), "TONGXIN_DB_RUNTIME_PASSWORD": f"app-{tag}"}
    try:
        yield Fresh(
            owner_url=f"postgres://{owner}:owner-{tag}@{host}:{port}/{name}",
            runtime_url=f"postgres://{runtime}:app-{tag}@{host}:{port}/{name}",
            env=env,
            execute=execute_pg,
            disable_triggers="ALTER TABLE audit_auditevent DISABLE TRIGGER USER",
            enable_triggers="ALTER TABLE audit_auditevent ENABLE TRIGGER USER",
            runtime={
                "dbname": name,
                "host": host,
                "port": port,
                "user": runtime,
                "password": f"app-{tag}",
            },
        )
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f"DROP ROLE IF EXISTS {runtime}")
            admin.execute(f"DROP ROLE IF EXISTS {owner}")


def _migrate(fresh: Fresh) -> None:
    done = fresh.manage("migrate", "audit", "0002", "--verbosity", "0")
    assert done.returncode == 0, done.stderr[-3000:]
    fresh.execute(LEGACY_ROWS)
    done = fresh.manage("migrate", "audit", "--verbosity", "0")
    assert done.returncode == 0, done.stderr[-3000:]
    if fresh.runtime is not None:
        done = fresh.manage("db_runtime_role", fresh.runtime["user"], "--create")
        assert done.returncode == 0, done.stderr[-3000:]


def test_the_migration_chains_old_entries_and_concurrent_writers_make_one_chain(
    fresh: Fresh,
) -> None:
    _migrate(fresh)
    # The application, as the runtime role where there is one: three writers at once.
    assert fresh.writers() == {"errors": []}
    total = LEGACY + THREADS * PER_THREAD
    done = fresh.manage("audit_verify", url=fresh.runtime_url)
    assert done.returncode == 0, done.stderr[-3000:]
    # In the site's language: the numbers are what the test can read.
    assert f"{total}" in done.stdout

    # The person with the database changes an entry; audit_verify names it.
    change = "UPDATE audit_auditevent SET actor_username = 'someone' WHERE seq = 17"
    fresh.execute(f"{fresh.disable_triggers}; {change}; {fresh.enable_triggers}")
    done = fresh.manage("audit_verify", url=fresh.runtime_url)
    assert done.returncode == 1
    assert "17" in done.stderr


def test_the_runtime_role_cannot_change_the_trail_nor_disable_its_triggers(
    fresh: Fresh,
) -> None:
    if fresh.runtime is None:
        pytest.skip("database roles are PostgreSQL's")
    import psycopg
    from psycopg import errors

    _migrate(fresh)
    refused = [
        "UPDATE audit_auditevent SET action = 'x'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent",
        "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_no_change",
        "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_auditevent_no_change ON audit_auditevent",
        "SET session_replication_role = replica",
        "DELETE FROM audit_auditchainhead",
        "CREATE TABLE audit_sneaky (id int)",
    ]
    with psycopg.connect(autocommit=True, **fresh.runtime) as db:
        for sql in refused:
            with pytest.raises(errors.InsufficientPrivilege):
                db.execute(sql)
        assert db.execute("SELECT count(*) FROM audit_auditevent").fetchone() == (LEGACY,)
        # What it needs it has: the head moves (tested by writing, above).
        with db.transaction(force_rollback=True):
            db.execute("UPDATE audit_auditchainhead SET seq = seq")
