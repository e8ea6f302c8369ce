"""The county's benefit thresholds come from settings, the issue's values by default."""

from __future__ import annotations

from typing import Any

import pytest

from tongxin.benefits import policy
from tongxin.benefits.rules import Thresholds


def test_it_defaults_to_the_issues_values(settings: Any) -> None:
    settings.TONGXIN_BENEFITS = None
    assert policy.thresholds() == Thresholds(
        adult_age=18,
        rehab_age=7,
        restriction_months=6,
        lost_contact_months=6,
        severe_grade=2,
        severe_grade_intellectual_mental=4,
        care_subsidy_grade=2,
        allowances_while_in_school=True,
    )


def test_it_takes_the_county_s_values(settings: Any) -> None:
    settings.TONGXIN_BENEFITS = {"restriction_months": "3", "allowances_while_in_school": False}
    thresholds = policy.thresholds()
    assert thresholds.restriction_months == 3
    assert thresholds.allowances_while_in_school is False
    assert thresholds.lost_contact_months == 6


@pytest.mark.parametrize(
    ("configured", "message"),
    [
        ({"restriction_month": 3}, "unknown keys"),
        ({"allowances_while_in_school": "0"}, "True or False"),
        ({"adult_age": 0}, "positive"),
    ],
)
def test_it_refuses_a_bad_setting(settings: Any, configured: dict[str, Any], message: str) -> None:
    settings.TONGXIN_BENEFITS = configured
    with pytest.raises(ValueError, match=message):
        policy.thresholds()
