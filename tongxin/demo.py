"""The Gaotai demo: divisions, the plan's seventeen departments, town governments, village
committees, a few institutions, and one account per role. Every person is synthetic.

Loading is idempotent: a second run creates nothing and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from tongxin.accounts.models import (
    Department,
    InstitutionType,
    Organisation,
    OrganisationKind,
    User,
)
from tongxin.accounts.roles import Role
from tongxin.accounts.services import user_create
from tongxin.benefits.demo import benefits_generate
from tongxin.geo.models import Division, Level
from tongxin.geo.services import divisions_load
from tongxin.registry.duplicates import candidates_refresh
from tongxin.registry.generator import DEFAULT_CHILDREN, DEMO_SEED, population_generate
from tongxin.registry.models import Child
from tongxin.visits.demo import contacts_generate

GAOTAI = "620724000000"
DIVISIONS_FILE = Path(__file__).resolve().parent / "geo" / "data" / "620724.csv"

# The signatories of the action plan, in the order the plan lists them.
DEPARTMENTS: list[tuple[Department, str]] = [
    (Department.CIVIL_AFFAIRS, "高台县民政局"),
    (Department.CYBERSPACE, "中共高台县委网信办"),
    (Department.COURT, "高台县人民法院"),
    (Department.PROCURATORATE, "高台县人民检察院"),
    (Department.EDUCATION, "高台县教育局"),
    (Department.POLICE, "高台县公安局"),
    (Department.JUSTICE, "高台县司法局"),
    (Department.FINANCE, "高台县财政局"),
    (Department.HUMAN_RESOURCES, "高台县人力资源和社会保障局"),
    (Department.HEALTH, "高台县卫生健康局"),
    (Department.EMERGENCY, "高台县应急管理局"),
    (Department.WATER, "高台县水务局"),
    (Department.WOMEN_CHILDREN_COMMITTEE, "高台县妇儿工委办公室"),
    (Department.YOUTH_LEAGUE, "共青团高台县委"),
    (Department.WOMENS_FEDERATION, "高台县妇女联合会"),
    (Department.DISABLED_FEDERATION, "高台县残疾人联合会"),
    (Department.FIRE_RESCUE, "高台县消防救援大队"),
]

# Institutions with a duty to report (强制报告责任主体), synthetic, in 城关镇.
INSTITUTIONS = [
    ("城关镇中心小学", InstitutionType.SCHOOL),
    ("城关镇中心幼儿园", InstitutionType.KINDERGARTEN),
    ("高台县第二人民医院", InstitutionType.MEDICAL),
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    name: str
    division: str  # "county", "town" or "village": the first of its level in the demo
    organisation: str | None


DEMO_ACCOUNTS = [
    DemoAccount("demo_county", Role.COUNTY_ADMIN, "王丽华", "county", "高台县民政局"),
    DemoAccount("demo_town", Role.TOWN_SUPERVISOR, "李建国", "town", None),
    DemoAccount("demo_village", Role.VILLAGE_DIRECTOR, "张秀英", "village", None),
    DemoAccount("demo_police", Role.DEPARTMENT_OFFICER, "赵明", "county", "高台县公安局"),
    DemoAccount("demo_school", Role.REPORTER, "陈静", "town", "城关镇中心小学"),
    DemoAccount("demo_auditor", Role.AUDITOR, "刘洋", "county", None),
    DemoAccount("demo_sysadmin", Role.SYSTEM_ADMIN, "周涛", "county", None),
    DemoAccount("demo_security", Role.SECURITY_ADMIN, "吴敏", "county", None),
]


@dataclass
class DemoReport:
    divisions: dict[str, int] = field(default_factory=dict)
    organisations_created: int = 0
    accounts: list[tuple[DemoAccount, str | None]] = field(default_factory=list)
    children_generated: int = 0  # 0 when children were already there
    contacts_generated: int = 0
    benefit_standards: int = 0  # example amounts added (0 when there were some)
    benefit_enrolments: int = 0


def _committee_name(place: Division) -> str:
    """东村 → 东村村民委员会, 城北社区 → 城北社区居民委员会."""
    return place.name + ("居民委员会" if place.level == Level.COMMUNITY else "村民委员会")


@transaction.atomic
def demo_load() -> DemoReport:
    report = DemoReport()
    result = divisions_load(source=DIVISIONS_FILE)
    report.divisions = {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
    }
    county = Division.objects.get(code=GAOTAI)
    towns = list(Division.objects.filter(parent=county, level=Level.TOWN).order_by("code"))
    local = list(
        Division.objects.filter(parent__in=towns, level__in=[Level.VILLAGE, Level.COMMUNITY])
    )

    wanted: list[Organisation] = [
        Organisation(name=name, kind=OrganisationKind.DEPARTMENT, department=dep, division=county)
        for dep, name in DEPARTMENTS
    ]
    wanted += [
        Organisation(name=f"{t.name}人民政府", kind=OrganisationKind.TOWN_GOVERNMENT, division=t)
        for t in towns
    ]
    wanted += [
        Organisation(name=_committee_name(v), kind=OrganisationKind.VILLAGE_COMMITTEE, division=v)
        for v in local
    ]
    wanted += [
        Organisation(
            name=name,
            kind=OrganisationKind.INSTITUTION,
            institution_type=institution_type,
            division=towns[0],
        )
        for name, institution_type in INSTITUTIONS
    ]
    existing = set(Organisation.objects.values_list("division_id", "name"))
    new = [o for o in wanted if (o.division_id, o.name) not in existing]
    Organisation.objects.bulk_create(new)
    report.organisations_created = len(new)

    first_village = Division.objects.filter(parent=towns[0], level=Level.VILLAGE).order_by("code")[
        0
    ]
    places = {"county": county, "town": towns[0], "village": first_village}
    # Seeded from the command line (``actor=None``, as ``manage.py createuser`` does): each role
    # is in force at once, with no second person's approval, and a demo account keeps the
    # password printed here (no one-time password to replace). An administrator in the
    # application never gets either (decision 015).
    for account in DEMO_ACCOUNTS:
        if User.objects.filter(username=account.username).exists():
            report.accounts.append((account, None))
            continue
        organisation = (
            Organisation.objects.get(name=account.organisation) if account.organisation else None
        )
        created = user_create(
            actor=None,
            username=account.username,
            role=account.role,
            name=account.name,
            division=places[account.division],
            organisation=organisation,
            is_demo=True,
        )
        report.accounts.append((account, created.password))
    # The synthetic population (tongxin.registry.generator), only into an empty registry.
    if not Child.objects.exists():
        generated = population_generate(children=DEFAULT_CHILDREN, seed=DEMO_SEED, county=GAOTAI)
        report.children_generated = generated.children
        report.contacts_generated = contacts_generate(
            county=GAOTAI, as_of=timezone.localdate(), seed=DEMO_SEED
        )
        # The planted near-duplicates wait in the review queue from the first sign-in on.
        candidates_refresh(prefix=GAOTAI[:6])
    # Example standards and a handful of enrolments, each added only where there are none.
    demo_officer = User.objects.get(username="demo_county")
    benefits = benefits_generate(actor=demo_officer, county=GAOTAI, as_of=timezone.localdate())
    report.benefit_standards, report.benefit_enrolments = benefits.standards, benefits.enrolments
    if report.children_generated and connection.vendor == "postgresql":
        # Freshly filled tables have no planner statistics until autovacuum's first
        # analyse (a minute or more on a busy machine); without them the county officer's
        # home page takes half a minute. A running installation has them: analyse now.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return report
