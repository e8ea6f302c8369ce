"""Small worlds for the gap list's tests, written straight to the tables: households with
parents, children, enrolments, standards and payment lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import count
from typing import Any

from tongxin.accounts.models import User
from tongxin.benefits.models import BenefitEnrolment, Standard
from tongxin.benefits.roll_models import PaymentLine, PaymentRoll
from tongxin.registry.models import Child, ChildStatus, Household, Parent

VILLAGE = "620724100201"  # 东村, in 城关镇
OTHER_TOWN_VILLAGE = "620724101201"  # 南村, in 宣化镇
TOWN = "620724100000"  # 城关镇
COUNTY = "620724000000"  # 高台县
D = date.fromisoformat
_numbers = count(1)


def family(
    *,
    village: str = VILLAGE,
    father: tuple[str, str] | None = ("alive", "full"),
    mother: tuple[str, str] | None = ("alive", "full"),
    birth_date: date = date(2015, 5, 1),
    categories: tuple[str, ...] = (),
    status: str = ChildStatus.ACTIVE,
    status_since: date = date(2024, 1, 1),
    **fields: Any,
) -> Child:
    """A child of a new household whose parents have ``(status, capacity)`` (None: no row)."""
    home = Household.objects.create(village_id=village, address="一组")
    for role, state in (("father", father), ("mother", mother)):
        if state is not None:
            Parent.objects.create(household=home, role=role, status=state[0], capacity=state[1])
    return Child.objects.create(
        household=home,
        village_id=village,
        name=f"李{next(_numbers)}娃",
        gender="female",
        birth_date=birth_date,
        registered_on=date(2024, 1, 1),
        status=status,
        status_since=status_since,
        categories=[{"code": code, "reason": "测试"} for code in categories],
        **fields,
    )


def enrol(
    child: Child,
    programme: str,
    start: date,
    end: date | None = None,
    *,
    amount: str = "1000.00",
    rate: str = "",
) -> BenefitEnrolment:
    if programme in ("orphan_allowance", "de_facto_allowance") and not rate:
        rate = "scattered"
    household = programme == "dibao"
    return BenefitEnrolment.objects.create(
        child=None if household else child,
        household=child.household if household else None,
        programme=programme,
        rate=rate,
        monthly_amount=Decimal(amount),
        start_month=start.replace(day=1),
        end_month=end.replace(day=1) if end else None,
        end_reason="other" if end else "",
    )


def standard(programme: str, amount: str, effective_from: date, rate: str = "") -> Standard:
    return Standard.objects.create(
        programme=programme,
        rate=rate,
        monthly_amount=Decimal(amount),
        effective_from=effective_from,
    )


def pay(
    officer: User, child: Child, programme: str, month: date, amount: str = "1000.00"
) -> PaymentLine:
    """A line in force of a roll applied for ``month``, matched to the child's file."""
    number = next(_numbers)
    roll = PaymentRoll.objects.create(
        uploaded_by=officer,
        county_code="620724",
        file_name=f"roll{number}.xlsx",
        size=1,
        sha256=f"{number:064d}",
        status="applied",
    )
    return PaymentLine.objects.create(
        roll=roll,
        line=1,
        child=child,
        id_hash=f"hash-of-child-{child.pk}",
        id_masked="6207**********0000",
        name=child.name,
        programme=programme,
        month=month.replace(day=1),
        amount=Decimal(amount),
        town_id=child.village_id[:9] + "000",
        village_id=child.village_id,
    )
