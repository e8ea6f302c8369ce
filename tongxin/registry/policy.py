"""The county's policy thresholds, from ``settings.TONGXIN_POLICY`` (the plan's values by default).

``TONGXIN_POLICY = {"left_behind_age": 16, "difficulty_age": 18, "absence_months": 3}``; a key
left out keeps the plan's value.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from django.conf import settings

from tongxin.registry.rules import DEFAULT_THRESHOLDS, Thresholds


def thresholds() -> Thresholds:
    configured: dict[str, Any] = getattr(settings, "TONGXIN_POLICY", None) or {}
    known = {f.name for f in fields(Thresholds)}
    unknown = sorted(set(configured) - known)
    if unknown:
        raise ValueError(f"TONGXIN_POLICY has unknown keys: {unknown}; known: {sorted(known)}")
    return Thresholds(
        **{name: int(configured.get(name, getattr(DEFAULT_THRESHOLDS, name))) for name in known}
    )
