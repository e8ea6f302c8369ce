"""Worklist and compliance at province scale on PostgreSQL (issue 4), against hand-written SQL.

Run from the project root::

    # once: a province of synthetic children, directors, supervisors, contacts (about 25 minutes)
    .venv/bin/python bench/visits.py --fill --children 1000000 --contacts-per-child 12 \\
        --database-url postgres://postgres@127.0.0.1:5432/tx_bench
    # then, as often as wanted: the timings
    .venv/bin/python bench/visits.py --database-url postgres://postgres@127.0.0.1:5432/tx_bench

The fill (``--fill``) creates the database when it is missing, migrates it, and then, each step
skipped when it has already been done (so an interrupted fill resumes):

1. **divisions**: Gansu (甘肃省) as a province of 86 counties: the real province, cities and
   counties of ``geo/data/regions.csv`` (2024); under each county the towns, villages and
   communities of the Gaotai demo file (9 towns, 136 villages, 9 communities), with the
   county's code in front; Gaotai itself is its own file. 12,470 villages and communities.
2. **users**: one village director (儿童主任) per village or community and one town supervisor
   (儿童督导员) per town, synthetic names, no usable password.
3. **children**: the registry generator (``registry.generator.population_generate``, as
   ``manage.py generate_children`` runs it), the children shared evenly over the counties, each
   county with its own seed (``--seed`` + its index), "today" fixed at ``FILL_TODAY`` so the
   same seed gives the same province on any day; ``--jobs`` counties at a time.
4. **status**: a child whose 18th birthday has passed is aged out on it; one in a hundred was
   transferred out on a day in 2025–2026 (both stop being counted from that day).
5. **risk**: a ``ChildRisk`` row per child: high for a poor guardianship assessment or a
   disability of grade 1–2, medium for another disability or a serious illness, and by a hash
   of the id about 15 % medium and 3 % high of the rest; its history (decision 012): a
   ``RiskSpan`` from the registration, and for one child in five a different level before a
   day of 2025–2026 (the level changed then); and for one child in a hundred an officer's
   ``RiskOverride`` of 90 days set on a day of 2026 (one in four of them cleared early).
6. **contacts**: set-based SQL (``INSERT … SELECT generate_series``), every draw a hash of row
   ids and the seed, so the same children give the same contacts (the children's ids are the
   same on every fill with ``--jobs 1``; with more, the counties' batches interleave and
   refills agree in their shares, not row by row); none before the child's registration, none
   after it left, none after ``CONTACTS_UNTIL``. The contacts of 2025-01-01..2026-11-30:

   - each household has a habit (by hash): 80 % diligent, 15 % patchy, 5 % neglected (the
     director stops at a month of March–October 2026 drawn per household: overdue lines);
   - the village director phones the household in most months (twice a month when one of its
     children is at high risk; a video call one time in eight, a school visit one in twenty);
     ``--contacts-per-child`` scales this rate so that the total comes to that many contacts
     per child (``EXPECTED_SQL`` counts the candidates first);
   - the village director visits the household at home in most quarters;
   - the town supervisor phones the household once in most years.

   Every contact is credited (``ContactCredit``) to each child of the household on file that
   day (registered by then, not yet gone), as ``services.contact_record`` credits a home visit.
   The indexes and unique and foreign-key constraints of ``visits_contact`` and
   ``visits_contactcredit`` are dropped while they are filled and rebuilt afterwards from their
   own definitions, all in one transaction. No history rows (simple-history) are written for
   the generated contacts: neither query reads them.
7. **analyze**: ``VACUUM ANALYZE`` of the tables the queries read.

Each step prints how long it took and the rows it wrote; the figures are kept in
``var/bench/visits-fill.json``.

The timing (the default, without ``--fill``) takes the village director with the most children
in scope on ``--as-of`` (the longest worklist; ``--village`` names another) and the county that
village lies in, and times, ``--runs`` times each, interleaved:

- ``tongxin.visits.worklist.worklist_lines(user, as_of)`` against ``WORKLIST_SQL``;
- ``tongxin.visits.compliance.compliance_report(county, period)`` against ``COMPLIANCE_SQL``,

after checking once that each pair gives the same answer. The SQL is written from the
semantics in the module docstrings of ``tongxin/visits/rules/`` (the reference), independently
of the selectors it is compared with, for one cadence policy version; both run on the same
connection. It prints p50 and p95 of each, their ratio, how each selector's time splits between
its queries and Python, and the EXPLAIN ANALYZE summary of the SQL. ``--check-rules`` first
checks the SQL against ``rules.py`` run in Python over the same rows, and the selectors against
the SQL for every director of the county and for several report periods.
"""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "var" / "bench"
GAOTAI_CSV = ROOT / "tongxin" / "geo" / "data" / "620724.csv"
REGIONS_CSV = ROOT / "tongxin" / "geo" / "data" / "regions.csv"
PROVINCE = "62"  # 甘肃省
PROVINCE_CSV = CACHE / "gansu-divisions.csv"
FILL_JSON = CACHE / "visits-fill.json"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tx_bench"
FILL_TODAY = date(2026, 11, 30)  # the generator's "today": registrations up to this day
CONTACTS_FROM = date(2025, 1, 1)
CONTACTS_UNTIL = date(2026, 11, 30)
AS_OF = date(2026, 11, 30)
PERIOD = "2026-Q2"
RUNS = 50
WARMUP = 3
TARGET_WORKLIST_MS = 30.0
TARGET_COMPLIANCE_MS = 500.0
TARGET_RATIO = 1.3
USER_PREFIX = "bench_"  # usernames bench_vd_<village code>, bench_ts_<town code>


def log(text: str) -> None:
    print(text, flush=True)


# --- set-up -----------------------------------------------------------------------------------


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongxin.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def create_database(url: str) -> bool:
    """Create the database named in ``url`` when it is missing; True when it was created."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        conn.execute(f'CREATE DATABASE "{name}"')
    return True


class Fill:
    """The fill's steps, each timed; the figures go to ``FILL_JSON``."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.figures: dict[str, Any] = {}
        if FILL_JSON.exists():
            self.figures = json.loads(FILL_JSON.read_text())

    def record(self, step: str, seconds: float, **values: Any) -> None:
        self.figures[step] = {"seconds": round(seconds, 1), **values}
        CACHE.mkdir(parents=True, exist_ok=True)
        FILL_JSON.write_text(json.dumps(self.figures, indent=2, ensure_ascii=False) + "\n")
        extra = ", ".join(
            f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in values.items()
        )
        log(f"  {step}: {seconds:,.1f} s{', ' + extra if extra else ''}")

    def run(self) -> None:
        args = self.args
        steps = args.steps.split(",") if args.steps else list(STEPS)
        for step in steps:
            if step not in STEPS:
                raise SystemExit(f"unknown step {step!r}; steps: {', '.join(STEPS)}")
        self.figures["settings"] = {
            "children": args.children,
            "contacts_per_child": args.contacts_per_child,
            "seed": args.seed,
            "fill_today": FILL_TODAY.isoformat(),
        }
        for step in STEPS:
            if step in steps:
                log(f"{step} …")
                getattr(self, f"step_{step}")()

    # 0. the schema

    def step_migrate(self) -> None:
        started = time.perf_counter()
        created = create_database(self.args.database_url)
        env = {**os.environ, "DATABASE_URL": self.args.database_url}
        subprocess.run(  # noqa: S603  # our own manage.py, fixed arguments
            [sys.executable, str(ROOT / "manage.py"), "migrate", "--verbosity", "0"],
            check=True,
            env=env,
            cwd=ROOT,
        )
        self.record("migrate", time.perf_counter() - started, created=created)

    # 1. divisions

    def step_divisions(self) -> None:
        from tongxin.geo.services import divisions_load

        started = time.perf_counter()
        write_province_csv(PROVINCE_CSV)
        result = divisions_load(source=PROVINCE_CSV)
        self.record(
            "divisions",
            time.perf_counter() - started,
            created=result.created,
            unchanged=result.unchanged,
        )

    # 2. users

    def step_users(self) -> None:
        from django.contrib.auth.hashers import make_password

        from tongxin.accounts.models import User
        from tongxin.accounts.roles import Role
        from tongxin.geo.models import Division, Level
        from tongxin.registry.generator import BOY_CHARS, GIRL_CHARS, SURNAMES

        started = time.perf_counter()
        rng = random.Random(self.args.seed)  # noqa: S311  # synthetic names, not a secret
        taken = set(
            User.objects.filter(username__startswith=USER_PREFIX).values_list("username", flat=True)
        )
        new: list[User] = []
        divisions = Division.objects.filter(
            code__startswith=PROVINCE, level__in=[Level.TOWN, Level.VILLAGE, Level.COMMUNITY]
        ).order_by("code")
        for code, level in divisions.values_list("code", "level"):
            role = Role.TOWN_SUPERVISOR if level == Level.TOWN else Role.VILLAGE_DIRECTOR
            username = f"{USER_PREFIX}{'ts' if level == Level.TOWN else 'vd'}_{code}"
            chars = rng.choice((BOY_CHARS, GIRL_CHARS))
            name = rng.choice(SURNAMES) + "".join(
                rng.choice(chars) for _ in range(rng.choice((1, 2)))
            )
            if username in taken:
                continue
            new.append(
                User(
                    username=username,
                    name=name,
                    role=role,
                    division_id=code,
                    password=make_password(None),
                )
            )
        User.objects.bulk_create(new, batch_size=2000)
        self.record("users", time.perf_counter() - started, created=len(new), existing=len(taken))

    # 3. children

    def step_children(self) -> None:
        from django.db import connections

        from tongxin.geo.models import Division, Level

        started = time.perf_counter()
        counties = list(
            Division.objects.filter(code__startswith=PROVINCE, level=Level.COUNTY)
            .order_by("code")
            .values_list("code", flat=True)
        )
        if not counties:
            raise SystemExit("no counties: run the divisions step first")
        total = self.args.children
        share, extra = divmod(total, len(counties))
        tasks = []
        have = 0
        existing = dict(
            query("SELECT left(village_id, 6), count(*) FROM registry_child GROUP BY 1")
        )
        for index, code in enumerate(counties):
            wanted = share + (1 if index < extra else 0)
            prefix = code[:6]
            found = existing.get(prefix, 0)
            if found:
                have += found
                if found != wanted:
                    log(f"    {prefix}: {found:,} children already (wanted {wanted:,}): kept")
                continue
            if wanted:
                tasks.append((prefix, wanted, self.args.seed + index))
        log(f"    {len(tasks)} counties to generate, {have:,} children already there")
        connections.close_all()
        done = 0
        made = 0
        rows = 0
        if tasks:
            import multiprocessing

            context = multiprocessing.get_context("fork")
            with context.Pool(self.args.jobs, maxtasksperchild=8) as pool:
                for prefix, children, written, seconds in pool.imap_unordered(
                    _generate_county, tasks
                ):
                    done += 1
                    made += children
                    rows += written
                    elapsed = time.perf_counter() - started
                    log(
                        f"    {done}/{len(tasks)} {prefix}: {children:,} children in"
                        f" {seconds:,.0f} s; {made:,} in {elapsed:,.0f} s"
                        f" ({made / elapsed:,.0f} children/s)"
                    )
        seconds = time.perf_counter() - started
        self.record(
            "children",
            seconds,
            generated=made,
            rows_with_history=rows,
            children_per_second=round(made / seconds) if made else 0,
            jobs=self.args.jobs,
        )

    # 4.–7. see below

    def step_status(self) -> None:
        started = time.perf_counter()
        aged, moved = execute_counts(STATUS_SQL, seed=self.args.seed)
        self.record("status", time.perf_counter() - started, aged_out=aged, transferred_out=moved)

    def step_risk(self) -> None:
        started = time.perf_counter()
        rows, spans, changed, overrides = execute_counts(RISK_SQL, seed=self.args.seed)
        counts = dict(query("SELECT level, count(*) FROM visits_childrisk GROUP BY level"))
        self.record(
            "risk",
            time.perf_counter() - started,
            rows=rows,
            spans=spans + changed,
            overrides=overrides,
            **counts,
        )

    def step_contacts(self) -> None:
        fill_contacts(self, self.args.seed, self.args.contacts_per_child)

    def step_analyze(self) -> None:
        from django.db import connection

        started = time.perf_counter()
        with connection.cursor() as cursor:
            for table in ANALYZED:
                cursor.execute(f"VACUUM (ANALYZE) {table}")
        self.record("analyze", time.perf_counter() - started)
        sizes = [
            (table, *query(f"SELECT count(*), pg_total_relation_size('{table}') FROM {table}")[0])  # noqa: S608
            for table in ANALYZED
        ]
        self.figures["tables"] = {
            name: {"rows": rows, "mb": round(size / 2**20)} for name, rows, size in sizes
        }
        (db_size,) = query("SELECT pg_database_size(current_database())")[0]
        self.figures["database_mb"] = round(db_size / 2**20)
        FILL_JSON.write_text(json.dumps(self.figures, indent=2, ensure_ascii=False) + "\n")
        for name, rows, size in sizes:
            log(f"    {name:<28} {rows:>12,} rows {size / 2**20:>9,.0f} MB")
        log(f"    database {db_size / 2**30:,.1f} GB")


STEPS = ("migrate", "divisions", "users", "children", "status", "risk", "contacts", "analyze")
ANALYZED = (
    "geo_division",
    "accounts_user",
    "registry_household",
    "registry_child",
    "registry_categoryspan",
    "visits_childrisk",
    "visits_riskspan",
    "visits_riskoverride",
    "visits_cadencepolicyversion",
    "visits_contact",
    "visits_contactcredit",
)


def _generate_county(task: tuple[str, int, int]) -> tuple[str, int, int, float]:
    from django.db import connections

    from tongxin.registry.generator import population_generate

    prefix, children, seed = task
    connections.close_all()  # never share the parent's socket
    report = population_generate(children=children, seed=seed, county=prefix, today=FILL_TODAY)
    connections.close_all()
    return prefix, report.children, report.rows, report.seconds


def write_province_csv(path: Path) -> None:
    """Gansu's real province, cities and counties with Gaotai's towns and villages under each
    county (synthetic below the county; Gaotai's own rows as in its file)."""
    with REGIONS_CSV.open(encoding="utf-8-sig") as f:
        regions = [
            r
            for r in csv.DictReader(f)
            if r["code"].startswith(PROVINCE) and r["last_year"] == "2024"
        ]
    with GAOTAI_CSV.open(encoding="utf-8-sig") as f:
        gaotai = list(csv.DictReader(f))
    below = [r for r in gaotai if r["level"] in ("town", "village", "community")]
    rows: list[tuple[str, str, str, str]] = []
    for r in regions:
        parent = r["parent_code"].ljust(12, "0") if r["parent_code"] else ""
        rows.append((r["code"].ljust(12, "0"), r["name"], r["level"], parent))
    for r in regions:
        if r["level"] != "county":
            continue
        county = r["code"]
        for d in below:
            rows.append(
                (county + d["code"][6:], d["name"], d["level"], county + d["parent_code"][6:])
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(("code", "name", "level", "parent_code"))
        writer.writerows(rows)


# --- SQL helpers ------------------------------------------------------------------------------


def query(sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def execute_counts(statements: Sequence[str], **params: Any) -> list[int]:
    """Run each statement in one transaction; the rows each touched."""
    from django.db import connection, transaction

    counts = []
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, params)
            counts.append(cursor.rowcount)
    return counts


# A uniform draw in [0, 1) from integers and the seed: the same fill on every rerun.
# hashint8extended(x, seed) is PostgreSQL's own 64-bit hash.
def _u(expr: str, salt: int) -> str:
    return f"((hashint8extended(({expr})::bigint, %(seed)s + {salt}) & 2147483647) / 2147483648.0)"


STATUS_SQL = (  # constants only, no input
    # Aged out on the 18th birthday (in difficulty ends at 18, left-behind at 16: the category
    # spans end then already; the status says the file was closed).
    f"""
    UPDATE registry_child
       SET status = 'aged_out', status_since = (birth_date + interval '18 years')::date,
           status_reason = '年满18周岁'
     WHERE status = 'active' AND birth_date + interval '18 years' <= DATE '{FILL_TODAY}'
    """,  # noqa: S608  # constants only, no input
    f"""
    UPDATE registry_child SET status = 'transferred_out',
           status_since = GREATEST(registered_on + 1, DATE '2025-01-01'
                                   + (({_u("id", 11)}) * 699)::int),
           status_reason = '迁出本省'
     WHERE status = 'active' AND {_u("id", 10)} < 0.01
       AND registered_on < DATE '2026-11-29'
    """,  # noqa: S608  # constants only, no input
)

# The day a child's level changed (one child in five), and the level before it.
_CHANGED = f"{_u('r.child_id', 21)} < 0.2"
_CHANGE_DAY = (
    f"GREATEST(c.registered_on + 1, DATE '2025-01-01' + (({_u('r.child_id', 22)}) * 690)::int)"
)
_BEFORE = f"""(ARRAY['low', 'medium', 'high'])[
    1 + ((CASE r.level WHEN 'low' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END)
         + 1 + floor({_u("r.child_id", 23)} * 2)::int) %% 3]"""
RISK_SQL = (
    f"""
    INSERT INTO visits_childrisk (child_id, level, computed_level, reasons, factors, computed_on,
                                  override_id, version)
    SELECT id, lvl, lvl, '[]'::jsonb, '[]'::jsonb, DATE '2026-11-30', NULL, 1
      FROM (SELECT id,
                   CASE WHEN guardianship_assessment = 'poor' OR disability_grade <= 2 THEN 'high'
                        WHEN disability_grade IS NOT NULL OR serious_illness THEN 'medium'
                        WHEN {_u("id", 20)} < 0.03 THEN 'high'
                        WHEN {_u("id", 20)} < 0.18 THEN 'medium'
                        ELSE 'low' END AS lvl
              FROM registry_child) c
     WHERE NOT EXISTS (SELECT 1 FROM visits_childrisk r WHERE r.child_id = c.id)
    """,  # noqa: S608  # constants only, no input
    # The history: the level now, from the registration or from the day it changed.
    f"""
    INSERT INTO visits_riskspan (child_id, valid_from, valid_to, level, reasons, factors,
                                 recorded_at)
    SELECT r.child_id,
           CASE WHEN {_CHANGED} AND {_CHANGE_DAY} < DATE '2026-11-30' THEN {_CHANGE_DAY}
                ELSE c.registered_on END,
           NULL, r.level, '[]'::jsonb, '[]'::jsonb, now()
      FROM visits_childrisk r JOIN registry_child c ON c.id = r.child_id
     WHERE NOT EXISTS (SELECT 1 FROM visits_riskspan s WHERE s.child_id = r.child_id)
    """,  # noqa: S608  # constants only, no input
    # … and the level before the change.
    f"""
    INSERT INTO visits_riskspan (child_id, valid_from, valid_to, level, reasons, factors,
                                 recorded_at)
    SELECT r.child_id, c.registered_on, {_CHANGE_DAY}, {_BEFORE}, '[]'::jsonb, '[]'::jsonb, now()
      FROM visits_childrisk r JOIN registry_child c ON c.id = r.child_id
     WHERE {_CHANGED} AND {_CHANGE_DAY} < DATE '2026-11-30'
       AND NOT EXISTS (SELECT 1 FROM visits_riskspan s
                        WHERE s.child_id = r.child_id AND s.valid_from = c.registered_on)
    """,  # noqa: S608  # constants only, no input
    # Officers' overrides: 90 days from a day of 2026, a quarter of them cleared after 30.
    f"""
    INSERT INTO visits_riskoverride (child_id, level, starts_on, ends_on, reason, set_at,
                                     cleared_on)
    SELECT r.child_id, CASE WHEN r.level = 'high' THEN 'medium' ELSE 'high' END, o.day,
           o.day + 89, '基准测试', now(),
           CASE WHEN {_u("r.child_id", 25)} < 0.25 THEN o.day + 30 END
      FROM visits_childrisk r
     CROSS JOIN LATERAL (SELECT DATE '2026-01-01' + (({_u("r.child_id", 26)}) * 330)::int
                         AS day) o
     WHERE {_u("r.child_id", 24)} < 0.01
       AND NOT EXISTS (SELECT 1 FROM visits_riskoverride x WHERE x.child_id = r.child_id)
    """,  # noqa: S608  # constants only, no input
)


# Households (temporary): the director and supervisor who write their contacts, the days any of
# their children is on file (first registration; the last day one is still active, exclusive),
# whether a child is at high risk (a second phone slot each month), and the household's habit.
HOUSEHOLDS_SQL = f"""
CREATE TEMP TABLE bench_household ON COMMIT DROP AS
SELECT h.id, h.village_id, vd.id AS director_id, ts.id AS supervisor_id,
       min(c.registered_on) AS first_day,
       max(CASE WHEN c.status = 'active' THEN DATE '9999-12-31' ELSE c.status_since END)
           AS last_day,
       bool_or(r.level = 'high') AS high,
       CASE WHEN {_u("h.id", 1)} < 0.80 THEN 'diligent'
            WHEN {_u("h.id", 1)} < 0.95 THEN 'patchy'
            ELSE 'neglected' END AS habit,
       (DATE '2026-03-01' + (floor({_u("h.id", 2)} * 8)::int * interval '1 month'))::date
           AS stop_day
  FROM registry_household h
  JOIN registry_child c ON c.household_id = h.id
  LEFT JOIN visits_childrisk r ON r.child_id = c.id
  JOIN accounts_user vd ON vd.username = '{USER_PREFIX}vd_' || h.village_id
  JOIN accounts_user ts ON ts.username = '{USER_PREFIX}ts_' || left(h.village_id, 9) || '000'
 GROUP BY h.id, h.village_id, vd.id, ts.id
"""  # noqa: S608  # constants only, no input
# The rate at which each household is contacted in a period, by habit.
PHONE_RATE = "CASE h.habit WHEN 'diligent' THEN 0.93 WHEN 'patchy' THEN 0.55 ELSE 0.9 END"
VISIT_RATE = "CASE h.habit WHEN 'diligent' THEN 0.93 WHEN 'patchy' THEN 0.5 ELSE 0.9 END"
SUPERVISOR_RATE = "0.9"
_IN_FILE = f"""
   AND day >= h.first_day AND day < h.last_day AND day <= DATE '{CONTACTS_UNTIL}'
"""
# Candidate contacts: (household, village, author, role, kind, day, rate, draw); a candidate is
# written when draw < rate (times the phone scale for the monthly calls).
CANDIDATES_SQL = f"""
SELECT h.id AS household_id, h.village_id, h.director_id AS author_id,
       'village_director' AS author_role,
       CASE WHEN {_u("h.id * 100000 + m.i * 4 + slot", 3)} < 0.125 THEN 'video'
            WHEN {_u("h.id * 100000 + m.i * 4 + slot", 3)} < 0.175 THEN 'school_visit'
            ELSE 'phone' END AS kind,
       day, 'phone' AS what, {PHONE_RATE} AS rate,
       {_u("h.id * 100000 + m.i * 4 + slot", 4)} AS draw
  FROM bench_household h
  CROSS JOIN LATERAL generate_series(
        date_trunc('month', GREATEST(h.first_day, DATE '{CONTACTS_FROM}')),
        DATE '{CONTACTS_UNTIL}', interval '1 month') AS m0(start)
  CROSS JOIN LATERAL (SELECT (extract(year FROM m0.start) - 2000) * 12
                             + extract(month FROM m0.start) AS i) m
  CROSS JOIN LATERAL generate_series(1, CASE WHEN h.high THEN 2 ELSE 1 END) AS slot
  CROSS JOIN LATERAL (
        SELECT (m0.start + (CASE WHEN h.high THEN (slot - 1) * 15 ELSE 0 END) * interval '1 day'
                + floor({_u("h.id * 100000 + m.i * 4 + slot", 5)}
                        * CASE WHEN h.high THEN 14
                               ELSE extract(day FROM m0.start + interval '1 month - 1 day')
                          END) * interval '1 day')::date AS day) d
 WHERE (h.habit <> 'neglected' OR day < h.stop_day) {_IN_FILE}
UNION ALL
SELECT h.id, h.village_id, h.director_id, 'village_director', 'home_visit', day, 'visit',
       {VISIT_RATE}, {_u("h.id * 100000 + q.i", 7)}
  FROM bench_household h
  CROSS JOIN LATERAL generate_series(
        date_trunc('quarter', GREATEST(h.first_day, DATE '{CONTACTS_FROM}')),
        DATE '{CONTACTS_UNTIL}', interval '3 months') AS q0(start)
  CROSS JOIN LATERAL (SELECT (extract(year FROM q0.start) - 2000) * 4
                             + extract(quarter FROM q0.start) AS i) q
  CROSS JOIN LATERAL (
        SELECT (q0.start + floor({_u("h.id * 100000 + q.i", 8)}
                                 * extract(day FROM q0.start + interval '3 months' - q0.start))
                * interval '1 day')::date AS day) d
 WHERE (h.habit <> 'neglected' OR day < h.stop_day) {_IN_FILE}
UNION ALL
SELECT h.id, h.village_id, h.supervisor_id, 'town_supervisor',
       CASE WHEN {_u("h.id * 100000 + y.y", 9)} < 0.25 THEN 'video' ELSE 'phone' END,
       day, 'supervisor', {SUPERVISOR_RATE}, {_u("h.id * 100000 + y.y", 10)}
  FROM bench_household h
  CROSS JOIN generate_series(2025, 2026) AS y(y)
  CROSS JOIN LATERAL (
        SELECT (make_date(y.y, 1, 1) + floor({_u("h.id * 100000 + y.y", 12)} * 365)::int)
               AS day) d
 WHERE TRUE {_IN_FILE}
"""  # noqa: S608  # constants only, no input
EXPECTED_SQL = f"SELECT what, count(*), sum(rate) FROM ({CANDIDATES_SQL}) c GROUP BY what"  # noqa: S608
CONTACTS_SQL = f"""
INSERT INTO visits_contact (
    public_id, household_id, village_id, author_id, author_role, kind, day, time,
    met_child, met_caregiver, met_parent, child_not_seen_reason, check_living, check_safety,
    check_schooling, check_health, check_mood, check_caregiver, check_parents_weekly,
    check_agreement,
    notes, latitude, longitude, idempotency_key, created_at, updated_at, version)
SELECT gen_random_uuid(), household_id, village_id, author_id, author_role, kind, day, NULL,
       kind IN ('home_visit', 'video', 'school_visit'), kind <> 'school_visit', kind = 'video', '',
       CASE WHEN kind = 'home_visit' THEN 'good' ELSE 'not_seen' END,
       CASE WHEN kind = 'home_visit' THEN 'good' ELSE 'not_seen' END,
       'good', 'good', 'good', 'good',
       CASE WHEN author_role = 'village_director' THEN 'good' ELSE 'not_seen' END,
       CASE WHEN kind = 'home_visit' THEN 'good' ELSE 'not_seen' END,
       '', NULL, NULL, '',
       (day + TIME '16:00') AT TIME ZONE 'Asia/Shanghai',
       (day + TIME '16:00') AT TIME ZONE 'Asia/Shanghai', 1
  FROM ({CANDIDATES_SQL}) c
 WHERE draw < CASE WHEN what = 'phone' THEN LEAST(1.0, rate * %(phone_scale)s) ELSE rate END
 ORDER BY day, household_id
"""  # noqa: S608  # constants only, no input
# Each contact counts for the children of its household on file that day (registered by then
# and still active), as services.contact_record credits a home visit; the calls name them all.
CREDITS_SQL = """
INSERT INTO visits_contactcredit (contact_id, child_id, household_id, day, author_role, home_visit)
SELECT ct.id, c.id, ct.household_id, ct.day, ct.author_role, ct.kind = 'home_visit'
  FROM visits_contact ct
  JOIN registry_child c ON c.household_id = ct.household_id
 WHERE c.registered_on <= ct.day AND (c.status = 'active' OR ct.day < c.status_since)
"""
LOADED_TABLES = ("visits_contact", "visits_contactcredit")


def _table_ddl(cursor: Any, tables: Sequence[str]) -> tuple[list[str], list[str]]:
    """The statements that drop the unique and foreign-key constraints and the indexes of
    ``tables`` (the primary keys stay: they are filled in order, and other tables' foreign keys
    hang on them), and those that make them again, from their own definitions."""
    cursor.execute(
        """
        SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
          FROM pg_constraint
         WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('u', 'f')
        """,
        [list(tables)],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT tablename, indexname, indexdef FROM pg_indexes
         WHERE tablename = ANY(%s) AND schemaname = current_schema()
           AND indexname NOT IN (SELECT conname FROM pg_constraint)
        """,
        [list(tables)],
    )
    indexes = cursor.fetchall()
    drop = [
        f'ALTER TABLE {t} DROP CONSTRAINT "{n}"' for t, n, kind, _d in constraints if kind == "f"
    ]
    drop += [
        f'ALTER TABLE {t} DROP CONSTRAINT "{n}"' for t, n, kind, _d in constraints if kind != "f"
    ]
    drop += [f'DROP INDEX "{n}"' for _t, n, _d in indexes]
    make = [
        f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, kind, d in constraints if kind != "f"
    ]
    make += [d for _t, _n, d in indexes]
    make += [
        f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, kind, d in constraints if kind == "f"
    ]
    return drop, make


def fill_contacts(fill: Fill, seed: int, per_child: float) -> None:
    """Contacts and their credits, set-based, in one transaction (see the module doc)."""
    from django.db import connection, transaction

    (existing,) = query("SELECT count(*) FROM visits_contact")[0]
    if existing:
        log(f"    {existing:,} contacts already there: step skipped")
        return
    (children,) = query("SELECT count(*) FROM registry_child")[0]
    target = per_child * children
    params: dict[str, Any] = {"seed": seed}
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '512MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '2GB'")
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute(HOUSEHOLDS_SQL, params)
        households = cursor.rowcount
        cursor.execute("ANALYZE bench_household")
        habits = dict(query("SELECT habit, count(*) FROM bench_household GROUP BY 1"))
        step = time.perf_counter()
        log(f"    {households:,} households {habits} in {step - started:,.0f} s")

        cursor.execute(EXPECTED_SQL, params)
        expected = {what: (int(n), float(rate)) for what, n, rate in cursor.fetchall()}
        others = sum(rate for what, (_n, rate) in expected.items() if what != "phone")
        phone = expected.get("phone", (0, 0.0))[1]
        phone_scale = max(0.0, (target - others) / phone) if phone else 0.0
        params["phone_scale"] = phone_scale
        log(
            f"    candidates { {k: v[0] for k, v in expected.items()} }; phone rate × "
            f"{phone_scale:.3f} for {target:,.0f} contacts ({time.perf_counter() - step:,.0f} s)"
        )

        step = time.perf_counter()
        drop, make = _table_ddl(cursor, LOADED_TABLES)
        for sql in drop:
            cursor.execute(sql)
        cursor.execute(CONTACTS_SQL, params)
        contacts = cursor.rowcount
        contacts_seconds = time.perf_counter() - step
        log(f"    {contacts:,} contacts in {contacts_seconds:,.0f} s")

        step = time.perf_counter()
        cursor.execute(CREDITS_SQL)
        credits = cursor.rowcount
        credits_seconds = time.perf_counter() - step
        log(f"    {credits:,} credits in {credits_seconds:,.0f} s")

        step = time.perf_counter()
        for sql in make:
            cursor.execute(sql)
        index_seconds = time.perf_counter() - step
        log(f"    {len(make)} keys, indexes and constraints rebuilt in {index_seconds:,.0f} s")
    kinds = dict(query("SELECT kind, count(*) FROM visits_contact GROUP BY 1"))
    fill.record(
        "contacts",
        time.perf_counter() - started,
        contacts=contacts,
        credits=credits,
        per_child=round(contacts / children, 2) if children else 0,
        phone_scale=round(phone_scale, 3),
        contacts_seconds=round(contacts_seconds),
        credits_seconds=round(credits_seconds),
        index_seconds=round(index_seconds),
        kinds=kinds,
        habits=habits,
    )


# --- main -------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--fill", action="store_true", help="fill the database (see the doc)")
    parser.add_argument("--steps", default="", help=f"fill only these steps: {','.join(STEPS)}")
    parser.add_argument("--children", type=int, default=1_000_000)
    parser.add_argument("--contacts-per-child", type=float, default=12.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2, help="counties generated at a time")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--as-of", type=date.fromisoformat, default=AS_OF)
    parser.add_argument("--period", default=PERIOD)
    parser.add_argument(
        "--village", default="", help="time this village's director (default: the busiest)"
    )
    parser.add_argument(
        "--check-rules",
        action="store_true",
        help="also check the SQL against rules.py over the same rows (slow)",
    )
    args = parser.parse_args(argv)
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("this benchmark runs on PostgreSQL: give --database-url postgres://…")
    if args.fill:
        create_database(args.database_url)
        django_setup(args.database_url)
        Fill(args).run()
    else:
        django_setup(args.database_url)
        timing(args)


# --- the hand-written SQL ---------------------------------------------------------------------

# In scope on a day: active (registered by then, not yet left) and in a category on that day.
_CATEGORISED = """EXISTS (SELECT 1 FROM registry_categoryspan s
                  WHERE s.child_id = {child} AND s.start <= {day}
                    AND (s."end" IS NULL OR {day} < s."end"))"""

# The worklist of a user whose scope is the code prefix %(prefix)s, as of %(as_of)s: one line
# per child in scope and obligation (rules.worklist_lines), most urgent first. Calendar lines:
# done / overdue since the first counted period missed / due or due soon at the end of the
# current period (or the next one, for a child registered after the current one began).
# Rolling lines (medium: home visit; high: both): due the interval after the last qualifying
# contact, or after the registration. One policy version in force throughout.
WORKLIST_SQL = f"""
WITH kids AS MATERIALIZED (
    SELECT c.id, c.public_id, c.name, c.household_id, c.village_id, c.registered_on,
           CASE WHEN c.status = 'active' THEN NULL ELSE c.status_since END AS until,
           COALESCE(
               (SELECT o.level FROM visits_riskoverride o
                 WHERE o.child_id = c.id AND o.starts_on <= %(as_of)s AND %(as_of)s <= o.ends_on
                   AND (o.cleared_on IS NULL OR %(as_of)s < o.cleared_on)
                 ORDER BY o.starts_on DESC, o.id DESC LIMIT 1),
               (SELECT s.level FROM visits_riskspan s
                 WHERE s.child_id = c.id AND s.valid_from <= %(as_of)s
                   AND (s.valid_to IS NULL OR %(as_of)s < s.valid_to)
                 ORDER BY s.valid_from DESC LIMIT 1),
               'low') AS risk,
           (SELECT max(cc.day) FROM visits_contactcredit cc
             WHERE cc.child_id = c.id AND cc.author_role = 'village_director'
               AND cc.home_visit = true AND cc.day <= %(as_of)s) AS last_home,
           (SELECT max(cc.day) FROM visits_contactcredit cc
             WHERE cc.child_id = c.id AND cc.author_role = 'village_director'
               AND cc.home_visit = false AND cc.day <= %(as_of)s) AS last_other
      FROM registry_child c
     WHERE c.village_id LIKE %(prefix)s
       AND c.registered_on <= %(as_of)s
       AND (c.status = 'active' OR %(as_of)s < c.status_since)
       AND {_CATEGORISED.format(child="c.id", day="%(as_of)s")}
), lines AS (
    SELECT k.id, k.public_id, k.name, k.household_id, k.village_id, k.registered_on, k.until,
           k.risk, o.code, o.unit, o.step,
           CASE WHEN o.home_only THEN k.last_home
                ELSE GREATEST(k.last_home, k.last_other) END AS last,
           date_trunc(o.unit, %(as_of)s::timestamp)::date AS cur_start,
           CASE WHEN o.home_only THEN
                    CASE k.risk WHEN 'high' THEN %(high_visit)s
                                WHEN 'medium' THEN %(medium_visit)s END
                ELSE CASE k.risk WHEN 'high' THEN %(high_contact)s END
           END AS rolling
      FROM kids k
     CROSS JOIN (VALUES ('monthly_contact', 'month', interval '1 month', false),
                        ('quarterly_home_visit', 'quarter', interval '3 months', true))
                AS o(code, unit, step, home_only)
), judged AS (
    SELECT l.*, (l.cur_start + l.step - interval '1 day')::date AS cur_end,
           l.registered_on <= l.cur_start AS counted, missed.e AS missed_end
      FROM lines l
      LEFT JOIN LATERAL (
           SELECT e FROM generate_series(
                    GREATEST(
                        CASE WHEN date_trunc(l.unit, l.registered_on::timestamp) = l.registered_on
                             THEN l.registered_on::timestamp
                             ELSE date_trunc(l.unit, l.registered_on::timestamp) + l.step END,
                        date_trunc(l.unit, l.last::timestamp) + l.step),
                    l.cur_start - l.step, l.step) AS p(s)
           CROSS JOIN LATERAL (SELECT (p.s + l.step - interval '1 day')::date AS e) pe
            WHERE l.rolling IS NULL
              AND (l.until IS NULL OR e < l.until)
              AND {_CATEGORISED.format(child="l.id", day="e")}
            ORDER BY p.s LIMIT 1) missed ON true
), dated AS (
    SELECT j.*,
           CASE WHEN j.rolling IS NOT NULL THEN COALESCE(j.last, j.registered_on) + j.rolling
                WHEN j.counted AND j.last >= j.cur_start THEN j.cur_end
                WHEN j.missed_end IS NOT NULL THEN j.missed_end
                WHEN j.counted THEN j.cur_end
                ELSE (j.cur_start + 2 * j.step - interval '1 day')::date END AS due
      FROM judged j
), statuses AS (
    SELECT d.*,
           CASE WHEN d.rolling IS NULL AND d.counted AND d.last >= d.cur_start THEN 'done'
                WHEN d.rolling IS NULL AND d.missed_end IS NOT NULL THEN 'overdue'
                WHEN d.rolling IS NOT NULL AND %(as_of)s > d.due THEN 'overdue'
                WHEN d.due - %(as_of)s <= %(due_soon)s THEN 'due_soon'
                ELSE 'due' END AS status
      FROM dated d
)
SELECT st.public_id, st.name, h.public_id AS household, st.village_id, d.name AS village_name,
       st.risk, st.code, st.last, st.due, st.status, st.rolling
  FROM statuses st
  JOIN registry_household h ON h.id = st.household_id
  JOIN geo_division d ON d.code = st.village_id
 ORDER BY CASE st.status WHEN 'overdue' THEN 0 WHEN 'due_soon' THEN 1 WHEN 'due' THEN 2
          ELSE 3 END, st.due, st.village_id, st.name, st.public_id, st.code
"""  # noqa: S608  # constants only, no input
# Columns of a worklist row, as compared with the selector's lines.
LINE_FIELDS = (
    "child",
    "name",
    "household",
    "village",
    "village_name",
    "risk",
    "obligation",
    "last_contact",
    "due",
    "status",
    "interval_days",
)

# Compliance of the children under %(prefix)s for the judged obligation periods (rules.compliance):
# %(codes)s, %(starts)s, %(untils)s name each (obligation, period start, day judged). A child
# counts for a period when registered by its first day and in scope on the day judged; it is
# met when a qualifying contact falls between the two. A household counts when one of its
# children does, and is met by a town supervisor's contact credited to any of its children.
# Rows: ('total', code, '', counted, met), ('division', code, division one level down, counted,
# met), ('period', code, period start, counted, met), ('unmet', code, public id, 0, 0).
COMPLIANCE_SQL = f"""
WITH subs AS (
    SELECT s.code, s.start, s.until, s.code = 'quarterly_home_visit' AS home_only,
           s.code = 'yearly_family_contact' AS per_household,
           CASE WHEN s.code = 'yearly_family_contact' THEN 'town_supervisor'
                ELSE 'village_director' END AS role
      FROM unnest(%(codes)s::text[], %(starts)s::date[], %(untils)s::date[])
           AS s(code, start, until)
), kids AS (
    SELECT c.id, c.household_id, c.village_id, c.registered_on,
           CASE WHEN c.status = 'active' THEN NULL ELSE c.status_since END AS until
      FROM registry_child c
     WHERE c.village_id LIKE %(prefix)s AND c.registered_on <= %(last_start)s
), present AS (  -- (child, day judged): active and in a category that day
    SELECT k.id, k.household_id, k.village_id, k.registered_on, d.until AS day
      FROM kids k JOIN (SELECT DISTINCT until FROM subs) d
        ON k.registered_on <= d.until AND (k.until IS NULL OR d.until < k.until)
     WHERE {_CATEGORISED.format(child="k.id", day="d.until")}
), judged AS (
    SELECT sb.code, p.id AS unit, p.village_id, sb.start,
           EXISTS (SELECT 1 FROM visits_contactcredit cc
                    WHERE cc.child_id = p.id AND cc.author_role = 'village_director'
                      AND (cc.home_visit OR NOT sb.home_only)
                      AND cc.day BETWEEN sb.start AND sb.until) AS met
      FROM present p JOIN subs sb
        ON NOT sb.per_household AND sb.until = p.day AND p.registered_on <= sb.start
    UNION ALL
    SELECT hc.code, hc.household_id, hc.village_id, hc.start,
           EXISTS (SELECT 1 FROM registry_child sib
                     JOIN visits_contactcredit cc ON cc.child_id = sib.id
                    WHERE sib.household_id = hc.household_id
                      AND cc.author_role = 'town_supervisor'
                      AND cc.day BETWEEN hc.start AND hc.until)
      FROM (SELECT sb.code, p.household_id, sb.start, sb.until, min(p.village_id) AS village_id
              FROM present p JOIN subs sb
                ON sb.per_household AND sb.until = p.day AND p.registered_on <= sb.start
             GROUP BY sb.code, p.household_id, sb.start, sb.until) hc
), units AS (
    SELECT code, unit, min(village_id) AS village, bool_and(met) AS met
      FROM judged GROUP BY code, unit
), villages AS (
    SELECT code, village, count(*) AS counted, count(*) FILTER (WHERE met) AS met
      FROM units GROUP BY code, village
), places AS (  -- where the worker answerable sits: the village, or the town for households
    SELECT code, village AS place, counted, met FROM villages
     WHERE code <> 'yearly_family_contact'
    UNION ALL
    SELECT code, left(village, 9) || '000', sum(counted), sum(met) FROM villages
     WHERE code = 'yearly_family_contact' GROUP BY code, left(village, 9)
), workers AS (
    SELECT u.id, u.division_id, o.code
      FROM accounts_user u
      JOIN (VALUES ('monthly_contact', 'village_director'),
                   ('quarterly_home_visit', 'village_director'),
                   ('yearly_family_contact', 'town_supervisor')) AS o(code, role)
        ON o.role = u.role
     WHERE u.is_active AND u.division_id LIKE %(prefix)s
)
SELECT 'total', code, '', sum(counted), sum(met) FROM villages GROUP BY code
UNION ALL
SELECT 'division', code, rpad(left(village, %(down)s), 12, '0'), sum(counted), sum(met)
  FROM villages GROUP BY code, left(village, %(down)s)
UNION ALL
SELECT 'period', code, start::text, count(*), count(*) FILTER (WHERE met)
  FROM judged GROUP BY code, start
UNION ALL
SELECT 'worker', w.code, w.id::text, COALESCE(p.counted, 0), COALESCE(p.met, 0)
  FROM workers w LEFT JOIN places p ON p.code = w.code AND p.place = w.division_id
UNION ALL
SELECT 'worker', p.code, 'nobody ' || p.place, p.counted, p.met
  FROM places p
 WHERE NOT EXISTS (SELECT 1 FROM workers w WHERE w.code = p.code AND w.division_id = p.place)
UNION ALL
SELECT 'unmet', u.code, COALESCE(ch.public_id, hh.public_id)::text, 0, 0
  FROM units u
  LEFT JOIN registry_child ch ON u.code <> 'yearly_family_contact' AND ch.id = u.unit
  LEFT JOIN registry_household hh ON u.code = 'yearly_family_contact' AND hh.id = u.unit
 WHERE NOT u.met
"""  # noqa: S608  # constants only, no input


def policy_params(as_of: date) -> dict[str, Any]:
    """The numbers of the policy in force; the SQL above knows one version only."""
    from tongxin.visits.models import policy_versions
    from tongxin.visits.rules import policy_on

    versions = policy_versions()
    if len(versions) != 1:
        raise SystemExit(
            f"{len(versions)} cadence policy versions: the hand-written SQL handles one only"
        )
    policy = policy_on(versions, as_of)
    return {
        "due_soon": policy.due_soon_days,
        "high_contact": policy.high_contact_days,
        "high_visit": policy.high_visit_days,
        "medium_visit": policy.medium_visit_days,
    }


def raw_worklist(cursor: Any, prefix: str, as_of: date, policy: dict[str, Any]) -> list[Any]:
    cursor.execute(WORKLIST_SQL, {"prefix": prefix + "%", "as_of": as_of, **policy})
    return list(cursor.fetchall())


def compliance_params(prefix: str, period_text: str, as_of: date | None = None) -> dict[str, Any]:
    from tongxin.core.periods import parse_period
    from tongxin.geo.models import PREFIX_LENGTH, Level
    from tongxin.visits.models import policy_versions
    from tongxin.visits.rules import Obligation, judged_periods

    period = parse_period(period_text)
    codes, starts, untils = [], [], []
    for obligation in Obligation:
        for sub, until in judged_periods(obligation, period, policy_versions(), as_of):
            codes.append(obligation.value)
            starts.append(sub.start)
            untils.append(until)
    # One level down: a province's cities, a city's counties, a county's towns, a town's villages.
    lengths = sorted(set(PREFIX_LENGTH.values()))
    down = next((n for n in lengths if n > len(prefix)), len(prefix))
    if len(prefix) == PREFIX_LENGTH[Level.COUNTY]:
        down = PREFIX_LENGTH[Level.TOWN]
    return {
        "prefix": prefix + "%",
        "codes": codes,
        "starts": starts,
        "untils": untils,
        "last_start": max(starts),
        "down": down,
    }


def raw_compliance(cursor: Any, params: dict[str, Any]) -> list[Any]:
    cursor.execute(COMPLIANCE_SQL, params)
    return list(cursor.fetchall())


def normal_compliance_rows(rows: Iterable[Sequence[Any]]) -> dict[str, Any]:
    """The raw rows as {code: {counted, met, divisions: {code: (c, m)}, periods, unmet}}."""
    out: dict[str, Any] = {}
    for kind, code, key, counted, met in rows:
        entry = out.setdefault(code, _empty_entry())
        if kind == "total":
            entry["counted"], entry["met"] = int(counted), int(met)
        elif kind == "unmet":
            entry["unmet"].add(key)
        else:
            entry[f"{kind}s"][key] = (int(counted), int(met))
    return out


def _empty_entry() -> dict[str, Any]:
    return {
        "counted": 0,
        "met": 0,
        "divisions": {},
        "periods": {},
        "workers": {},
        "unmet": set(),
    }


# --- the reference: rules.py over rows read plainly (for --check-rules) -----------------------


def _windows(child_ids: Sequence[int]) -> dict[int, Any]:
    from tongxin.registry.models import CategorySpan, Child
    from tongxin.visits.rules import ChildWindow

    spans: dict[int, list[tuple[date, date | None]]] = {}
    for child_id, start, end in CategorySpan.objects.filter(child_id__in=child_ids).values_list(
        "child_id", "start", "end"
    ):
        spans.setdefault(child_id, []).append((start, end))
    windows = {}
    for pk, registered, status, since in Child.objects.filter(pk__in=child_ids).values_list(
        "pk", "registered_on", "status", "status_since"
    ):
        windows[pk] = ChildWindow(
            registered_on=registered,
            active_until=None if status == "active" else since,
            categorised=spans.get(pk, []),
        )
    return windows


def _facts(child_ids: Sequence[int]) -> dict[int, list[Any]]:
    from tongxin.visits.models import ContactCredit
    from tongxin.visits.rules import ContactFact

    facts: dict[int, list[Any]] = {pk: [] for pk in child_ids}
    for child_id, day, home, role in ContactCredit.objects.filter(
        child_id__in=child_ids
    ).values_list("child_id", "day", "home_visit", "author_role"):
        facts[child_id].append(ContactFact(day, "home_visit" if home else "phone", role))
    return facts


def reference_worklist(prefix: str, as_of: date) -> set[tuple[Any, ...]]:
    from tongxin.registry.models import Child
    from tongxin.visits.models import RiskOverride, RiskSpan, policy_versions
    from tongxin.visits.rules import RiskHistory, worklist_lines

    ids = list(Child.objects.filter(village__code__startswith=prefix).values_list("pk", flat=True))
    public = dict(Child.objects.filter(pk__in=ids).values_list("pk", "public_id"))
    spans: dict[int, list[Any]] = {}
    for span in RiskSpan.objects.filter(child_id__in=ids):
        spans.setdefault(span.child_id, []).append(span.as_rule())
    overrides: dict[int, list[Any]] = {}
    for override in RiskOverride.objects.filter(child_id__in=ids).order_by("id"):
        overrides.setdefault(override.child_id, []).append(override.as_rule())
    windows, facts, policies = _windows(ids), _facts(ids), policy_versions()
    lines = set()
    for pk in ids:
        risk = RiskHistory(tuple(spans.get(pk, ())), tuple(overrides.get(pk, ())))
        for line in worklist_lines(facts[pk], windows[pk], risk, as_of, policies):
            lines.add(
                (public[pk], line.obligation.value, line.last_contact, line.due, line.status.value)
            )
    return lines


def reference_compliance(
    prefix: str, period_text: str, as_of: date | None = None
) -> dict[str, Any]:
    from tongxin.core.periods import parse_period
    from tongxin.registry.models import Child, Household
    from tongxin.visits.models import policy_versions
    from tongxin.visits.rules import HouseholdWindow, Obligation, compliance

    period = parse_period(period_text)
    rows = list(
        Child.objects.filter(village__code__startswith=prefix).values_list(
            "pk", "public_id", "household_id", "village_id"
        )
    )
    ids = [r[0] for r in rows]
    windows, facts, policies = _windows(ids), _facts(ids), policy_versions()
    homes = dict(
        Household.objects.filter(pk__in={r[2] for r in rows}).values_list("pk", "public_id")
    )
    out: dict[str, Any] = {}
    for obligation in Obligation:
        if obligation is Obligation.YEARLY_FAMILY_CONTACT:
            members: dict[int, list[int]] = {}
            for pk, _public, household, _village in rows:
                members.setdefault(household, []).append(pk)
            units = [
                (
                    str(homes[h]),
                    HouseholdWindow(tuple(windows[pk] for pk in kids)),
                    [f for pk in kids for f in facts[pk]],
                )
                for h, kids in members.items()
            ]
        else:
            units = [(str(public), windows[pk], facts[pk]) for pk, public, _h, _v in rows]
        result = compliance(obligation, period, units, policies, as_of)
        out[obligation.value] = {
            "counted": result.counted,
            "met": result.met,
            "periods": {
                pc.period.start.isoformat(): (pc.counted, pc.met) for pc in result.by_period
            },
            "unmet": set(result.unmet),
        }
    return out


# --- timing -----------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def time_pair(
    runs: int, ours: Callable[[], Any], raw: Callable[[], Any]
) -> tuple[list[float], list[float]]:
    """Wall-clock milliseconds of ``runs`` calls of each, interleaved, after a warm-up."""
    for _ in range(WARMUP):
        ours()
        raw()
    times: dict[int, list[float]] = {0: [], 1: []}
    for run in range(runs):
        # Each goes first in every other run: neither always finds the other's pages cached.
        order = ((0, ours), (1, raw)) if run % 2 == 0 else ((1, raw), (0, ours))
        for which, fn in order:
            start = time.perf_counter()
            fn()
            times[which].append(1000 * (time.perf_counter() - start))
    return times[0], times[1]


def breakdown(fn: Callable[[], Any], runs: int = 10) -> str:
    """How a selector's time splits: its queries (executed, rows transferred) and the rest
    (converting rows, Python), medians over ``runs`` calls."""
    from django.db import connection

    totals: list[float] = []
    in_db: list[float] = []
    count = 0
    for _ in range(runs):
        spent = [0.0, 0]

        def wrapper(
            execute: Any, sql: str, params: Any, many: bool, context: Any, spent: Any = spent
        ) -> Any:
            start = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                spent[0] += time.perf_counter() - start
                spent[1] += 1

        with connection.execute_wrapper(wrapper):
            start = time.perf_counter()
            fn()
            totals.append(1000 * (time.perf_counter() - start))
        in_db.append(1000 * spent[0])
        count = int(spent[1])
    total, db = percentile(totals, 0.5), percentile(in_db, 0.5)
    return f"{count} queries, {db:.1f} ms executing them, {total - db:.1f} ms the rest"


def explain_summary(cursor: Any, sql: str, params: Any) -> list[str]:
    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
    plan = [row[0] for row in cursor.fetchall()]
    keep = [line.strip() for line in plan if line.startswith(("Planning Time", "Execution Time"))]
    buffers = [line.strip() for line in plan[:3] if "Buffers:" in line]
    return [*buffers[:1], *keep]


# The village whose director has the longest worklist: the most children in scope on as_of.
BUSIEST_VILLAGE_SQL = f"""
SELECT c.village_id, count(*) AS children,
       count(*) FILTER (WHERE c.registered_on <= %(as_of)s
                          AND (c.status = 'active' OR %(as_of)s < c.status_since)
                          AND {_CATEGORISED.format(child="c.id", day="%(as_of)s")}) AS in_scope
  FROM registry_child c
 WHERE c.village_id LIKE %(prefix)s
 GROUP BY c.village_id
 ORDER BY in_scope DESC, children DESC, c.village_id
 LIMIT 1
"""  # noqa: S608  # constants only, no input


def pick_director(as_of: date, village: str) -> tuple[Any, str]:
    """The director of ``village``, or of the village with the most children in scope."""
    from tongxin.accounts.models import User

    rows = query(BUSIEST_VILLAGE_SQL, {"as_of": as_of, "prefix": (village or PROVINCE) + "%"})
    if not rows:
        raise SystemExit("no children: fill the database first (--fill)")
    code, children, in_scope = rows[0]
    user = User.objects.get(role="village_director", division_id=code, is_active=True)
    log(
        f"village director {user.username} ({user.name}) of {code}: {children:,} children,"
        f" {in_scope:,} of them in scope on {as_of} (the most of any village)"
        if not village
        else f"village director {user.username} ({user.name}) of {code}: {children:,} children,"
        f" {in_scope:,} of them in scope on {as_of}"
    )
    return user, code


def timing(args: argparse.Namespace) -> None:
    from django.db import connection

    from tongxin.geo.models import Division

    as_of: date = args.as_of
    user, village = pick_director(as_of, args.village)
    county = Division.objects.get(code=village[:6].ljust(12, "0"))
    policy = policy_params(as_of)
    prefix = user.scope_prefix or village
    load = os.getloadavg()
    log(f"as of {as_of}, county {county.code} {county.name}, period {args.period}")
    log(f"load average {load[0]:.1f} on {os.cpu_count()} CPUs")
    connection.ensure_connection()
    raw_cursor = connection.connection.cursor()  # psycopg's own cursor, same connection

    if args.check_rules:
        check_against_rules(raw_cursor, prefix, county.code[:6], as_of, args.period, policy)

    results: list[tuple[str, list[float], list[float], float]] = []
    worklist_fn = _import("tongxin.visits.worklist", "worklist_lines")
    if worklist_fn is None:
        log("tongxin.visits.worklist.worklist_lines: not there yet; timing the SQL only")
    raw_lines = raw_worklist(raw_cursor, prefix, as_of, policy)
    log(f"worklist: {len(raw_lines):,} lines (SQL)")
    if worklist_fn is not None:
        compare_worklist(worklist_fn(user, as_of), raw_lines)
        a, b = time_pair(
            args.runs,
            lambda: worklist_fn(user, as_of),
            lambda: raw_worklist(raw_cursor, prefix, as_of, policy),
        )
        results.append(("worklist", a, b, TARGET_WORKLIST_MS))
        log(f"  worklist_lines: {breakdown(lambda: worklist_fn(user, as_of))}")
    else:
        _a, b = time_pair(
            args.runs, lambda: None, lambda: raw_worklist(raw_cursor, prefix, as_of, policy)
        )
        results.append(("worklist (SQL only)", b, b, TARGET_WORKLIST_MS))
    for line in explain_summary(
        raw_cursor, WORKLIST_SQL, {"prefix": prefix + "%", "as_of": as_of, **policy}
    ):
        log(f"  worklist SQL: {line}")

    params = compliance_params(county.code[:6], args.period)
    raw_rows = raw_compliance(raw_cursor, params)
    summary = normal_compliance_rows(raw_rows)
    for code, entry in summary.items():
        log(f"compliance {code}: {entry['met']:,} of {entry['counted']:,} met (SQL)")
    report_fn = _import("tongxin.visits.compliance", "compliance_report")
    if report_fn is None:
        log("tongxin.visits.compliance.compliance_report: not there yet; timing the SQL only")
        _a, b = time_pair(args.runs, lambda: None, lambda: raw_compliance(raw_cursor, params))
        results.append(("county compliance (SQL only)", b, b, TARGET_COMPLIANCE_MS))
    else:
        from tongxin.core.periods import parse_period

        period = parse_period(args.period)
        compare_compliance(report_fn(county, period), summary)
        a, b = time_pair(
            args.runs,
            lambda: report_fn(county, period),
            lambda: raw_compliance(raw_cursor, params),
        )
        results.append(("county compliance", a, b, TARGET_COMPLIANCE_MS))
        log(f"  compliance_report: {breakdown(lambda: report_fn(county, period))}")
    for line in explain_summary(raw_cursor, COMPLIANCE_SQL, params):
        log(f"  compliance SQL: {line}")
    print_table(results, args.runs)


def print_table(results: Sequence[tuple[str, list[float], list[float], float]], runs: int) -> None:
    log("")
    log(f"{'':<30}{'p50 ms':>9}{'p95 ms':>9}{'SQL p50':>9}{'SQL p95':>9}{'× SQL':>8}  target")
    for name, ours, raw, target in results:
        p50, p95 = percentile(ours, 0.5), percentile(ours, 0.95)
        r50, r95 = percentile(raw, 0.5), percentile(raw, 0.95)
        ratio = p50 / r50 if r50 else float("nan")
        met = p50 <= target and ratio <= TARGET_RATIO
        log(
            f"{name:<30}{p50:>9.1f}{p95:>9.1f}{r50:>9.1f}{r95:>9.1f}{ratio:>7.2f}×  "
            f"p50 ≤ {target:.0f} ms and ≤ {TARGET_RATIO}× SQL: {'met' if met else 'NOT met'}"
        )
    log(f"({runs} runs each, interleaved, after {WARMUP} warm-up runs; wall clock)")


def _import(module: str, name: str) -> Callable[..., Any] | None:
    import importlib

    try:
        found = importlib.import_module(module)
    except ImportError:
        return None
    fn = getattr(found, name, None)
    if fn is not None:
        log(f"{module}.{name}{inspect.signature(fn)}")
    return fn


def _plain(value: Any) -> Any:
    """Enums as their codes, everything else as it is."""
    return getattr(value, "value", value)


def compare_worklist(
    lines: Sequence[Any], raw: Sequence[Sequence[Any]], *, quiet: bool = False
) -> None:
    """The selector's lines and the SQL's rows hold the same lines (as multisets), and the
    selector's are ordered most urgent first."""
    ours = [tuple(_plain(getattr(line, f)) for f in LINE_FIELDS) for line in lines]
    theirs = [tuple(row) for row in raw]
    if sorted(ours, key=str) != sorted(theirs, key=str):
        only_ours = set(ours) - set(theirs)
        only_sql = set(theirs) - set(ours)
        for row in sorted(only_ours, key=str)[:10]:
            log(f"  worklist_lines only: {dict(zip(LINE_FIELDS, row, strict=True))}")
        for row in sorted(only_sql, key=str)[:10]:
            log(f"  SQL only:            {dict(zip(LINE_FIELDS, row, strict=True))}")
        raise SystemExit(
            f"worklist_lines and the SQL disagree: {len(ours):,} lines against {len(theirs):,}"
        )
    rank = {"overdue": 0, "due_soon": 1, "due": 2, "done": 3}
    keys = [(rank[row[9]], row[8]) for row in ours]
    if keys != sorted(keys):
        raise SystemExit("worklist_lines is not ordered most urgent first")
    if not quiet:
        log(f"worklist_lines = SQL: {len(ours):,} lines, the same ones")


def report_entries(report: Any) -> dict[str, Any]:
    """A ``ComplianceReport`` in the shape of ``normal_compliance_rows``."""
    out: dict[str, Any] = {}
    for obligation, result in report.obligations.items():
        entry = out.setdefault(_plain(obligation), _empty_entry())
        entry["counted"], entry["met"] = result.total.counted, result.total.met
        entry["periods"] = {
            pc.period.start.isoformat(): (pc.counted, pc.met) for pc in result.by_period
        }
        if getattr(result, "per_household", False):
            entry["unmet"] = {str(h) for h in result.unmet_households}
        else:
            entry["unmet"] = {str(m.child) for m in result.unmet}
    for row in report.rows:
        for obligation, figures in row.figures.items():
            if figures.counted:
                out[_plain(obligation)]["divisions"][row.division.code] = (
                    figures.counted,
                    figures.met,
                )
    for row in report.workers:
        key = str(row.worker.pk) if row.worker is not None else f"nobody {row.division.code}"
        for obligation, figures in row.figures.items():
            out[_plain(obligation)]["workers"][key] = (figures.counted, figures.met)
    return out


def compare_compliance(report: Any, raw: dict[str, Any]) -> None:
    """The report and the SQL give the same figures: totals, per period, per division one
    level down, per worker, and the same units unmet."""
    ours = report_entries(report)
    wrong = []
    for code in sorted(set(ours) | set(raw)):
        a, b = ours.get(code, _empty_entry()), raw.get(code, _empty_entry())
        for key in ("counted", "met", "periods", "workers", "unmet"):
            if a[key] != b[key]:
                wrong.append(f"{code} {key}")
                if isinstance(a[key], dict | set):
                    only_a = sorted(
                        (a[key] - b[key])
                        if isinstance(a[key], set)
                        else {k: v for k, v in a[key].items() if b[key].get(k) != v}.items()
                    )
                    only_b = sorted(
                        (b[key] - a[key])
                        if isinstance(b[key], set)
                        else {k: v for k, v in b[key].items() if a[key].get(k) != v}.items()
                    )
                    log(f"  {code} {key}: report {only_a[:5]} … SQL {only_b[:5]}")
                else:
                    log(f"  {code} {key}: report {a[key]}, SQL {b[key]}")
        divisions_a = {k: v for k, v in a["divisions"].items() if v[0]}
        divisions_b = {k: v for k, v in b["divisions"].items() if v[0]}
        if divisions_a != divisions_b:
            wrong.append(f"{code} divisions")
            log(f"  {code} divisions: report {divisions_a} SQL {divisions_b}")
    if wrong:
        raise SystemExit("compliance_report and the SQL disagree: " + ", ".join(wrong))
    log(
        "compliance_report = SQL: "
        + ", ".join(f"{code} {e['met']:,}/{e['counted']:,}" for code, e in sorted(raw.items()))
    )


# Reports checked by --check-rules: (period, judged as of the bench's as_of?).
CHECK_PERIODS = (("2025", False), ("2025-Q4", False), ("2026", True), ("2026-11", True))


def check_against_rules(
    cursor: Any, prefix: str, county: str, as_of: date, period: str, policy: dict[str, Any]
) -> None:
    """The hand-written SQL against rules.py over the same rows, for the director's village
    and the whole county, and for several reports; and the selectors against the SQL for
    every village director of the county and for those reports (slow: the reference loads
    every contact of the county)."""
    from tongxin.accounts.models import User
    from tongxin.core.periods import parse_period
    from tongxin.geo.models import Division

    started = time.perf_counter()
    for scope in (prefix, county):  # the director's village, then the whole county
        sql = {(r[0], r[6], r[7], r[8], r[9]) for r in raw_worklist(cursor, scope, as_of, policy)}
        ref = reference_worklist(scope, as_of)
        if sql != ref:
            for line in sorted(sql - ref, key=str)[:10]:
                log(f"  SQL only:   {line}")
            for line in sorted(ref - sql, key=str)[:10]:
                log(f"  rules only: {line}")
            raise SystemExit(f"the worklist SQL disagrees with rules.worklist_lines ({scope})")
        log(f"worklist SQL = rules.worklist_lines under {scope}: {len(sql):,} lines")
    reports = [
        (period, None),
        *((p, as_of if judged_now else None) for p, judged_now in CHECK_PERIODS),
    ]
    for text, day in reports:
        raw = normal_compliance_rows(raw_compliance(cursor, compliance_params(county, text, day)))
        ref_c = reference_compliance(county, text, day)
        for code, entry in ref_c.items():
            got = raw.get(code, _empty_entry())
            for key in ("counted", "met", "periods", "unmet"):
                if got[key] != entry[key]:
                    raise SystemExit(
                        f"compliance SQL disagrees with rules.compliance: {text} {code} {key}"
                    )
        log(
            f"compliance SQL = rules.compliance for {text}"
            f"{f' as of {day}' if day else ''}: "
            + ", ".join(f"{code} {e['met']:,}/{e['counted']:,}" for code, e in ref_c.items())
        )
    log(f"  ({time.perf_counter() - started:,.0f} s)")

    worklist_fn = _import("tongxin.visits.worklist", "worklist_lines")
    if worklist_fn is not None:
        directors = User.objects.filter(
            role="village_director", is_active=True, division__code__startswith=county
        ).order_by("division_id")
        lines = 0
        for director in directors:
            raw_lines = raw_worklist(cursor, director.division_id or "-", as_of, policy)
            compare_worklist(worklist_fn(director, as_of), raw_lines, quiet=True)
            lines += len(raw_lines)
        log(f"worklist_lines = SQL for all {len(directors)} directors of {county}: {lines:,} lines")
    report_fn = _import("tongxin.visits.compliance", "compliance_report")
    if report_fn is not None:
        division = Division.objects.get(code=county.ljust(12, "0"))
        for text, day in reports:
            raw = normal_compliance_rows(
                raw_compliance(cursor, compliance_params(county, text, day))
            )
            compare_compliance(report_fn(division, parse_period(text), as_of=day), raw)


if __name__ == "__main__":
    main()
