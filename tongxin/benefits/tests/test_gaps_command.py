"""``manage.py benefit_gaps``: counts per kind, nothing written, bad options named."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tongxin.benefits.models import BenefitEnrolment
from tongxin.benefits.tests.gap_world import TOWN, D, enrol, family

pytestmark = pytest.mark.django_db
ORPHAN = ("deceased", "full")


def run(*args: str) -> str:
    out = StringIO()
    call_command("benefit_gaps", *args, stdout=out)
    return out.getvalue()


def test_counts_per_kind_for_a_division() -> None:
    family(father=ORPHAN, mother=ORPHAN)
    conflicted = family(father=ORPHAN, mother=ORPHAN)
    enrol(conflicted, "orphan_allowance", D("2024-01-01"))
    enrol(conflicted, "tekun", D("2024-01-01"))
    before = BenefitEnrolment.objects.count()
    out = run("--division", TOWN, "--as-of", "2025-06-15")
    lines = out.splitlines()
    assert lines[0] == "城关镇 (620724100000) 2025-06-15: 2"
    assert "  eligible_not_enrolled: 1" in lines
    assert "  conflict: 1" in lines
    assert "  missing_payment: 0" in lines
    assert len(lines) == 7
    assert BenefitEnrolment.objects.count() == before


def test_every_county_by_default() -> None:
    family(father=ORPHAN, mother=ORPHAN)
    out = run("--as-of", "2025-06-15")
    assert "高台县 (620724000000) 2025-06-15: 1" in out
    assert "甘州区 (620702000000) 2025-06-15: 0" in out


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("--division", "999999999999"), "--division"),
        (("--as-of", "2025-13-01"), "--as-of"),
        (("--as-of", "昨天"), "--as-of"),
        (("--months-back", "-1"), "--months-back"),
        (("--months-back", "1000"), "--months-back"),
    ],
)
def test_a_bad_option_is_named(args: tuple[str, ...], field: str) -> None:
    with pytest.raises(CommandError, match=field):
        run(*args)
