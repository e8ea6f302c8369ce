# ruff: noqa: E402  (the standard library's http is imported after sys.path is mended, below)
"""HTTP throughput of the hot pages under the production server (issue 12): the village
director's worklist and the county officer's child list, served by gunicorn on loopback.

Run from the project root::

    .venv/bin/python bench/http.py                              # demo county and 15,000, SQLite
    .venv/bin/python bench/http.py --children 15000 --workers 2 --concurrency 4
    .venv/bin/python bench/http.py --database-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/http.py --profile                   # in-process: where the time goes

For each county size (``--children``, default the demo's 1,500 and 15,000) it builds a fresh
database: ``migrate`` and the demo (``load_demo``: Gaotai's divisions, one account per role,
the synthetic children — as many as asked — and a year of contacts), and ``collectstatic``.
SQLite by default, in a temporary ``TONGXIN_VAR_DIR``; with ``--database-url`` (or
``DATABASE_URL``: any database on a PostgreSQL server on this machine) a temporary database is
created on that server and dropped afterwards. ``--var-dir`` keeps the SQLite build in a
directory and reuses it on the next run.

Then it starts gunicorn (sync workers, ``--workers``, DEBUG off, the demo's sign-in without a
second factor: ``TONGXIN_DEMO=1``) on 127.0.0.1 and a free port, signs in through the login
form as ``demo_village`` (a village director) and ``demo_county`` (a county officer), checks
each page once (status 200, its list present), warms up, and drives each page in turn with
``--concurrency`` client threads (``http.client``, one connection each, reopened since sync
workers close it; ``Accept-Encoding: gzip`` as a browser sends; the body read, not unpacked)
until ``--requests`` have been answered or ``--seconds`` have passed. Every loop is bounded:
the server is always stopped (its process group) when the run ends, fails or is interrupted.

It prints per page: requests, errors, requests/s, p50/p95/p99 latency, and the **server CPU per
request**: the user+system time the gunicorn workers used over the run (``/proc``) divided by
the requests — on a shared machine the wall-clock figures move with the neighbours, this one
much less; on PostgreSQL also the CPU of the database's server processes (``db``). The client
shares the machine's cores (its CPU is printed too). The target: ≥ 300 requests/s with
p99 ≤ 200 ms.

``--profile`` skips the server: in one process with DEBUG off (the cached template loader, as
production) it signs the same users in, calls the WSGI application directly, and prints for
each page the CPU per request split into template rendering (SQL run from inside a template
excluded), SQL (the time in the database driver, on SQLite the database's work) and the rest
(middleware, view, gzip), then cProfile's top functions by internal time into
``var/bench/http-profile-<children>-<page>.txt``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named http.py: its folder, first on sys.path when it runs as a script, would
# shadow the standard library's ``http`` for every import below (Django's too).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import gzip
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "var" / "bench"
HOST = "127.0.0.1"
TARGET_RATE = 300.0
TARGET_P99_MS = 200.0
ACCOUNTS_FILE = "bench-accounts.json"
# (label, account, path, a mark the page must hold: its list is there)
PAGES = (
    ("worklist", "demo_village", "/visits/worklist/", b'<ul class="worklist" id="worklist">'),
    ("child list", "demo_county", "/children/", b'<table class="child-list">'),
)
STOP_SECONDS = 10


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- building the database (in a child process: the settings read the environment once) -------


def build(children: int, out: Path) -> None:
    """Migrate, load the demo with ``children`` children, write the demo passwords to ``out``."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from tongxin import demo

    call_command("migrate", verbosity=0)
    demo.DEFAULT_CHILDREN = children  # type: ignore[attr-defined]  # the size asked for
    report = demo.demo_load()
    out.write_text(json.dumps({a.username: pw for a, pw in report.accounts if pw}))


@dataclass
class Site:
    """A built database: the environment that serves it, the demo passwords."""

    children: int
    env: dict[str, str]
    passwords: dict[str, str]
    pg_name: str | None = None
    temp: Path | None = None


def server_env(var: Path, static: Path, database_url: str | None) -> dict[str, str]:
    env = {
        **os.environ,
        "TONGXIN_VAR_DIR": str(var),
        "STATIC_ROOT": str(static),
        "DEBUG": "0",
        "TONGXIN_DEMO": "1",
        "ALLOWED_HOSTS": HOST,
        # The data key lives in the scratch var/ directory: a production check may refuse that.
        "TONGXIN_ACCEPT_KEY_IN_DATA_DIR": "1",
        "DJANGO_SETTINGS_MODULE": "tongxin.settings",
        "LOG_LEVEL": "ERROR",
    }
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def build_site(children: int, static: Path, database_url: str | None, var_dir: Path | None) -> Site:
    pg_name = None
    url = None
    if database_url:
        import psycopg

        pg_name = f"tongxin_http_{os.getpid()}_{children}"
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{pg_name}"')
        url = urlunsplit(urlsplit(database_url)._replace(path="/" + pg_name))
    temp = None
    if var_dir and not database_url:
        var = var_dir / f"children-{children}"
        var.mkdir(parents=True, exist_ok=True)
    else:
        var = temp = Path(tempfile.mkdtemp(prefix="tongxin-http-"))
    env = server_env(var, static, url)
    accounts = var / ACCOUNTS_FILE
    if not accounts.exists():
        started = time.perf_counter()
        log(f"building a county of {children:,} children ({'PostgreSQL' if url else 'SQLite'}) …")
        argv = [
            sys.executable,
            __file__,
            "--build-into",
            str(accounts),
            "--children",
            str(children),
        ]
        subprocess.run(argv, env=env, cwd=ROOT, check=True)  # noqa: S603 (this script)
        log(f"  built in {time.perf_counter() - started:.0f} s")
    return Site(children, env, json.loads(accounts.read_text()), pg_name, temp)


def drop_site(site: Site, database_url: str | None) -> None:
    if site.pg_name and database_url:
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{site.pg_name}" WITH (FORCE)')
    if site.temp:
        shutil.rmtree(site.temp, ignore_errors=True)


def collect_static(static: Path) -> None:
    env = server_env(Path(tempfile.mkdtemp(prefix="tongxin-http-static-var-")), static, None)
    argv = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"]
    subprocess.run(argv, env=env, cwd=ROOT, check=True)  # noqa: S603
    shutil.rmtree(env["TONGXIN_VAR_DIR"], ignore_errors=True)


# --- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """gunicorn in a process group of its own, stopped (the group) on ``stop``."""

    def __init__(self, site: Site, workers: int, log_path: Path) -> None:
        self.port = free_port()
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "tongxin.wsgi:application",
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ]
        self.log = log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603
            argv,
            env=site.env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                status, _headers, _body = request(self.port, "GET", "/accounts/login/", {})
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer in time")

    def workers(self) -> list[int]:
        """The worker processes: the master's children."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == self.process.pid:
                pids.append(int(entry.name))
        return pids

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(STOP_SECONDS)
            except ProcessLookupError:
                pass
        self.log.close()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (those still there)."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(stat[11]) + int(stat[12])
    return total / os.sysconf("SC_CLK_TCK")


def database_pids(site: Site) -> list[int]:
    """PostgreSQL: the server processes serving the site's database (a server on this machine)."""
    url = site.env.get("DATABASE_URL")
    if not url:
        return []
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
    return [row[0] for row in rows]


# --- the client ---------------------------------------------------------------------------------


def request(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str],
    body: str | None = None,
    connection: http.client.HTTPConnection | None = None,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = connection or http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, response.headers, data
    finally:
        if connection is None:
            conn.close()


def cookies_from(headers: http.client.HTTPMessage, jar: dict[str, str]) -> None:
    for value in headers.get_all("Set-Cookie") or []:
        name, _, rest = value.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]


def cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def sign_in(port: int, username: str, password: str) -> dict[str, str]:
    """The cookies of a session signed in through the login form."""
    jar: dict[str, str] = {}
    status, headers, body = request(port, "GET", "/accounts/login/", {})
    cookies_from(headers, jar)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or token is None:
        raise RuntimeError(f"login page: {status}")
    form = urlencode(
        {"csrfmiddlewaretoken": token.group(1).decode(), "username": username, "password": password}
    )
    status, headers, _body = request(
        port,
        "POST",
        "/accounts/login/",
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie_header(jar),
        },
        form,
    )
    cookies_from(headers, jar)
    if status != 302 or "sessionid" not in jar:
        raise RuntimeError(f"sign-in of {username}: {status}")
    return jar


def page_headers(jar: dict[str, str]) -> dict[str, str]:
    return {
        "Cookie": cookie_header(jar),
        "Accept-Encoding": "gzip",
        "Accept": "text/html",
        "Sec-Fetch-Site": "same-origin",  # a click inside the site: the page is compressed
    }


@dataclass
class Run:
    page: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    wall: float = 0.0
    server_cpu: float = 0.0
    db_cpu: float | None = None
    client_cpu: float = 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0


def drive(
    port: int, path: str, headers: dict[str, str], requests: int, seconds: float, threads: int
) -> tuple[list[float], int, float]:
    """``requests`` GETs of ``path`` (or as many as ``seconds`` allow) from ``threads`` threads;
    each answer's latency, the count of answers other than 200, and the wall time."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    left = [requests]
    deadline = time.monotonic() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        mine: list[float] = []
        bad = 0
        try:
            while time.monotonic() < deadline:
                with lock:
                    if left[0] <= 0:
                        break
                    left[0] -= 1
                started = time.perf_counter()
                try:
                    status, _h, _b = request(port, "GET", path, headers, connection=conn)
                except (OSError, http.client.HTTPException):
                    conn.close()
                    status = 0
                mine.append(time.perf_counter() - started)
                if status != 200:
                    bad += 1
        finally:
            conn.close()
            with lock:
                latencies.extend(mine)
                errors[0] += bad

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return latencies, errors[0], time.perf_counter() - started


def check_page(port: int, path: str, headers: dict[str, str], mark: bytes) -> int:
    status, answer, body = request(port, "GET", path, headers)
    if answer.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    if status != 200 or mark not in body:
        raise RuntimeError(f"{path}: {status}, {len(body)} bytes, list not found")
    return len(body)


def measure(site: Site, args: argparse.Namespace, log_path: Path) -> list[Run]:
    server = Server(site, args.workers, log_path)
    runs = []
    try:
        server.wait_ready()
        jars = {
            account: sign_in(server.port, account, site.passwords[account])
            for _l, account, _p, _m in PAGES
        }
        workers = server.workers()
        for label, account, path, mark in PAGES:
            headers = page_headers(jars[account])
            size = check_page(server.port, path, headers, mark)
            drive(server.port, path, headers, args.warmup, 60, args.concurrency)
            db_pids = database_pids(site)
            server_before, db_before = cpu_seconds(workers), cpu_seconds(db_pids)
            client_before = time.process_time()
            latencies, errors, wall = drive(
                server.port, path, headers, args.requests, args.seconds, args.concurrency
            )
            run = Run(label, latencies, errors, wall)
            run.client_cpu = time.process_time() - client_before
            run.server_cpu = cpu_seconds(workers) - server_before
            if db_pids:
                run.db_cpu = cpu_seconds(db_pids) - db_before
            log(f"  {label}: {len(latencies):,} requests in {wall:.1f} s ({size:,} bytes a page)")
            runs.append(run)
    finally:
        server.stop()
    return runs


def report(site: Site, runs: list[Run], args: argparse.Namespace, engine: str) -> None:
    print(
        f"HTTP throughput — {engine}, {site.children:,} children, gunicorn {args.workers} sync "
        f"workers, {args.concurrency} client threads, load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} CPUs"
    )
    db = any(r.db_cpu is not None for r in runs)
    db_header = f"{'db cpu':>12s}" if db else ""
    print(
        f"  {'page':12s}{'requests':>9s}{'errors':>7s}{'req/s':>8s}{'p50':>8s}{'p95':>8s}"
        f"{'p99':>8s}{'server cpu':>12s}{db_header}{'client cpu':>12s}  target"
    )
    for r in runs:
        n = max(1, len(r.latencies))
        met = r.rate >= TARGET_RATE and r.percentile(99) <= TARGET_P99_MS and not r.errors
        db_text = f"{r.db_cpu / n * 1000:7.1f} ms/r" if r.db_cpu is not None else ""
        print(
            f"  {r.page:12s}{len(r.latencies):9,d}{r.errors:7d}{r.rate:8.0f}"
            f"{r.percentile(50):6.0f}ms{r.percentile(95):6.0f}ms{r.percentile(99):6.0f}ms"
            f"{r.server_cpu / n * 1000:7.1f} ms/r{db_text}{r.client_cpu / n * 1000:7.1f} ms/r"
            f"  {'met' if met else 'MISSED'}"
        )
    print(
        f"  target: ≥ {TARGET_RATE:.0f} requests/s with p99 ≤ {TARGET_P99_MS:.0f} ms; "
        "cpu: per request answered"
    )


# --- profile (in-process) ------------------------------------------------------------------------


def profile(site: Site, args: argparse.Namespace) -> None:
    """Re-run this script in a child process with the site's environment, profiling."""
    argv = [sys.executable, __file__, "--profile-into", str(site.env["TONGXIN_VAR_DIR"])]
    argv += ["--children", str(site.children), "--requests", str(args.profile_requests)]
    subprocess.run(argv, env=site.env, cwd=ROOT, check=True)  # noqa: S603


def profile_pages(children: int, requests: int) -> None:
    import cProfile
    import io
    import pstats

    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.template.backends.django import Template
    from django.test import Client

    from tongxin.accounts.models import User

    assert not settings.DEBUG
    application = WSGIHandler()
    clock: dict[str, float] = {"sql": 0.0, "template": 0.0, "sql_in_template": 0.0}
    depth = [0]

    def sql_timer(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.process_time()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.process_time() - started
            clock["sql"] += spent
            if depth[0]:
                clock["sql_in_template"] += spent

    original = Template.render

    def timed_render(self: Any, *a: Any, **kw: Any) -> Any:
        depth[0] += 1
        started = time.process_time()
        try:
            return original(self, *a, **kw)
        finally:
            depth[0] -= 1
            clock["template"] += time.process_time() - started

    Template.render = timed_render  # type: ignore[method-assign]

    def environ(path: str, cookie: str) -> dict[str, Any]:
        return {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": HOST,
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": HOST,
            "HTTP_HOST": HOST,
            "HTTP_COOKIE": cookie,
            "HTTP_ACCEPT_ENCODING": "gzip",
            "HTTP_SEC_FETCH_SITE": "same-origin",
            "wsgi.input": io.BytesIO(),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }

    def call(path: str, cookie: str) -> None:
        statuses: list[str] = []
        body = application(environ(path, cookie), lambda s, h, *e: statuses.append(s))  # type: ignore[arg-type]
        b"".join(body)
        body.close()
        assert statuses[0].startswith("200"), statuses

    CACHE.mkdir(parents=True, exist_ok=True)
    print(
        f"profile — {connection.vendor}, {children:,} children, {requests} requests a page, CPU ms"
    )
    print(f"  {'page':12s}{'total':>8s}{'template':>10s}{'sql':>8s}{'other':>8s}")
    # Each page as served (kept until the data changes: decision 024) and as made afresh.
    runs = [(label, True, account, path) for label, account, path, _mark in PAGES]
    runs += [(f"{label} (made)", False, account, path) for label, account, path, _mark in PAGES]
    for label, keep, account, path in runs:
        settings.TONGXIN_PAGE_CACHE = keep
        client = Client()
        client.force_login(User.objects.get(username=account))
        # A browser holds a CSRF cookie from its first page on; kept pages are per CSRF secret.
        cookie = f"sessionid={client.cookies['sessionid'].value}; csrftoken={'a1' * 16}"
        for _ in range(5):
            call(path, cookie)
        with connection.execute_wrapper(sql_timer):
            for key in clock:
                clock[key] = 0.0
            started = time.process_time()
            for _ in range(requests):
                call(path, cookie)
            total = time.process_time() - started
        template = clock["template"] - clock["sql_in_template"]
        per = 1000 / requests
        print(
            f"  {label:12s}{total * per:8.1f}{template * per:10.1f}{clock['sql'] * per:8.1f}"
            f"{(total - template - clock['sql']) * per:8.1f}"
        )
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            call(path, cookie)
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(40)
        stats.sort_stats("cumulative").print_stats(60)
        name = label.replace(" (", "-").replace(")", "").replace(" ", "-")
        target = CACHE / f"http-profile-{children}-{name}.txt"
        target.write_text(out.getvalue())
        print(f"    cProfile → {target.relative_to(ROOT)}")


# --- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--children", type=int, nargs="+", default=[1500, 15000])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    parser.add_argument("--requests", type=int, default=3000, help="requests a page at most")
    parser.add_argument("--seconds", type=float, default=30, help="seconds a page at most")
    parser.add_argument("--warmup", type=int, default=40, help="requests a page before timing")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or None,
        help="a PostgreSQL server to run on, any database on it (default: DATABASE_URL, else "
        "SQLite): a temporary database is made there and dropped",
    )
    parser.add_argument("--var-dir", type=Path, help="SQLite: build into and reuse this directory")
    parser.add_argument("--profile", action="store_true", help="profile in-process, no server")
    parser.add_argument("--profile-requests", type=int, default=100)
    parser.add_argument("--build-into", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile-into", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_into:
        build(args.children[0], args.build_into)
        return
    if args.profile_into:
        profile_pages(args.children[0], args.requests)
        return
    if not 0 < args.requests <= 100_000 or not 0 < args.seconds <= 600:
        parser.error("bounded runs only: --requests 1..100000, --seconds up to 600")

    # A TERM (a timeout, a kill of this script) unwinds like Ctrl-C: the server is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    engine = "PostgreSQL" if args.database_url else "SQLite"
    static = Path(tempfile.mkdtemp(prefix="tongxin-http-static-"))
    try:
        collect_static(static)
        for children in args.children:
            site = build_site(children, static, args.database_url, args.var_dir)
            try:
                if args.profile:
                    profile(site, args)
                else:
                    log_path = Path(site.env["TONGXIN_VAR_DIR"]) / "gunicorn.log"
                    report(site, measure(site, args, log_path), args, engine)
            finally:
                drop_site(site, args.database_url)
    finally:
        shutil.rmtree(static, ignore_errors=True)


if __name__ == "__main__":
    main()
