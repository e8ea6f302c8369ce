"""Backups and their restore (issue 12, decision 019): a round trip gives back every table row
for row, and the uploaded files; a wrong key, an altered archive and a database that holds
rows are refused.

SQLite: the test's database (with its uncommitted rows: the online backup API reads through
the test's connection) is backed up and restored into a file of its own. PostgreSQL: pg_dump
sees committed rows only, so the source is a copy of the test database (``CREATE DATABASE …
TEMPLATE``) that the test fills and commits, restored into a database created empty; both are
dropped afterwards."""

from __future__ import annotations

import base64
import os
import random
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection
from django.utils import timezone, translation

from tongxin.audit.anchors import audit_anchor
from tongxin.audit.database import grant_runtime
from tongxin.audit.models import AuditEvent
from tongxin.lib import idcard
from tongxin.lib.crypto import new_key_text
from tongxin.lib.sealed import SealError, WrongKeyError
from tongxin.management.backup import (
    BackupError,
    archives_in,
    backup_write,
    protected_tables_without_triggers,
    restore_read,
    table_rows,
)
from tongxin.registry.generator import population_generate
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors, database_owner

SCAN = b"%PDF-1.4 synthetic scan\n" * 50


def _key() -> bytes:
    text = new_key_text()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _fill(actors: Actors, media: Path, anchors: Path) -> None:
    """A small county: generated families, one file with an ID number, an uploaded scan and a
    day's anchor."""
    population_generate(children=15, county="620724", batch=15)
    number = idcard.generate(
        random.Random(7), region="620724", birth_date=date(2014, 5, 1), gender="male"
    )
    make_family(actors, id_number=number)
    (media / "agreements" / "2025").mkdir(parents=True)
    (media / "agreements" / "2025" / "scan.pdf").write_bytes(SCAN)
    audit_anchor(today=timezone.localdate() + timedelta(days=1), path=anchors)


@pytest.fixture
def places(settings: Any, tmp_path: Path) -> dict[str, Path]:
    """The server's files (media, anchors) in a folder of the test's own."""
    server = tmp_path / "server"
    settings.MEDIA_ROOT = server / "media"
    settings.TONGXIN_AUDIT_ANCHOR_FILE = server / "audit_anchors.txt"
    server.mkdir()
    (server / "media").mkdir()
    return {
        "media": server / "media",
        "anchors": server / "audit_anchors.txt",
        "backups": tmp_path / "backups",
    }


def _new_server(settings: Any, tmp_path: Path) -> Path:
    """Point the files at an empty server, as a restore onto new hardware finds it."""
    server = tmp_path / "new-server"
    server.mkdir()
    settings.MEDIA_ROOT = server / "media"
    settings.TONGXIN_AUDIT_ANCHOR_FILE = server / "audit_anchors.txt"
    return server


@dataclass
class Databases:
    """The source (a copy of the test database, the default connection's while the test runs)
    and the target (empty); ``use`` points the default connection at one of them."""

    source: str
    target: str

    def use(self, name: str) -> None:
        connection.close()
        connection.settings_dict["NAME"] = name


@pytest.fixture
def databases(
    django_db_setup: None,
    django_db_blocker: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Databases]:
    # The end-to-end tests' browser (a session fixture) keeps Playwright's event loop running in
    # this thread; Django then refuses to open a connection, which this fixture does several
    # times. Nothing here runs in that loop.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    own = connection.settings_dict
    test_name = own["NAME"]
    with django_db_blocker.unblock():
        if connection.vendor == "sqlite":
            # The test database lives in memory, and closing its last connection would lose
            # it: set that connection aside while the default one points at files.
            connection.ensure_connection()
            memory = connection.connection
            source = tmp_path / "source.sqlite3"
            with closing(sqlite3.connect(source)) as copy:
                memory.backup(copy)
            connection.connection = None
            own["NAME"] = str(source)
            try:
                yield Databases(source=str(source), target=str(tmp_path / "target.sqlite3"))
            finally:
                connection.close()
                own["NAME"] = test_name
                connection.connection = memory
            return
        import psycopg

        server: dict[str, Any] = {
            "host": own["HOST"] or "127.0.0.1",
            "port": own["PORT"] or 5432,
            "user": own["USER"],
            "password": own["PASSWORD"] or None,
        }
        tag = uuid.uuid4().hex[:8]
        names = Databases(source=f"tx_backup_src_{tag}", target=f"tx_backup_dst_{tag}")
        connection.close()
        # Each database has its runtime role (tongxin.testing switches every connection to
        # it): the source's with the application's grants, the target's with none yet.
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            try:
                admin.execute(f'CREATE DATABASE "{names.source}" TEMPLATE "{test_name}"')
            except psycopg.errors.ObjectInUse:
                # A connection an earlier test left open in another thread of this process
                # keeps the test database from being a template: copy it by dump instead.
                admin.execute(f'CREATE DATABASE "{names.source}" TEMPLATE template0')
                _copy_by_dump(server, test_name, names.source)
            admin.execute(f'CREATE DATABASE "{names.target}" TEMPLATE template0')
            for name in (names.source, names.target):
                admin.execute(f"CREATE ROLE {name}_runtime NOLOGIN")
        own["NAME"] = names.source
        try:
            with database_owner():
                grant_runtime(connection, f"{names.source}_runtime")
            yield names
        finally:
            connection.close()
            own["NAME"] = test_name
            with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
                for name in (names.source, names.target):
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    admin.execute(f"DROP ROLE IF EXISTS {name}_runtime")


def _copy_by_dump(server: dict[str, Any], source: str, target: str) -> None:
    """``source`` into the empty ``target``, through pg_dump and pg_restore."""
    env = {**os.environ, "PGPASSWORD": server["password"] or ""}
    common = ["-h", str(server["host"]), "-p", str(server["port"]), "-U", server["user"]]
    pg_dump, pg_restore = shutil.which("pg_dump"), shutil.which("pg_restore")
    assert pg_dump, "PostgreSQL's client programs are needed"
    assert pg_restore, "PostgreSQL's client programs are needed"
    dump = subprocess.run(
        [pg_dump, "--format=custom", *common, source], env=env, capture_output=True, check=True
    )
    subprocess.run(
        [pg_restore, "--no-owner", "--no-privileges", *common, "-d", target],
        input=dump.stdout,
        env=env,
        capture_output=True,
        check=True,
    )


class _Sink(StringIO):
    pass


def test_it_gives_back_every_row_and_file(
    databases: Databases,
    places: dict[str, Path],
    settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Backup, restore into an empty database on an empty server: every table row for row,
    every file byte for byte, the append-only triggers in place, the audit trail verifies."""
    _fill(Actors(), places["media"], places["anchors"])
    text = new_key_text()
    monkeypatch.setenv("TONGXIN_BACKUP_KEY", text)
    out = _Sink()
    call_command("backup", str(places["backups"]), stdout=out)
    (archive,) = archives_in(places["backups"])
    source = table_rows(connection)

    server = _new_server(settings, tmp_path)
    databases.use(databases.target)
    if connection.vendor == "postgresql":
        settings.TONGXIN_DB_RUNTIME_ROLE = f"{databases.target}_runtime"
    out = _Sink()
    # On PostgreSQL the restore runs as the tables' owner, not the runtime role.
    with database_owner():
        call_command("restore", str(archive), stdout=out)
        after = table_rows(connection)
        assert protected_tables_without_triggers(connection) == []
        with connection.cursor() as cursor, pytest.raises(DatabaseError, match="append-only"):
            cursor.execute("UPDATE registry_historicalchild SET name = 'x'")
    # The runtime role is granted its privileges on the restored tables again.
    assert AuditEvent.objects.count() == len(after["audit_auditevent"])

    assert sum(len(rows) for rows in source.values()) > 200
    # The data generation may move with the restore's own statements (on PostgreSQL its grants
    # and triggers): pages kept from before are made again (decision 024). Its row is there.
    assert len(after.pop("core_datageneration")) == len(source.pop("core_datageneration"))
    assert sorted(after) == sorted(source)
    assert {"registry_child", "audit_auditevent", "django_migrations"} <= set(after)
    for table, rows in source.items():
        assert after[table] == rows, table
    assert (server / "media" / "agreements" / "2025" / "scan.pdf").read_bytes() == SCAN
    assert (server / "audit_anchors.txt").read_bytes() == places["anchors"].read_bytes()
    assert "1" in out.getvalue()  # the audit trail verified, with its count of entries


def test_it_refuses_another_key(databases: Databases, places: dict[str, Path]) -> None:
    done = backup_write(connection=connection, directory=places["backups"], key=_key())
    databases.use(databases.target)
    with database_owner(), pytest.raises(WrongKeyError):
        restore_read(connection=connection, archive=done.path, key=_key())


@pytest.mark.parametrize("where", ["middle", "last byte", "cut short"])
def test_it_refuses_an_altered_archive(
    databases: Databases, places: dict[str, Path], where: str
) -> None:
    key = _key()
    done = backup_write(connection=connection, directory=places["backups"], key=key)
    data = bytearray(done.path.read_bytes())
    if where == "cut short":
        data = data[: len(data) - 100]
    else:
        data[len(data) // 2 if where == "middle" else len(data) - 1] ^= 0x01
    done.path.write_bytes(bytes(data))
    databases.use(databases.target)
    with database_owner():
        with pytest.raises(SealError):
            restore_read(connection=connection, archive=done.path, key=key)
        assert table_rows(connection) in ({}, {"sqlite_sequence": []})


def test_it_refuses_a_database_that_holds_rows(
    databases: Databases, places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TONGXIN_BACKUP_KEY", new_key_text())
    call_command("backup", str(places["backups"]), stdout=_Sink())
    (archive,) = archives_in(places["backups"])
    with translation.override("zh-hans"), pytest.raises(CommandError) as refused:
        call_command("restore", str(archive), stdout=_Sink())
    assert "accounts_user" in str(refused.value)
    with pytest.raises(BackupError) as raised:
        restore_read(connection=connection, archive=archive, key=_key_from_env())
    assert raised.value.code == "not_empty"


def test_the_command_says_the_key_is_another(
    databases: Databases, places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TONGXIN_BACKUP_KEY", new_key_text())
    call_command("backup", str(places["backups"]), stdout=_Sink())
    (archive,) = archives_in(places["backups"])
    monkeypatch.setenv("TONGXIN_BACKUP_KEY", new_key_text())
    databases.use(databases.target)
    with translation.override("en"), database_owner(), pytest.raises(CommandError) as refused:
        call_command("restore", str(archive), stdout=_Sink())
    assert "另一个备份密钥" in str(refused.value)  # "another backup key", in the county's language


@pytest.mark.django_db
def test_it_refuses_to_run_without_a_key_or_with_the_data_key(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TONGXIN_BACKUP_KEY", raising=False)
    monkeypatch.delenv("TONGXIN_BACKUP_KEY_FILE", raising=False)
    with pytest.raises(CommandError, match="--new-key"):
        call_command("backup", str(places["backups"]), stdout=_Sink())
    same = new_key_text()
    monkeypatch.setenv("TONGXIN_DATA_KEY", same)
    monkeypatch.setenv("TONGXIN_BACKUP_KEY", same)
    with pytest.raises(CommandError, match="--new-key"):
        call_command("backup", str(places["backups"]), stdout=_Sink())
    assert not places["backups"].exists()


def test_it_reads_the_key_from_a_file_and_keeps_the_newest(
    databases: Databases, places: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key_file = tmp_path / "backup_key"
    key_file.write_text(new_key_text() + "\n")
    monkeypatch.delenv("TONGXIN_BACKUP_KEY", raising=False)
    monkeypatch.setenv("TONGXIN_BACKUP_KEY_FILE", str(key_file))
    for _ in range(3):
        call_command("backup", str(places["backups"]), "--keep", "2", stdout=_Sink())
    assert len(archives_in(places["backups"])) == 2
    assert [p.name for p in places["backups"].iterdir() if p.name.startswith(".")] == []


def _key_from_env() -> bytes:
    import os

    text = os.environ["TONGXIN_BACKUP_KEY"]
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
