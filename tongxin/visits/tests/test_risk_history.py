"""The risk history (issue 10, decision 012): the pure rules that keep it (``record_level``,
``RiskHistory.level_on``, ``timeline``), the writes that keep it (a refresh, the daily run as of
any day, a fact change, a problem, an override set, replaced and cleared), and the migration
that turned each stored level into the first span of its history."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from tongxin.protection import problems
from tongxin.protection.rules import ConcernCategory, Severity
from tongxin.registry import services as registry
from tongxin.registry.models import Child
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors
from tongxin.visits import services
from tongxin.visits.models import ChildRisk, RiskOverride, RiskSpan
from tongxin.visits.risk import risk_refresh
from tongxin.visits.rules import (
    OverrideSpan,
    RiskHistory,
    RiskLevel,
    TimelineEntry,
    record_level,
    timeline,
)
from tongxin.visits.rules import (
    RiskSpan as Span,
)

D = date.fromisoformat
LOW, MEDIUM, HIGH = RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH


def spans(*rows: tuple[str, str | None, RiskLevel]) -> tuple[Span, ...]:
    return tuple(Span(D(a), D(b) if b else None, level) for a, b, level in rows)


# --- record_level ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "day", "level", "after"),
    [
        # The first computation opens the history.
        ((), "2024-01-01", HIGH, spans(("2024-01-01", None, HIGH))),
        # The same level again: nothing is written.
        (spans(("2024-01-01", None, HIGH)), "2024-06-01", HIGH, spans(("2024-01-01", None, HIGH))),
        # A change closes the span that held and opens one.
        (
            spans(("2024-01-01", None, HIGH)),
            "2024-04-01",
            LOW,
            spans(("2024-01-01", "2024-04-01", HIGH), ("2024-04-01", None, LOW)),
        ),
        # A past day: from that day until the next change already recorded.
        (
            spans(("2024-01-01", "2024-04-01", HIGH), ("2024-04-01", None, LOW)),
            "2024-02-01",
            MEDIUM,
            spans(
                ("2024-01-01", "2024-02-01", HIGH),
                ("2024-02-01", "2024-04-01", MEDIUM),
                ("2024-04-01", None, LOW),
            ),
        ),
        # A past day that meets the next span's level: they merge.
        (
            spans(("2024-01-01", "2024-04-01", HIGH), ("2024-04-01", None, LOW)),
            "2024-03-01",
            LOW,
            spans(("2024-01-01", "2024-03-01", HIGH), ("2024-03-01", None, LOW)),
        ),
        # On a span's first day, meeting the previous span's level: they merge.
        (
            spans(
                ("2024-01-01", "2024-02-01", HIGH),
                ("2024-02-01", "2024-04-01", MEDIUM),
                ("2024-04-01", None, LOW),
            ),
            "2024-02-01",
            HIGH,
            spans(("2024-01-01", "2024-04-01", HIGH), ("2024-04-01", None, LOW)),
        ),
        # Before anything was recorded: until the first span (merged when it is the same).
        (
            spans(("2024-04-01", None, LOW)),
            "2024-01-01",
            HIGH,
            spans(("2024-01-01", "2024-04-01", HIGH), ("2024-04-01", None, LOW)),
        ),
        (spans(("2024-04-01", None, LOW)), "2024-01-01", LOW, spans(("2024-01-01", None, LOW))),
    ],
)
def test_it_records_a_level_from_its_day_until_the_next_change(
    before: tuple[Span, ...], day: str, level: RiskLevel, after: tuple[Span, ...]
) -> None:
    assert record_level(before, D(day), level) == after


LEVELS = st.sampled_from(list(RiskLevel))
DAYS = st.integers(0, 400).map(lambda n: date(2024, 1, 1) + timedelta(days=n))


@given(st.lists(st.tuples(DAYS, LEVELS), max_size=12), DAYS, LEVELS, DAYS)
def test_a_recorded_level_holds_until_the_next_change_and_nothing_else_moves(
    earlier: list[tuple[date, RiskLevel]], day: date, level: RiskLevel, probe: date
) -> None:
    history: tuple[Span, ...] = ()
    for when, what in earlier:
        history = record_level(history, when, what)
    after = record_level(history, day, level)
    # Well formed: ordered, none empty, none overlapping, touching spans differ in level.
    for a, b in itertools.pairwise(after):
        assert a.end is not None
        assert a.end <= b.start
        assert a.end != b.start or a.level is not b.level
    assert all(s.end is None or s.start < s.end for s in after)
    before_on = RiskHistory(history).computed_on
    after_on = RiskHistory(after).computed_on
    assert after_on(day) is level
    # Only the days from ``day`` until the next change recorded after it move.
    nxt = min((s.start for s in history if s.start > day), default=None)
    holding = next((s for s in history if s.holds_on(day)), None)
    stop = holding.end if holding is not None else nxt
    if probe < day or (stop is not None and probe >= stop):
        assert after_on(probe) == before_on(probe)
    else:
        assert after_on(probe) is level


# --- the level on a day ----------------------------------------------------------------------

COMPUTED = spans(("2024-01-01", "2024-04-01", HIGH), ("2024-04-01", None, LOW))


@pytest.mark.parametrize(
    ("overrides", "day", "level"),
    [
        ((), "2023-12-31", LOW),  # nothing recorded yet
        ((), "2024-03-31", HIGH),
        ((), "2024-04-01", LOW),
        # An override holds from the day it was set through its end date.
        ((OverrideSpan(MEDIUM, D("2024-05-01"), D("2024-05-31")),), "2024-04-30", LOW),
        ((OverrideSpan(MEDIUM, D("2024-05-01"), D("2024-05-31")),), "2024-05-01", MEDIUM),
        ((OverrideSpan(MEDIUM, D("2024-05-01"), D("2024-05-31")),), "2024-05-31", MEDIUM),
        ((OverrideSpan(MEDIUM, D("2024-05-01"), D("2024-05-31")),), "2024-06-01", LOW),
        # Cleared: from the day it was cleared the computed level applies.
        (
            (OverrideSpan(LOW, D("2024-02-01"), D("2024-05-31"), D("2024-03-01")),),
            "2024-02-29",
            LOW,
        ),
        (
            (OverrideSpan(LOW, D("2024-02-01"), D("2024-05-31"), D("2024-03-01")),),
            "2024-03-01",
            HIGH,
        ),
        # Replaced the same day it was set: it never held; the later one holds.
        (
            (
                OverrideSpan(HIGH, D("2024-05-01"), D("2024-05-31"), D("2024-05-01")),
                OverrideSpan(MEDIUM, D("2024-05-01"), D("2024-06-30")),
            ),
            "2024-05-01",
            MEDIUM,
        ),
        # Of two in force, the one set later.
        (
            (
                OverrideSpan(HIGH, D("2024-05-01"), D("2024-12-31")),
                OverrideSpan(MEDIUM, D("2024-06-01"), D("2024-06-30")),
            ),
            "2024-06-15",
            MEDIUM,
        ),
        # Made in 2026: nothing in 2024.
        ((OverrideSpan(HIGH, D("2026-11-02"), D("2027-01-31")),), "2024-05-01", LOW),
    ],
)
def test_the_level_on_a_day_is_the_override_then_else_the_computed_level_then(
    overrides: tuple[OverrideSpan, ...], day: str, level: RiskLevel
) -> None:
    assert RiskHistory(COMPUTED, overrides).level_on(D(day)) is level


def test_the_timeline_joins_the_computed_levels_and_the_overrides() -> None:
    history = RiskHistory(
        COMPUTED,
        (
            OverrideSpan(LOW, D("2024-02-01"), D("2024-05-31"), D("2024-03-01")),
            OverrideSpan(HIGH, D("2024-06-01"), D("2024-06-01"), D("2024-06-01")),  # never held
            OverrideSpan(MEDIUM, D("2024-06-10"), D("2024-06-30")),
        ),
    )
    assert timeline(history) == (
        TimelineEntry(D("2024-07-01"), None, LOW, LOW, None),
        TimelineEntry(D("2024-06-10"), D("2024-07-01"), MEDIUM, LOW, 2),
        TimelineEntry(D("2024-04-01"), D("2024-06-10"), LOW, LOW, None),
        TimelineEntry(D("2024-03-01"), D("2024-04-01"), HIGH, HIGH, None),
        TimelineEntry(D("2024-02-01"), D("2024-03-01"), LOW, HIGH, 0),
        TimelineEntry(D("2024-01-01"), D("2024-02-01"), HIGH, HIGH, None),
    )
    # Up to a day: the stretches begun by then, the last one with its planned end.
    assert timeline(history, D("2024-06-15"))[0] == TimelineEntry(
        D("2024-06-10"), D("2024-07-01"), MEDIUM, LOW, 2
    )
    assert timeline(history, D("2024-06-15"))[1:] == timeline(history)[2:]
    assert timeline(RiskHistory()) == ()


# --- the writes ------------------------------------------------------------------------------


def history(child: Child) -> list[tuple[date, date | None, str]]:
    return [
        (s.valid_from, s.valid_to, s.level)
        for s in RiskSpan.objects.filter(child=child).order_by("valid_from")
    ]


@pytest.mark.django_db
def test_a_refresh_writes_a_span_only_when_the_level_changes(actors: Actors) -> None:
    with time_machine.travel(date(2024, 3, 1), tick=False):
        kid = make_family(actors, father_left=None, mother_left=None)  # registered: computed
    for day in ("2024-03-02", "2024-04-01"):
        risk_refresh(kid, as_of=D(day))
    assert history(kid) == [(D("2024-03-01"), None, "low")]
    Child.objects.filter(pk=kid.pk).update(disability_grade=3)
    kid.refresh_from_db()
    for day in ("2024-05-01", "2024-05-02", "2024-06-01"):
        risk_refresh(kid, as_of=D(day))
    Child.objects.filter(pk=kid.pk).update(enrolment="dropped_out")
    kid.refresh_from_db()
    risk_refresh(kid, as_of=D("2025-02-01"))
    assert history(kid) == [
        (D("2024-03-01"), D("2024-05-01"), "low"),
        (D("2024-05-01"), D("2025-02-01"), "medium"),
        (D("2025-02-01"), None, "high"),
    ]
    # Each span keeps the factors and reasons found when it began.
    medium = RiskSpan.objects.get(child=kid, level="medium")
    assert (medium.factors, medium.reasons) == (["child_disability"], ["儿童残疾（残疾等级三级）"])
    assert RiskSpan.objects.get(child=kid, level="high").factors == ["child_disability", "dropout"]


@pytest.mark.django_db
def test_the_daily_run_as_of_a_past_day_writes_the_history_not_todays_level(
    actors: Actors, child: Child
) -> None:
    risk = ChildRisk.objects.get(pk=child.pk)  # computed today: both parents away for years
    assert (risk.level, risk.computed_on) == ("high", timezone.localdate())
    out = StringIO()
    call_command("refresh_risk", "--as-of", "2024-06-01", stdout=out)
    assert "2024-06-01" in out.getvalue()
    # On 1 June 2024 the parents had been away for months only: medium (no agreement).
    assert history(child)[0] == (D("2024-06-01"), timezone.localdate(), "medium")
    assert history(child)[-1][1:] == (None, "high")
    risk.refresh_from_db()
    assert (risk.level, risk.computed_on) == ("high", timezone.localdate())


@pytest.mark.django_db
def test_a_fact_change_and_a_problem_write_the_history_on_their_day(actors: Actors) -> None:
    with time_machine.travel(date(2024, 1, 2), tick=False):
        kid = make_family(actors, father_left=None, mother_left=None)
        kid = registry.child_update(
            actor=actors.county_admin,
            child=kid,
            version=kid.version,
            changes={"disability_grade": 3},
        ).child
    with time_machine.travel(date(2024, 3, 5), tick=False):
        problems.problem_raise(
            actor=actors.village_director,
            child=kid,
            fields={
                "category": ConcernCategory.SAFETY,
                "severity": Severity.HIGH,
                "description": "屋后水塘无护栏",
            },
        )
    assert history(kid) == [
        (D("2024-01-02"), D("2024-03-05"), "medium"),
        (D("2024-03-05"), None, "high"),
    ]


@pytest.mark.django_db
def test_overrides_are_kept_with_the_day_they_were_set_replaced_and_cleared(
    actors: Actors, child: Child
) -> None:
    today = timezone.localdate()
    until = today + timedelta(days=30)
    services.risk_override_set(
        actor=actors.town_supervisor, child=child, level="low", until=until, reason="父亲已返乡"
    )
    risk = services.risk_override_set(
        actor=actors.county_admin, child=child, level="medium", until=until, reason="再评估"
    )
    assert (risk.level, risk.override_reason, risk.override_by) == (
        "medium",
        "再评估",
        actors.county_admin,
    )
    first, second = RiskOverride.objects.filter(child=child).order_by("id")
    assert (first.starts_on, first.cleared_on, first.cleared_by) == (
        today,
        today,
        actors.county_admin,
    )
    assert (second.starts_on, second.ends_on, second.cleared_on) == (today, until, None)
    cleared = services.risk_override_clear(actor=actors.town_supervisor, child=child)
    assert (cleared.level, cleared.override) == ("high", None)
    second.refresh_from_db()
    assert (second.cleared_on, second.cleared_by) == (today, actors.town_supervisor)
    # Nothing to clear: nothing written.
    services.risk_override_clear(actor=actors.town_supervisor, child=child)
    assert RiskOverride.objects.filter(child=child).count() == 2


@pytest.mark.django_db
def test_an_override_lapses_after_its_end_date_and_stays_in_the_history(
    actors: Actors, child: Child
) -> None:
    until = timezone.localdate() + timedelta(days=3)
    services.risk_override_set(
        actor=actors.county_admin, child=child, level="low", until=until, reason="父亲已返乡"
    )
    lapsed = risk_refresh(child, as_of=until + timedelta(days=1))
    assert (lapsed.level, lapsed.override) == ("high", None)
    # Recomputing its last day again leaves the stored level of the later day alone.
    assert risk_refresh(child, as_of=until).level == "high"
    override = RiskOverride.objects.get(child=child)
    assert override.cleared_on is None
    assert override.holds_on(until)
    assert not override.holds_on(until + timedelta(days=1))


# --- the migration ---------------------------------------------------------------------------


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a process on an empty database of the kind the tests run on: a new
    SQLite file, or a new PostgreSQL database beside the test database (dropped after)."""
    env = {**os.environ, "TONGXIN_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    if connection.vendor != "postgresql":
        yield env
        return
    import psycopg

    settings = connection.settings_dict
    name = f"{settings['NAME']}_migration"
    server = {
        "host": settings["HOST"] or "127.0.0.1",
        "port": settings["PORT"] or 5432,
        "user": settings["USER"],
        "password": settings["PASSWORD"] or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    password = f":{server['password']}" if server["password"] else ""
    env["DATABASE_URL"] = (
        f"postgres://{server['user']}{password}@{server['host']}:{server['port']}/{name}"
    )
    try:
        yield env
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_migration_turns_each_stored_level_into_its_first_span_and_back(
    empty_database: dict[str, str],
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tongxin.visits.tests.risk_migration_check"],
        cwd=settings.BASE_DIR,
        env={**empty_database, "DJANGO_SETTINGS_MODULE": "tongxin.settings"},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    ids = found["ids"]
    plain, overridden, audited = ids["plain"], ids["overridden"], ids["audited"]
    # Each stored level: the first span of its history, from the day it was computed.
    assert found["spans"] == [
        [pk, "2024-06-01", None, "medium", ["儿童残疾"], ["child_disability"]]
        for pk in (plain, overridden, audited)
    ]
    # Each override in force: an override row from the day the audit trail says it was set,
    # else the day the level was computed; the child's row points at it.
    assert found["overrides"] == [
        [overridden, "high", "2024-06-01", "2024-12-31", "家中有变故", ids["officer"]],
        [audited, "high", found["set_on"], "2024-12-31", "家中有变故", ids["officer"]],
    ]
    assert found["set_on"] == "2024-05-20"
    assert found["linked"] == [overridden, audited]
    # And back: the override returns to the child's row.
    assert found["restored"] == [
        [plain, "medium", "", "None", ""],
        [overridden, "high", "high", "2024-12-31", "家中有变故"],
        [audited, "high", "high", "2024-12-31", "家中有变故"],
    ]
