"""The county's settings for mandatory reports, with the plan's values as defaults.

In ``settings.py`` (all optional)::

    TONGXIN_REPORTS = {
        "ACCEPTANCE_LIMIT": "24h",        # h: hours, d: days, wd: working days
        "RESULT_LIMIT": "15d",
        "REFERRAL_ACCEPTANCE_LIMIT": "3wd",
        # harm (or "imminent") → the departments a new report goes to at once; the county
        # officers change it on /reports/routing/ (each version kept), which then wins.
        "ROUTING": {"physical_abuse": ["police", "civil_affairs"], ...},
        "LEAD_ORDER": ["police", "education", "civil_affairs"],  # who handles it, of those
        "RECEIPT_PREFIXES": {"620724": "GT"},  # county code → receipt prefix
        "TASK_DAYS": 7,                    # days a village has to register a described child
    }
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from tongxin.protection import rules

DEFAULTS: dict[str, Any] = {
    "ACCEPTANCE_LIMIT": "24h",
    "RESULT_LIMIT": "15d",
    "REFERRAL_ACCEPTANCE_LIMIT": "3wd",
    "ROUTING": rules.DEFAULT_ROUTING,
    "LEAD_ORDER": rules.LEAD_ORDER,
    "RECEIPT_PREFIXES": {"620724": "GT"},
    "TASK_DAYS": 7,
}


def setting(name: str) -> Any:
    return {**DEFAULTS, **getattr(settings, "TONGXIN_REPORTS", {})}[name]


def clock_policy() -> rules.ClockPolicy:
    return rules.ClockPolicy(
        acceptance=rules.Limit.parse(setting("ACCEPTANCE_LIMIT")),
        result=rules.Limit.parse(setting("RESULT_LIMIT")),
        referral_acceptance=rules.Limit.parse(setting("REFERRAL_ACCEPTANCE_LIMIT")),
        time_zone=settings.TIME_ZONE,
    )


def routing_table() -> dict[str, tuple[str, ...]]:
    """The routing table in force: the latest version saved on the routing page, else the
    settings' (the law's defaults)."""
    from tongxin.protection.models import RoutingVersion

    latest = RoutingVersion.objects.order_by("-created_at", "-pk").first()
    # A settings table may name only the rows it changes; a saved version names them all.
    table = latest.table if latest is not None else {**rules.DEFAULT_ROUTING, **setting("ROUTING")}
    return {key: tuple(table.get(key, ())) for key in rules.ROUTE_KEYS}


def receipt_prefix(county_code: str) -> str:
    """The receipt number's prefix for a county (its code when none is set)."""
    return str(setting("RECEIPT_PREFIXES").get(county_code, county_code))
