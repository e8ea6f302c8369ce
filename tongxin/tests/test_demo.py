"""The Gaotai demo loads whole, and a second load changes nothing."""

from __future__ import annotations

from tongxin.accounts.models import Organisation, OrganisationKind, User
from tongxin.accounts.roles import Role
from tongxin.audit.models import AuditEvent
from tongxin.demo import DEMO_ACCOUNTS, demo_load
from tongxin.geo.models import Division, Level
from tongxin.testing import Actors


def _counts() -> tuple[int, int, int, int]:
    return (
        Division.objects.count(),
        Organisation.objects.count(),
        User.objects.count(),
        AuditEvent.objects.count(),
    )


def test_it_loads_one_account_per_role_and_the_plans_departments(actors: Actors) -> None:
    report = demo_load()
    assert {a.role for a, _ in report.accounts} == set(Role.values)
    assert all(password for _, password in report.accounts)
    demo = User.objects.filter(username__in=[a.username for a in DEMO_ACCOUNTS])
    assert demo.count() == len(Role.values)
    assert all(u.is_demo for u in demo)
    departments = Organisation.objects.filter(
        kind=OrganisationKind.DEPARTMENT, division_id="620724000000"
    )
    assert departments.exclude(department="").count() == 17
    gaotai = Division.objects.filter(code__startswith="620724")
    assert gaotai.filter(level=Level.TOWN).count() == 9
    assert gaotai.filter(level=Level.VILLAGE).count() == 136
    assert gaotai.filter(level=Level.COMMUNITY).count() == 9


def test_it_changes_nothing_the_second_time(actors: Actors) -> None:
    demo_load()
    before = _counts()
    report = demo_load()
    assert _counts() == before
    assert report.organisations_created == 0
    assert report.divisions["created"] == report.divisions["updated"] == 0
    assert all(password is None for _, password in report.accounts)
