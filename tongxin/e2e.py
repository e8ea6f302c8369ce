"""End-to-end support: the app in its own process, on its own SQLite file, with the demo loaded,
and Debian's Chromium driven by Playwright. Used by tests marked ``e2e``.

The server runs in a separate process (not pytest-django's ``live_server``): the audit table is
append-only, so the table-emptying that ``live_server`` needs is refused by design.
"""

from __future__ import annotations

import atexit
import functools
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
ARTIFACTS = BASE_DIR / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@dataclass(frozen=True)
class DemoServer:
    url: str
    passwords: dict[str, str]
    # The server's environment (its database): for a command a test runs against that database.
    env: dict[str, str] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _admin_url(url: str) -> str:
    return urlsplit(url)._replace(path="/postgres").geturl()


def _create_database(url: str, name: str, template: str | None = None) -> str:
    """A new database on the server of ``url`` (a copy of ``template`` if given): its URL."""
    import psycopg
    from psycopg import sql

    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(create)
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def _drop_database(url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _environment(var_dir: Path, database_url: str | None) -> dict[str, str]:
    """A demo server's environment: production settings, its own var folder and database."""
    env = {
        **os.environ,
        "TONGXIN_VAR_DIR": str(var_dir),
        "TONGXIN_DEMO": "1",
        "DEBUG": "0",
        # The demo keeps its data key in its var folder (docs/data-key.md).
        "TONGXIN_ACCEPT_KEY_IN_DATA_DIR": "1",
        "DJANGO_SETTINGS_MODULE": "tongxin.settings",
        "STATIC_ROOT": str(collected_static()),
    }
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


MANAGE = [sys.executable, str(BASE_DIR / "manage.py")]


@dataclass(frozen=True)
class _Demo:
    """The demo county, migrated and loaded once per test process: its var folder (the secret
    key the encrypted ID numbers need, and the SQLite file), its PostgreSQL database (under
    DATABASE_URL; else None) and the demo accounts' passwords."""

    var_dir: Path
    database: str | None
    passwords: dict[str, str]


@functools.cache
def _demo_template() -> _Demo:
    """Migrate and load the demo once; every demo server of the process starts from a copy
    (loading it takes most of a server's start, and each test module wants its own)."""
    var_dir = Path(tempfile.mkdtemp(prefix="tongxin-demo-"))
    atexit.register(shutil.rmtree, var_dir, ignore_errors=True)
    database = database_url = None
    if url := os.environ.get("DATABASE_URL"):
        database = f"tongxin_e2e_demo_{secrets.token_hex(4)}"
        database_url = _create_database(url, database)
        atexit.register(_drop_database, url, database)
    env = _environment(var_dir, database_url)
    subprocess.run([*MANAGE, "migrate", "-v", "0"], env=env, check=True, cwd=BASE_DIR)
    out = subprocess.run(
        [*MANAGE, "load_demo"], env=env, check=True, cwd=BASE_DIR, capture_output=True, text=True
    ).stdout
    passwords = dict(re.findall(r"^\s+(demo_\w+)\s+\w+\s+(\S+)$", out, re.M))
    return _Demo(var_dir=var_dir, database=database, passwords=passwords)


@contextmanager
def _scratch_database(template: str | None) -> Iterator[str | None]:
    """Under DATABASE_URL (PostgreSQL), a copy of the demo's database on the same server,
    dropped after; otherwise None (the server then uses the SQLite file in its var folder)."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield None
        return
    name = f"tongxin_e2e_{secrets.token_hex(4)}"
    copy = _create_database(url, name, template)
    try:
        yield copy
    finally:
        _drop_database(url, name)


@contextmanager
def demo_server(var_dir: Path, *, gunicorn: bool = False, **settings: str) -> Iterator[DemoServer]:
    """A copy of the demo county (its own database and var folder), served; stopped at exit.
    The database is SQLite in ``var_dir``, or a scratch PostgreSQL database when DATABASE_URL
    is set. ``settings``: more of the environment (``TONGXIN_EXPORT_INLINE_ROWS="100"``).
    ``gunicorn``: served as production serves it (deploy/gunicorn.conf.py), not by runserver."""
    demo = _demo_template()
    shutil.copytree(demo.var_dir, var_dir, dirs_exist_ok=True)
    with (
        _scratch_database(demo.database) as database_url,
        _serve(var_dir, database_url, demo.passwords, settings, gunicorn=gunicorn) as server,
    ):
        yield server


@functools.cache
def collected_static() -> Path:
    """The static files as production serves them (hashed names, gzip copies), collected once
    per test process into a folder of its own and shared by its demo servers."""
    root = Path(tempfile.mkdtemp(prefix="tongxin-static-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    env = {**os.environ, "DEBUG": "0", "STATIC_ROOT": str(root)}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), "collectstatic", "--noinput", "-v", "0"],
        env=env,
        check=True,
        cwd=BASE_DIR,
    )
    return root


def _server_command(port: int, gunicorn: bool) -> list[str]:
    if not gunicorn:
        return [*MANAGE, "runserver", f"127.0.0.1:{port}", "--noreload", "--insecure"]
    config = str(BASE_DIR / "deploy" / "gunicorn.conf.py")
    # Two workers, not the 2-core server's five: the tests share the machine.
    return [
        *[sys.executable, "-m", "gunicorn", "-c", config, "--bind", f"127.0.0.1:{port}"],
        *["--workers", "2", "--access-logfile", "/dev/null", "tongxin.wsgi"],
    ]


@contextmanager
def _serve(
    var_dir: Path,
    database_url: str | None,
    passwords: dict[str, str],
    settings: dict[str, str],
    *,
    gunicorn: bool = False,
) -> Iterator[DemoServer]:
    env = {**_environment(var_dir, database_url), **settings}
    manage = MANAGE
    port = _free_port()
    server = subprocess.Popen(
        _server_command(port, gunicorn),
        env=env,
        cwd=BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # The worker that runs background tasks (ledger checks and imports), as `make run` starts.
    worker = subprocess.Popen(
        [*manage, "db_worker", "--interval", "0.2", "--no-startup-delay", "--no-reload"],
        env=env,
        cwd=BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a loaded 2-core machine starts it slowly
        while True:
            try:
                urllib.request.urlopen(f"{url}/accounts/login/", timeout=2)  # noqa: S310
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the demo server did not start") from None
                time.sleep(0.3)
        yield DemoServer(url=url, passwords=passwords, env=env)
    finally:
        for process in (server, worker):
            process.terminate()
        for process in (server, worker):
            process.wait(timeout=10)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright, headless (never a downloaded browser). A missing
    Chromium fails the run rather than skipping it: `.ci/run` installs it."""
    import pytest

    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is needed at {CHROMIUM} (apt-get install chromium)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def assert_fits(page: Any) -> None:
    """Nothing on the page scrolls sideways (the phone test: 360 px wide)."""
    page.wait_for_load_state()  # after a click, the next page may still be arriving
    width, viewport = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= viewport, f"{page.url} is {width} px wide in a {viewport} px window"


def click_menu(page: Any, selector: str) -> None:
    """Click a link of the site's menu, opening the phone's folded menu ("菜单") first when the
    window is narrow enough to fold it."""
    summary = page.locator("header .site-menu summary")
    if summary.is_visible() and page.locator("header .site-menu[open]").count() == 0:
        summary.click()
    page.click(selector)


def screenshot(page: Any, name: str, *, full_page: bool = True) -> None:
    """A screenshot kept as a test artefact (test-artifacts/, never committed)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
