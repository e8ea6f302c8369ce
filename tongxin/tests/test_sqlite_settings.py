"""SQLite as the README documents it (``DATABASE_URL=sqlite:///…``) gets the same connection
options as the built-in default: WAL, IMMEDIATE transactions and a busy timeout. Without them,
concurrent writers fail with "database is locked" instead of waiting their turn."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str | None) -> dict[str, Any]:
    """The settings module evaluated afresh under another environment."""
    monkeypatch.setenv("TONGXIN_VAR_DIR", str(tmp_path))
    if url is None:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("DATABASE_URL", url)
    return runpy.run_path(str(BASE_DIR / "tongxin" / "settings.py"), run_name="settings_probe")


@pytest.mark.parametrize(
    "url",
    [None, "sqlite:///var/tongxin.sqlite3", "sqlite:////srv/tongxin/db.sqlite3"],
    ids=["unset", "relative-url", "absolute-url"],
)
def test_it_gives_sqlite_its_options_however_it_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str | None
) -> None:
    database = _settings(monkeypatch, tmp_path, url)["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    options = database["OPTIONS"]
    assert "journal_mode=WAL" in options["init_command"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 10


def test_it_gives_postgresql_no_sqlite_options(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    database = _settings(monkeypatch, tmp_path, "postgres://u@db.example:5432/tongxin")["DATABASES"]
    assert database["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert "transaction_mode" not in database["default"].get("OPTIONS", {})


# Twenty writers, each reading then writing in one transaction (the shape of every service:
# check, then save): under SQLite's default DEFERRED mode two of them holding read locks
# deadlock on the upgrade, and SQLite answers "database is locked" at once, without waiting.
_WRITERS = """
import json, sys, threading, time
import django
django.setup()
from django.db import connection, connections, transaction

with connection.cursor() as c:
    c.execute("CREATE TABLE IF NOT EXISTS visit (id INTEGER PRIMARY KEY, n INTEGER)")
connection.close()
errors = []

def writer(k):
    try:
        for i in range(5):
            with transaction.atomic():
                with connection.cursor() as c:
                    c.execute("SELECT COUNT(*) FROM visit")
                    seen = c.fetchone()[0]
                    time.sleep(0.005)
                    c.execute("INSERT INTO visit (n) VALUES (%s)", [seen])
    except Exception as e:
        errors.append(f"{type(e).__name__}: {e}")
    finally:
        connections.close_all()

threads = [threading.Thread(target=writer, args=(k,)) for k in range(20)]
for t in threads: t.start()
for t in threads: t.join()
with connection.cursor() as c:
    c.execute("SELECT COUNT(*) FROM visit")
    rows = c.fetchone()[0]
print(json.dumps({"errors": errors, "rows": rows}))
"""


def test_it_lets_twenty_concurrent_writers_through_a_sqlite_url(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tongxin.settings",
        "TONGXIN_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'load.sqlite3'}",
    }
    done = subprocess.run(
        [sys.executable, "-c", _WRITERS],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["errors"] == []
    assert outcome["rows"] == 100
