"""Backups and their restore (issue 12, decision 019): one sealed archive holding the database,
the uploaded files and the audit trail's anchor file, with a manifest to check them against.

Inside the sealed stream (``tongxin/lib/sealed.py``) is a tar stream:

- ``database.sqlite3`` (SQLite's online backup API) or ``database.pgdump`` (``pg_dump
  --format=custom``, taken in the same snapshot the manifest is counted in);
- ``files/media/…``: ``MEDIA_ROOT`` (scanned agreements, report attachments, intervention
  documents); ``files/audit_anchors.txt``: the anchor file;
- ``manifest.json``: per table its row count and the SHA-256 of its rows in key order, per file
  its size and SHA-256.

Not in it: the data key (kept apart, or the ID numbers are lost with it: docs/privacy.md);
waiting ledger uploads (deleted within days anyway, and uploaded again) and finished exports
(deleted after a day).

Every table is read row by row with a server-side cursor, and the dump and the archive go
through files and chunks: a large database never sits in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper

from tongxin.audit.database import AUDIT_TABLE, grant_runtime, history_tables
from tongxin.lib.sealed import SealedReader, SealedWriter

FORMAT = 1
SUFFIX = ".txbak"
PREFIX = "tongxin-"
MANIFEST = "manifest.json"
FETCH = 2000


class BackupError(Exception):
    """A backup or restore cannot go on; ``code`` says why, ``names`` what it concerns."""

    def __init__(self, code: str, names: list[str] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.names = names or []


# --- reading tables the same way on both sides -----------------------------------------------


def _sqlite_tables(db: sqlite3.Connection) -> dict[str, str | None]:
    tables: dict[str, str | None] = {}
    names = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).fetchall()
    for (name,) in names:
        keys = [r[1] for r in db.execute(f'PRAGMA table_info("{name}")') if r[5] == 1]
        tables[name] = keys[0] if len(keys) == 1 else None
    return tables


def _sqlite_rows(db: sqlite3.Connection, table: str, key: str | None) -> Iterator[bytes]:
    order = f'"{key}"' if key else "rowid"
    cursor = db.execute(f'SELECT * FROM "{table}" ORDER BY {order}')  # noqa: S608
    while rows := cursor.fetchmany(FETCH):
        for row in rows:
            yield repr(row).encode("utf-8")


_PG_TABLES = """
SELECT c.relname, a.attname
FROM pg_class c
LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary AND i.indnatts = 1
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
WHERE c.relkind IN ('r', 'p') AND c.relnamespace = current_schema()::regnamespace
ORDER BY c.relname
"""


def _pg_tables(raw: Any) -> dict[str, str | None]:
    with raw.cursor() as cursor:
        cursor.execute(_PG_TABLES)
        return dict(cursor.fetchall())


def _pg_rows(raw: Any, table: str, key: str | None) -> Iterator[bytes]:
    """Each row as PostgreSQL writes it as text (a row value's output form): independent of
    how the driver would load each type."""
    from psycopg import sql

    order = sql.Identifier(key) if key else sql.SQL("t::text")
    query = sql.SQL("SELECT t::text FROM {} AS t ORDER BY {}").format(sql.Identifier(table), order)
    with raw.cursor(name=f"tx_rows_{os.urandom(4).hex()}") as cursor:
        cursor.itersize = FETCH
        cursor.execute(query)
        for (text,) in cursor:
            yield text.encode("utf-8")


@dataclass
class TableSum:
    rows: int = 0
    sha256: str = ""


def _sum(rows: Iterator[bytes]) -> TableSum:
    digest = hashlib.sha256()
    count = 0
    for row in rows:
        digest.update(len(row).to_bytes(8, "big") + row)
        count += 1
    return TableSum(rows=count, sha256=digest.hexdigest())


class Reader:
    """One database read the same way whichever side of a backup it is on: its tables, each
    table's rows as bytes in key order."""

    def __init__(self, vendor: str, handle: Any) -> None:
        self.vendor = vendor
        self.handle = handle

    def tables(self) -> dict[str, str | None]:
        if self.vendor == "sqlite":
            return _sqlite_tables(self.handle)
        return _pg_tables(self.handle)

    def rows(self, table: str, key: str | None) -> Iterator[bytes]:
        if self.vendor == "sqlite":
            return _sqlite_rows(self.handle, table, key)
        return _pg_rows(self.handle, table, key)

    def sums(self) -> dict[str, TableSum]:
        return {t: _sum(self.rows(t, key)) for t, key in self.tables().items()}

    def holding_rows(self) -> list[str]:
        found = []
        for table in self.tables():
            if self.vendor == "sqlite":
                row = self.handle.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone()  # noqa: S608
            else:
                from psycopg import sql

                with self.handle.cursor() as cursor:
                    cursor.execute(
                        sql.SQL("SELECT 1 FROM {} LIMIT 1").format(sql.Identifier(table))
                    )
                    row = cursor.fetchone()
            if row is not None:
                found.append(table)
        return found


def open_reader(connection: BaseDatabaseWrapper) -> closing[Any]:
    """A connection of its own to ``connection``'s database, read as ``Reader`` reads: a plain
    sqlite3 connection (no type converters), or psycopg as the connecting user."""
    if connection.vendor == "sqlite":
        return closing(sqlite3.connect(str(connection.settings_dict["NAME"])))
    raw = connection.get_new_connection(connection.get_connection_params())
    raw.autocommit = False
    return closing(raw)


# --- PostgreSQL's own tools ------------------------------------------------------------------


def _pg_command(connection: BaseDatabaseWrapper, program: str) -> tuple[list[str], dict[str, str]]:
    s = connection.settings_dict
    args = [program, "--no-password", "--dbname", str(s["NAME"])]
    for flag, value in (("--host", s.get("HOST")), ("--port", s.get("PORT"))):
        if value:
            args += [flag, str(value)]
    if s.get("USER"):
        args += ["--username", str(s["USER"])]
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    return args, env


def _run(args: list[str], env: dict[str, str], code: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        # pg_dump and pg_restore name objects, never row values: safe to pass on.
        raise BackupError(code, [line for line in done.stderr.splitlines() if line][-5:])


# --- files -----------------------------------------------------------------------------------


def _file_roots() -> list[tuple[str, Path]]:
    """What is kept besides the database, as (name in the archive, path on this server)."""
    return [
        ("files/media", Path(settings.MEDIA_ROOT)),
        ("files/audit_anchors.txt", Path(settings.TONGXIN_AUDIT_ANCHOR_FILE)),
    ]


def _files() -> Iterator[tuple[str, Path]]:
    for name, root in _file_roots():
        if root.is_file():
            yield name, root
        elif root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    yield f"{name}/{path.relative_to(root).as_posix()}", path


def _target(name: str) -> Path:
    for prefix, root in _file_roots():
        if name == prefix:
            return root
        if name.startswith(prefix + "/"):
            return root / name[len(prefix) + 1 :]
    raise BackupError("bad_member", [name])


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK_READ):
            digest.update(block)
    return digest.hexdigest()


CHUNK_READ = 1 << 20


class _Hashing:
    """A file read by tarfile, hashed on the way."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f = f
        self.digest = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self.digest.update(data)
        return data


def _add(tar: tarfile.TarFile, name: str, path: Path) -> dict[str, Any]:
    info = tarfile.TarInfo(name)
    info.size = path.stat().st_size
    info.mode = 0o600
    with path.open("rb") as f:
        hashing = _Hashing(f)
        tar.addfile(info, hashing)
    return {"bytes": info.size, "sha256": hashing.digest.hexdigest()}


# --- backup ----------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    tables: int
    rows: int
    files: int
    removed: list[Path] = field(default_factory=list)


def _dump(connection: BaseDatabaseWrapper, work: Path) -> tuple[str, Path, dict[str, TableSum]]:
    if connection.vendor == "sqlite":
        copy = work / "database.sqlite3"
        connection.ensure_connection()
        with closing(sqlite3.connect(copy)) as target:
            connection.connection.backup(target)
        with closing(sqlite3.connect(copy)) as db:
            return "database.sqlite3", copy, Reader("sqlite", db).sums()
    if connection.vendor != "postgresql":
        raise BackupError("engine", [connection.vendor])
    dump = work / "database.pgdump"
    with open_reader(connection) as raw:
        # The dump and the manifest see one snapshot: rows written meanwhile are in neither.
        with raw.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot,) = cursor.fetchone()
        args, env = _pg_command(connection, "pg_dump")
        _run(
            [*args, "--format=custom", f"--snapshot={snapshot}", "--file", str(dump)],
            env,
            "pg_dump",
        )
        sums = Reader("postgresql", raw).sums()
        raw.rollback()
    return "database.pgdump", dump, sums


def archives_in(directory: Path) -> list[Path]:
    """The archives ``backup`` wrote in ``directory``, oldest first (their names sort by time)."""
    return sorted(p for p in directory.glob(f"{PREFIX}*{SUFFIX}") if p.is_file())


def backup_write(
    *, connection: BaseDatabaseWrapper, directory: Path, key: bytes, keep: int | None = None
) -> BackupResult:
    """Write one sealed archive into ``directory``; with ``keep``, then delete all but the
    newest ``keep`` archives there."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    final = directory / f"{PREFIX}{now:%Y%m%dT%H%M%S%fZ}{SUFFIX}"
    partial = final.with_name(final.name + ".partial")
    # The plaintext dump waits in a private folder beside the archive, and is gone after.
    with tempfile.TemporaryDirectory(dir=directory, prefix=".backup-") as tmp:
        work = Path(tmp)
        db_name, db_path, sums = _dump(connection, work)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": now.isoformat(),
            "engine": connection.vendor,
            "database": {},
            "tables": {t: {"rows": s.rows, "sha256": s.sha256} for t, s in sums.items()},
            "files": {},
        }
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                sealed = SealedWriter(out, key)
                with tarfile.open(fileobj=sealed, mode="w|") as tar:
                    manifest["database"] = {"name": db_name, **_add(tar, db_name, db_path)}
                    for name, path in _files():
                        manifest["files"][name] = _add(tar, name, path)
                    body = json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")
                    info = tarfile.TarInfo(MANIFEST)
                    info.size = len(body)
                    info.mode = 0o600
                    tar.addfile(info, _BytesReader(body))
                sealed.close()
                out.flush()
                os.fsync(out.fileno())
            partial.rename(final)
        finally:
            partial.unlink(missing_ok=True)
    removed: list[Path] = []
    if keep is not None:
        for old in archives_in(directory)[:-keep] if keep > 0 else []:
            old.unlink()
            removed.append(old)
    return BackupResult(
        path=final,
        tables=len(sums),
        rows=sum(s.rows for s in sums.values()),
        files=len(manifest["files"]),
        removed=removed,
    )


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def read(self, n: int = -1) -> bytes:
        end = len(self.data) if n < 0 else self.pos + n
        block = self.data[self.pos : end]
        self.pos += len(block)
        return block


# --- restore ---------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    tables: int
    rows: int
    files: int
    created_at: str


def _unpack(archive: Path, key: bytes, work: Path) -> dict[str, Any]:
    """Decrypt and unpack the whole archive into ``work``, every chunk authenticated, before
    anything of the target is touched."""
    with archive.open("rb") as source:
        reader = SealedReader(source, key)
        with tarfile.open(fileobj=reader, mode="r|") as tar:
            tar.extractall(work, filter="data")
    try:
        manifest: dict[str, Any] = json.loads((work / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError("no_manifest") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError("format", [str(manifest.get("format"))])
    unpacked = {name: work / name for name in [manifest["database"]["name"], *manifest["files"]]}
    wrong = [
        name
        for name, expected in [
            (manifest["database"]["name"], manifest["database"]),
            *list(manifest["files"].items()),
        ]
        if not unpacked[name].is_file() or _file_sha256(unpacked[name]) != expected["sha256"]
    ]
    if wrong:
        raise BackupError("file_hash", wrong)
    return manifest


def _check_target(connection: BaseDatabaseWrapper, manifest: dict[str, Any]) -> None:
    if manifest["engine"] != connection.vendor:
        raise BackupError("engine", [manifest["engine"], connection.vendor])
    if connection.vendor == "sqlite" and not Path(str(connection.settings_dict["NAME"])).exists():
        busy: list[str] = []
    else:
        with open_reader(connection) as raw:
            busy = Reader(connection.vendor, raw).holding_rows()
            if connection.vendor == "postgresql":
                raw.rollback()
    if busy:
        raise BackupError("not_empty", busy)
    clash = [
        name
        for name, expected in manifest["files"].items()
        if _target(name).exists() and _file_sha256(_target(name)) != expected["sha256"]
    ]
    if clash:
        raise BackupError("file_exists", clash)


def _load(connection: BaseDatabaseWrapper, database: Path) -> None:
    if connection.vendor == "sqlite":
        connection.close()
        path = Path(str(connection.settings_dict["NAME"]))
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(database)) as source, closing(sqlite3.connect(path)) as db:
            source.backup(db)
        return
    with open_reader(connection) as raw:
        tables = Reader("postgresql", raw).tables()
        raw.rollback()
    args, env = _pg_command(connection, "pg_restore")
    # The restoring role (the owner) owns what it restores; the runtime role is granted again
    # below. Empty tables (a database someone migrated) are dropped first.
    extra = ["--clean", "--if-exists"] if tables else []
    _run(
        [
            *args,
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            *extra,
            str(database),
        ],
        env,
        "pg_restore",
    )


def protected_tables_without_triggers(connection: BaseDatabaseWrapper) -> list[str]:
    """The audit trail and history tables that lack their append-only triggers."""
    tables = [AUDIT_TABLE, *history_tables()]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'"
            )
        guarded = {name for (name,) in cursor.fetchall()}
    present = set(connection.introspection.table_names())
    return [t for t in tables if t in present and t not in guarded]


def restore_read(
    *, connection: BaseDatabaseWrapper, archive: Path, key: bytes, runtime_role: str = ""
) -> RestoreResult:
    """Restore ``archive`` into ``connection``'s database, which must hold no rows, and its
    files into their places; then count and hash every table again against the manifest."""
    work_parent = Path(settings.VAR_DIR)
    with tempfile.TemporaryDirectory(dir=work_parent, prefix=".restore-") as tmp:
        work = Path(tmp)
        manifest = _unpack(archive, key, work)
        _check_target(connection, manifest)
        _load(connection, work / manifest["database"]["name"])
        with open_reader(connection) as raw:
            found = Reader(connection.vendor, raw).sums()
            if connection.vendor == "postgresql":
                raw.rollback()
        expected = manifest["tables"]
        differ = sorted(
            t
            for t in set(found) | set(expected)
            if t not in found
            or t not in expected
            or (found[t].rows, found[t].sha256) != (expected[t]["rows"], expected[t]["sha256"])
        )
        if differ:
            raise BackupError("table_hash", differ)
        for name in manifest["files"]:
            target = _target(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work / name, target)
        if connection.vendor == "postgresql" and runtime_role:
            grant_runtime(connection, runtime_role)
    unguarded = protected_tables_without_triggers(connection)
    if unguarded:
        raise BackupError("triggers", unguarded)
    return RestoreResult(
        tables=len(found),
        rows=sum(s.rows for s in found.values()),
        files=len(manifest["files"]),
        created_at=manifest["created_at"],
    )


def table_rows(connection: BaseDatabaseWrapper) -> dict[str, list[bytes]]:
    """Every table of ``connection``'s database, row by row: for tests that compare two."""
    with open_reader(connection) as raw:
        reader = Reader(connection.vendor, raw)
        rows = {t: list(reader.rows(t, key)) for t, key in reader.tables().items()}
        if connection.vendor == "postgresql":
            raw.rollback()
    return rows
