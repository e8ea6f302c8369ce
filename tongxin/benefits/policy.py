"""The county's benefit thresholds, from ``settings.TONGXIN_BENEFITS`` (the issue's by default).

``TONGXIN_BENEFITS = {"adult_age": 18, "rehab_age": 7, "restriction_months": 6,
"lost_contact_months": 6, "severe_grade": 2, "severe_grade_intellectual_mental": 4,
"care_subsidy_grade": 2, "allowances_while_in_school": True}``; a key left out keeps the
default.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from django.conf import settings

from tongxin.benefits.rules import DEFAULT_THRESHOLDS, Thresholds


def thresholds() -> Thresholds:
    configured: dict[str, Any] = getattr(settings, "TONGXIN_BENEFITS", None) or {}
    known = {f.name for f in fields(Thresholds)}
    unknown = sorted(set(configured) - known)
    if unknown:
        raise ValueError(f"TONGXIN_BENEFITS has unknown keys: {unknown}; known: {sorted(known)}")
    values: dict[str, Any] = {}
    for name in known:
        default = getattr(DEFAULT_THRESHOLDS, name)
        value = configured.get(name, default)
        # bool("0") is True: a switch must be a real bool, not a string from the environment.
        if isinstance(default, bool) and not isinstance(value, bool):
            raise ValueError(f"TONGXIN_BENEFITS[{name!r}] must be True or False, not {value!r}")
        values[name] = value if isinstance(default, bool) else int(value)
    return Thresholds(**values)
