"""Run in a process of its own on an empty database (``test_risk_history.py`` starts it): the
risk-history migration forward and back over rows written as they were before it, printing what
it finds as JSON. A process of its own because the migration changes tables, which SQLite
refuses inside the transaction a test runs in."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("visits", "0002_contact_child_not_seen_reason"), ("audit", "0002_append_only_triggers")]
AFTER = [("visits", "0003_risk_history")]
VILLAGE = "620724100201"
SET_AT = datetime(2024, 5, 20, 9, 30, tzinfo=timezone.get_current_timezone())


def _migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def _fill(apps: Any) -> dict[str, int]:
    Division = apps.get_model("geo", "Division")
    county = Division.objects.create(code="620724000000", name="高台县", level="county")
    town = Division.objects.create(code="620724100000", name="城关镇", level="town", parent=county)
    Division.objects.create(code=VILLAGE, name="东村", level="village", parent=town)
    officer = apps.get_model("accounts", "User").objects.create(
        username="officer", role="county_admin", division_id="620724000000"
    )
    household = apps.get_model("registry", "Household").objects.create(village_id=VILLAGE)
    Child = apps.get_model("registry", "Child")
    ChildRisk = apps.get_model("visits", "ChildRisk")
    ids: dict[str, int] = {}
    for name in ("plain", "overridden", "audited"):
        child = Child.objects.create(
            household=household,
            village_id=VILLAGE,
            name=name,
            gender="male",
            birth_date=date(2014, 5, 1),
            registered_on=date(2024, 1, 1),
            status_since=date(2024, 1, 1),
        )
        ids[name] = child.pk
        ChildRisk.objects.create(
            child=child,
            level="medium",
            computed_level="medium",
            reasons=["儿童残疾"],
            factors=["child_disability"],
            computed_on=date(2024, 6, 1),
        )
    for name in ("overridden", "audited"):
        ChildRisk.objects.filter(child_id=ids[name]).update(
            level="high",
            override_level="high",
            override_until=date(2024, 12, 31),
            override_reason="家中有变故",
            override_by=officer,
        )
    apps.get_model("audit", "AuditEvent").objects.create(
        at=SET_AT,
        actor=officer,
        action="risk.override",
        object_type="child",
        object_code=str(Child.objects.get(pk=ids["audited"]).public_id),
    )
    ids["officer"] = officer.pk
    return ids


def main() -> None:
    ids = _fill(_migrate(BEFORE))
    after = _migrate(AFTER)
    spans = [
        [s.child_id, str(s.valid_from), s.valid_to, s.level, s.reasons, s.factors]
        for s in after.get_model("visits", "RiskSpan").objects.order_by("child_id")
    ]
    overrides = [
        [o.child_id, o.level, str(o.starts_on), str(o.ends_on), o.reason, o.set_by_id]
        for o in after.get_model("visits", "RiskOverride").objects.order_by("child_id")
    ]
    linked = sorted(
        after.get_model("visits", "ChildRisk")
        .objects.exclude(override=None)
        .values_list("child_id", flat=True)
    )
    before = _migrate(BEFORE)
    restored = [
        [r.child_id, r.level, r.override_level, str(r.override_until), r.override_reason]
        for r in before.get_model("visits", "ChildRisk").objects.order_by("child_id")
    ]
    print(
        json.dumps(
            {
                "ids": ids,
                "spans": spans,
                "overrides": overrides,
                "linked": linked,
                "restored": restored,
                "today": str(timezone.localdate()),
                "set_on": str(timezone.localdate(SET_AT)),
                "day_before": str(timezone.localdate(SET_AT) - timedelta(days=1)),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    import django

    django.setup()
    main()
