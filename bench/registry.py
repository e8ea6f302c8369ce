"""The ledger import (台账导入) against bare openpyxl parsing of the same file, and
classification throughput, on a fresh database.

Run from the project root::

    .venv/bin/python bench/registry.py                     # 100,000 rows, SQLite
    .venv/bin/python bench/registry.py --rows 20000
    .venv/bin/python bench/registry.py --database-url postgres://postgres@127.0.0.1:5432/postgres

The ledger is generated once per row count into ``var/bench/`` (synthetic people: valid ID
numbers from ``tongxin.lib.idcard.generate``, Gaotai's villages from ``geo/data/620724.csv``,
a fifth of the children siblings of the row before, parents working in and out of the county,
every date format the importer reads) and saved as Excel and WPS save it: text in the shared
strings table, the sheet's dimension written (openpyxl's normal mode; its write-only mode
writes inline strings, which openpyxl reads twice as slowly, so it would flatter the ratio).

It prints, each timed on the wall clock:

- **bare parse**: ``load_workbook(read_only=True)`` and ``iter_rows(values_only=True)`` over every
  row, nothing else: the issue's yardstick for an import of this file;
- **bare calamine parse**: the same with python-calamine, the reader the import uses
  (decision 008): the floor of our own import;
- **check**: the dry-run preview (parse, read every cell, match the village, validate ID
  numbers, match existing files, classify), nothing written;
- **import**: the whole apply (all of the above, plus encryption and the bulk writes of children,
  households, parents, spells, category spans and their history, in one transaction),
  on an empty registry — the target is ≤ 2× the bare parse;
- **re-import**: the same file again, every row unchanged;
- **classification**: ``rules.classify`` over the imported children's facts, children/s on one
  core (CPU time, best of 3);
- **peak memory** of this process (the workbook is read in a worker process of its own).

Beside the wall clock it prints the CPU time of this process and of the processes it started
(the import reads the workbook in a worker process, decision 008) and, on PostgreSQL, the CPU
time of the server process that served it (``db cpu``, read from ``/proc``: a server on this
machine). They share the machine's cores: on a loaded machine the wall clock exceeds both.

SQLite runs on a temporary database (``TONGXIN_VAR_DIR`` in a temporary directory, so keys and
database are thrown away). With ``--database-url`` (any database on the server, e.g.
``postgres://postgres@127.0.0.1:5432/postgres``) a temporary database is created on that server
and dropped afterwards.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "var" / "bench"
VILLAGES_CSV = ROOT / "tongxin" / "geo" / "data" / "620724.csv"
AS_OF = date(2024, 6, 30)
TARGET_RATIO = 2.0
AS_OF_NOTE = "wall clock, and CPU time of this process and its reading worker"
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史"
    "顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
GIVEN = (
    "小明红华军丽强伟芳敏静磊洋艳勇杰娟涛超霞平刚桂英兰玉梅花秀云亮宇浩轩子涵欣怡梓睿"
    "博文晨雨萱佳琪嘉豪俊熙"
)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _date_text(rng: random.Random, day: date) -> Any:
    form = rng.randrange(6)
    if form == 0:
        return day.isoformat()
    if form == 1:
        return f"{day.year}.{day.month}.{day.day}"
    if form == 2:
        return f"{day.year}/{day.month}/{day.day}"
    if form == 3:
        return f"{day.year}年{day.month}月{day.day}日"
    if form == 4:
        return (day - date(1899, 12, 30)).days  # an Excel serial number in a number cell
    return day  # a date cell


def generate(path: Path, rows: int) -> None:
    """A synthetic ledger of ``rows`` children on the national form's headers."""
    from openpyxl import Workbook

    from tongxin.interop.headers import NATIONAL_FORM
    from tongxin.lib import idcard

    rng = random.Random(20240418)  # noqa: S311  # synthetic data, not a secret
    with VILLAGES_CSV.open(encoding="utf-8-sig") as f:
        divisions = list(csv.DictReader(f))
    towns = {d["code"]: d["name"] for d in divisions if d["level"] == "town"}
    homes = [
        (towns[d["parent_code"]], d["name"])
        for d in divisions
        if d["level"] in ("village", "community")
    ]
    # Short forms only where they name one place (巷道 is a town, a village and a community).
    cores = [
        d["name"].removesuffix("村").removesuffix("镇").removesuffix("社区") for d in divisions
    ]
    unique = {c for c in cores if cores.count(c) == 1}
    places = [
        "浙江省宁波市",
        "浙江宁波",
        "新疆乌鲁木齐市",
        "甘肃省张掖市甘州区",
        "甘肃省酒泉市肃州区",
        "广东省深圳市宝安区",
        "江苏省苏州市昆山市",
        "内蒙古包头",
        "",
        "",
    ]
    used: set[str] = set()

    def number(birth: date, gender: str) -> str:
        while True:
            value = idcard.generate(rng, region="620724", birth_date=birth, gender=gender)
            if value not in used:
                used.add(value)
                return value

    def day(start: date, days: int) -> date:
        return start + timedelta(days=rng.randrange(days))

    workbook = Workbook()
    workbook.remove(workbook.active)
    sheet = workbook.create_sheet("登记表")
    headers = [header for _key, header in NATIONAL_FORM]
    sheet.append(["高台县农村留守儿童基本情况登记表"])
    sheet.append(headers)
    family: list[Any] = []
    for seq in range(1, rows + 1):
        gender = rng.choice(("male", "female"))
        birth = day(date(2008, 7, 1), 5800)
        child_id = number(birth, gender)
        if family and rng.random() < 0.2:  # a sibling of the row before
            town, village, father, mother, shared = family
        else:
            town, village = rng.choice(homes)
            father = (
                _name(rng),
                day(date(1975, 1, 1), 7000),
                rng.choice(places) or f"高台县{town}",
            )
            father = (*father, number(father[1], "male"), f"139{rng.randrange(10**8):08d}")
            mother = (_name(rng), day(date(1978, 1, 1), 7000), rng.choice(places))
            mother = (*mother, number(mother[1], "female"), f"138{rng.randrange(10**8):08d}")
            home = (
                f"{town}{village}{rng.randrange(1, 9)}组"
                if rng.random() < 0.7 or village.removesuffix("村") not in unique
                else village.removesuffix("村")
            )
            # Facts of the family: the same on every sibling's row.
            shared = [
                home,
                _name(rng) + "、" + _name(rng),
                _name(rng),
                "是" if father[2] and mother[2] else "否",
                "否",
                _name(rng),
                f"137{rng.randrange(10**8):08d}",
                "",
                rng.choice(("祖父", "祖母", "外祖母")),
                f"{town}{village}",
                rng.choice(("较好", "一般", "差")),
                rng.choice(("务工", "务农", "务工、务农")),
                rng.choice(("", "", "", "", "低保", "临时救助", "低保、医疗救助")),
            ]
        family = [town, village, father, mother, shared]
        disabled = rng.random() < 0.03
        ill = not disabled and rng.random() < 0.02
        stage = rng.choice(("小学", "小学", "初中", "幼儿园", "高中", "未入园", "中职"))
        sheet.append(
            [
                seq,
                father[0][0] + rng.choice(GIVEN) + rng.choice(GIVEN),
                "男" if gender == "male" else "女",
                rng.choice(("汉族", "汉族", "汉族", "回族", "裕固族")),
                _date_text(rng, birth),
                child_id if rng.random() > 0.05 else child_id.translate(FULL_WIDTH),
                "是",
                f"甘肃省高台县{town}{village}",
                shared[0],
                "残疾" if disabled else "患病" if ill else "健康",
                f"肢体{rng.choice('一二三四')}级" if disabled else "",
                "先天性心脏病" if ill else "",
                stage,
                rng.choice(("是", "否", "否")),
                father[0],
                _date_text(rng, father[1]),
                father[3],
                father[2],
                father[4],
                mother[0],
                _date_text(rng, mother[1]),
                mother[3],
                mother[2],
                mother[4],
                *shared[1:],
            ]
        )
    workbook.save(path)


FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


class Timing(NamedTuple):
    wall: float
    # CPU time of this process and its finished children (the reading worker); on SQLite the
    # database work is in it too.
    cpu: float
    db_cpu: float | None = None  # PostgreSQL: the CPU time of the server process serving us


def cpu_time() -> float:
    """CPU seconds of this process and of the child processes it waited for."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def server_cpu() -> float | None:
    """CPU seconds the PostgreSQL backend of this process's connection has used so far, read
    from ``/proc`` (a server on this machine); None on SQLite or when it cannot be read."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def bare_parse(path: Path) -> int:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    count = sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    return count


def bare_calamine_parse(path: Path) -> int:
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    count = sum(1 for _ in workbook.get_sheet_by_index(0).iter_rows())
    workbook.close()
    return count


def setup_database(url: str | None) -> tuple[str | None, Path]:
    tmp = Path(tempfile.mkdtemp(prefix="tongxin-bench-"))
    os.environ["TONGXIN_VAR_DIR"] = str(tmp)
    os.environ.pop("DATABASE_URL", None)
    name = None
    if url:
        import psycopg

        name = f"tongxin_bench_{os.getpid()}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        os.environ["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name
    return name, tmp


def drop_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", help="a PostgreSQL server to run on (else SQLite)")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongxin.settings")
    db_name, tmp = setup_database(args.database_url)
    try:
        run(args.rows, "PostgreSQL" if args.database_url else "SQLite")
    finally:
        if args.database_url and db_name:
            from django.db import connections

            connections.close_all()
            drop_database(args.database_url, db_name)
        shutil.rmtree(tmp, ignore_errors=True)


def run(rows: int, engine: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from tongxin.accounts.models import User
    from tongxin.interop import services
    from tongxin.interop.models import BatchStatus
    from tongxin.registry import policy, rules
    from tongxin.registry.models import Child, Migration, Parent
    from tongxin.registry.selectors import parent_facts

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"ledger-{rows}-sst.xlsx"  # shared strings (v1 wrote inline ones)
    if not path.exists():
        started = time.perf_counter()
        print(f"generating {path.relative_to(ROOT)} …", file=sys.stderr)
        generate(path, rows)
        print(f"  generated in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    call_command("migrate", verbosity=0)
    call_command("load_divisions", gaotai=True, verbosity=0)
    admin = User.objects.create(username="bench", role="county_admin", division_id="620724000000")

    def timed(job: Any) -> tuple[Timing, Any]:
        db = server_cpu()
        wall, cpu = time.perf_counter(), cpu_time()
        result = job()
        wall, cpu = time.perf_counter() - wall, cpu_time() - cpu
        db_after = server_cpu()
        db_cpu = None if db is None or db_after is None else db_after - db
        return Timing(wall, cpu, db_cpu), result

    parse, sheet_rows = timed(lambda: bare_parse(path))
    calamine, _rows = timed(lambda: bare_calamine_parse(path))

    def upload() -> Any:
        with path.open("rb") as f:
            return services.batch_upload(
                actor=admin,
                name=path.name,
                size=path.stat().st_size,
                chunks=services.file_chunks(f),
                size_limit=sys.maxsize,  # as manage.py import_ledger does
            )

    def check_and_import() -> tuple[Timing, Timing, Any]:
        batch = upload()
        check, batch = timed(lambda: services.batch_preview(batch))
        assert batch.status == BatchStatus.CHECKED, batch.message
        errors = [r for r in batch.results if r["outcome"] == "error"]
        assert not errors, errors[:3]
        imported, batch = timed(lambda: services.batch_apply(actor=admin, batch=batch))
        assert batch.status == BatchStatus.APPLIED, batch.message
        return check, imported, batch

    check, imported, first = check_and_import()
    recheck, reimported, second = check_and_import()
    assert second.applied_counts["unchanged"] == first.applied_counts["new"], second.applied_counts
    # The machine may be shared: the parse again, and the better of the two as the floor.
    parse_again, _rows = timed(lambda: bare_parse(path))
    parse = min(parse, parse_again, key=lambda t: t.wall)

    # Classification over the imported children's facts (read in one query per table).
    parents = {p.pk: p for p in Parent.objects.all()}
    spells: dict[int, list[Any]] = {}
    for m in Migration.objects.all():
        spells.setdefault(m.parent_id, []).append(m)
    by_household: dict[int, dict[str, Any]] = {}
    for p in parents.values():
        by_household.setdefault(p.household_id, {})[p.role] = p
    facts = []
    for child in Child.objects.select_related("household").iterator(chunk_size=5000):
        own = by_household.get(child.household_id, {})
        father, mother = own.get("father"), own.get("mother")
        facts.append(
            rules.ChildFacts(
                birth_date=child.birth_date,
                lives_in=rules.Residence.VILLAGE,
                father=parent_facts(father, spells.get(father.pk, []) if father else []),
                mother=parent_facts(mother, spells.get(mother.pk, []) if mother else []),
                parents_divorced=child.household.parents_divorced,
                dibao=child.household.dibao,
                tekun=child.household.tekun,
                disability_grade=child.disability_grade,
                serious_illness=child.serious_illness,
            )
        )
    thresholds = policy.thresholds()
    cpu = []
    for _ in range(3):
        started = time.process_time()
        for f in facts:
            rules.classify(f, AS_OF, thresholds)
        cpu.append(time.process_time() - started)
    classify_rate = len(facts) / min(cpu)

    counts = first.applied_counts
    children = counts["total"]
    left = Child.objects.filter(left_behind=True).count()
    difficulty = Child.objects.filter(in_difficulty=True).count()
    size = path.stat().st_size / 1e6
    print(f"ledger import benchmark — {engine}, {children:,} rows ({size:.1f} MB), {AS_OF_NOTE}")
    db_column = f" {'db cpu':>8s}" if imported.db_cpu is not None else ""
    print(
        f"  {'':26s}{'wall':>8s} {'rows/s':>8s} {'× parse':>8s} {'cpu':>8s} {'× parse':>8s}"
        + db_column
    )

    def line(label: str, t: Timing, rows: int) -> None:
        db = f" {t.db_cpu:7.1f}s" if t.db_cpu is not None and db_column else ""
        print(
            f"  {label:26s}{t.wall:7.1f}s {rows / t.wall:8,.0f} {t.wall / parse.wall:7.2f}× "
            f"{t.cpu:7.1f}s {t.cpu / parse.cpu:7.2f}×{db}"
        )

    line("bare openpyxl parse", parse, sheet_rows)
    line("bare calamine parse", calamine, sheet_rows)
    line("check (dry run)", check, children)
    line("import (empty registry)", imported, children)
    line("re-check", recheck, children)
    line("re-import (all unchanged)", reimported, children)
    ratio = imported.wall / parse.wall
    verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
    print(
        f"  import / bare parse: {ratio:.2f}× on the wall clock "
        f"(target ≤ {TARGET_RATIO:.0f}×: {verdict})"
    )
    print(f"  classification: {classify_rate:,.0f} children/s on one core")
    # This process only: a child's ru_maxrss counts the parent's pages it was forked with.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak memory of this process: {peak:,.0f} MB")
    print(
        f"  outcome: new {counts['new']:,}, review {counts['review']:,}; "
        f"left-behind {left:,}, in difficulty {difficulty:,}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
