"""Compliance with the contact cadence (任务9 履职统计), computed in the database.

``compliance_report`` answers, for a division and a report period, what ``rules.compliance``
answers for every obligation: how many children (households, for the town supervisor's yearly
contact) counted and how many met it, overall, per division one level down, per responsible
worker, and who missed it. The semantics are the reference's exactly (the module docs of
``rules.cadence`` and ``rules.compliance``: who counts, longer report periods judged obligation
period by obligation period, the yearly contact in a shorter report judged as progress so far,
the policy version in force on each obligation period's first day); the property tests hold the
SQL to it on SQLite and PostgreSQL.

The work is one SQL statement, whatever the number of children or divisions:

- ``b`` (materialised): one row per child of the division who could count at all (its
  village code by prefix, registered before the last period judged began, not gone before the
  first day judged), with two index probes folded into bit masks: its category spans (bit n:
  in a category on the n-th day judged) and its credits by the obligations' role over the
  report's span, on the index (child, author role, home visit, day) (bit i: a qualifying
  contact inside judged period i); and its risk level on the report's last day judged
  (``rk``: 0 low, 1 medium, 2 high; two more index probes, ``risk.level_on_sql``), which files
  the child in the breakdown by risk level (decision 012);
- ``s`` (materialised): per child a state per judged obligation period ("slot"): 0 not
  counted, 1 counted and missed, 2 met;
- ``h`` (materialised, when the yearly contact is judged): one row per household, counted when
  one of its children is, met by an ``EXISTS`` on the index (household, author role, day);
- the answer is the union of the children who missed something (name, public code, and the
  slots missed as a bit mask), the per-village sums over ``s`` and those over ``h``. Towns,
  counties and workers are rolled up from the villages in Python (a few hundred rows for a
  county).

Besides that statement: the policy versions, the divisions one level down, the villages' and
towns' names, and the workers: five queries in all. Bits are tested with integer division and
modulo, which SQLite and PostgreSQL compute alike.
"""

from __future__ import annotations

import gc
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any, NamedTuple

from django.db import connection

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.core.periods import Period
from tongxin.geo.models import PREFIX_LENGTH, Division, Level
from tongxin.registry.models import CategorySpan, Child, ChildStatus, Household
from tongxin.visits import rules
from tongxin.visits.models import ContactCredit, policy_versions
from tongxin.visits.risk import level_on_sql
from tongxin.visits.rules import OBLIGATIONS, Obligation, PeriodCount

# The per-child obligations, then the per-household one: the order every report shows.
CHILD_UNIT_OBLIGATIONS = (Obligation.MONTHLY_CONTACT, Obligation.QUARTERLY_HOME_VISIT)
ALL_OBLIGATIONS = (*CHILD_UNIT_OBLIGATIONS, Obligation.YEARLY_FAMILY_CONTACT)
# The role answerable for each obligation in a village (directors) or a town (supervisors).
WORKER_ROLES = {
    Obligation.MONTHLY_CONTACT: Role.VILLAGE_DIRECTOR,
    Obligation.QUARTERLY_HOME_VISIT: Role.VILLAGE_DIRECTOR,
    Obligation.YEARLY_FAMILY_CONTACT: Role.TOWN_SUPERVISOR,
}
_TOWN_DIGITS = PREFIX_LENGTH[Level.TOWN]
# The risk levels by their rank in the statement (0, 1, 2: ``rules.risk_rank``).
LEVELS = (rules.RiskLevel.LOW, rules.RiskLevel.MEDIUM, rules.RiskLevel.HIGH)


@dataclass(frozen=True, slots=True)
class Figures:
    """Counted and met units (children, or households for the yearly contact)."""

    counted: int = 0
    met: int = 0

    @property
    def unmet(self) -> int:
        return self.counted - self.met

    @property
    def rate(self) -> float | None:
        return self.met / self.counted if self.counted else None

    def __add__(self, other: Figures) -> Figures:
        return Figures(self.counted + other.counted, self.met + other.met)


class Miss(NamedTuple):
    """A child who missed an obligation: ``missed`` are the obligation periods it counted for
    and missed (for the yearly contact: its household's, the child counting for it); ``risk``
    its level on the report's last day judged."""

    child: uuid.UUID
    name: str
    village: str  # code
    household: uuid.UUID
    missed: tuple[Period, ...]
    risk: rules.RiskLevel = rules.RiskLevel.LOW


@dataclass(frozen=True, slots=True)
class ObligationResult:
    obligation: Obligation
    judged: tuple[tuple[Period, date], ...]
    total: Figures
    by_period: tuple[PeriodCount, ...]
    unmet: tuple[Miss, ...]
    # The yearly contact only: the households that missed it (its unit).
    unmet_households: tuple[uuid.UUID, ...] = ()
    # A per-child obligation: the children counted and met by their risk level on the
    # report's last day judged (``rules.report_day``), low to high; empty for the yearly one.
    by_risk: dict[rules.RiskLevel, Figures] = field(default_factory=dict)

    @property
    def per_household(self) -> bool:
        return OBLIGATIONS[self.obligation].per_household


@dataclass(frozen=True, slots=True)
class DivisionRow:
    """One division one level down, with its figures per obligation."""

    division: Division
    figures: dict[Obligation, Figures]


@dataclass(frozen=True, slots=True)
class WorkerRow:
    """A worker answerable for a village (director) or a town (supervisor), with the figures
    of the obligations their role carries there. ``worker`` is None for a village or town with
    units counted and no active worker of that role."""

    worker: User | None
    division: Division
    figures: dict[Obligation, Figures]


@dataclass(frozen=True, slots=True)
class ComplianceReport:
    division: Division
    period: Period
    as_of: date | None
    obligations: dict[Obligation, ObligationResult]
    rows: tuple[DivisionRow, ...]
    workers: tuple[WorkerRow, ...]
    village_names: dict[str, str] = field(default_factory=dict)


# --- the statement ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Slot:
    obligation: Obligation
    period: Period
    until: date


@dataclass(frozen=True, slots=True)
class _Statement:
    sql: str
    params: list[Any]
    child_slots: tuple[_Slot, ...]
    year_slots: tuple[_Slot, ...]
    width: int


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _bit(mask: str, bit: int) -> str:
    """Whether ``bit`` is set in the integer column ``mask`` (portable: no bitwise operators
    differ between SQLite and PostgreSQL, integer division and modulo do not)."""
    return f"({mask} / {1 << bit}) %% 2 = 1"  # %% : the statement has parameters


def _flags(conditions: list[str]) -> str:
    """One integer, bit ``i`` set when some row meets ``conditions[i]``."""
    return " + ".join(
        f"MAX(CASE WHEN {condition} THEN {1 << i} ELSE 0 END)"
        for i, condition in enumerate(conditions)
    )


def _statement(
    prefix: str, judged: dict[Obligation, tuple[tuple[Period, date], ...]], risk_day: date
) -> _Statement:
    child_slots = tuple(
        _Slot(ob, sub, until) for ob in CHILD_UNIT_OBLIGATIONS for sub, until in judged[ob]
    )
    year_slots = tuple(
        _Slot(Obligation.YEARLY_FAMILY_CONTACT, sub, until)
        for sub, until in judged[Obligation.YEARLY_FAMILY_CONTACT]
    )
    slots = (*child_slots, *year_slots)
    child, credit, household, span = (
        _q(Child._meta.db_table),
        _q(ContactCredit._meta.db_table),
        _q(Household._meta.db_table),
        _q(CategorySpan._meta.db_table),
    )
    end = _q("end")
    params: list[Any] = []

    # base: per child, one probe of its category spans and one of its credits, each folded
    # into bits: ``cats`` bit n = in a category on the n-th day judged; ``hits`` bit i = a
    # qualifying contact in child slot i.
    days = sorted({slot.until for slot in slots})
    columns = ["c.id", "c.public_id", "c.name", "c.village_id", "c.household_id"]
    columns += ["c.registered_on", "c.status", "c.status_since"]
    conditions = []
    for day in days:
        conditions.append(f"sp.start <= %s AND (sp.{end} IS NULL OR sp.{end} > %s)")
        params += [day, day]
    columns.append(
        f"COALESCE((SELECT {_flags(conditions)} FROM {span} sp"  # noqa: S608
        " WHERE sp.child_id = c.id), 0) AS cats"
    )
    if child_slots:
        conditions = []
        for slot in child_slots:
            spec = OBLIGATIONS[slot.obligation]
            home = " AND cr.home_visit = %s" if spec.home_visit_only else ""
            conditions.append(f"cr.author_role = %s{home} AND cr.day >= %s AND cr.day <= %s")
            params += [
                spec.role,
                *([True] if spec.home_visit_only else []),
                slot.period.start,
                slot.until,
            ]
        roles = sorted({OBLIGATIONS[slot.obligation].role for slot in child_slots})
        # Both values of home_visit, so that the day range is read off the index
        # (child, author_role, home_visit, day) for each.
        params += [*roles, False, True]
        params += [min(s.period.start for s in child_slots), max(s.until for s in child_slots)]
        columns.append(
            f"COALESCE((SELECT {_flags(conditions)} FROM {credit} cr"  # noqa: S608
            f" WHERE cr.child_id = c.id AND cr.author_role IN ({', '.join(['%s'] * len(roles))})"
            " AND cr.home_visit IN (%s, %s) AND cr.day >= %s AND cr.day <= %s), 0) AS hits"
        )
    # The level in force on the report's last day judged: 0 low, 1 medium, 2 high.
    level_sql, level_params = level_on_sql("c.id", risk_day)
    params += [*level_params, rules.RiskLevel.HIGH.value, rules.RiskLevel.MEDIUM.value]
    columns.append(f"CASE {level_sql} WHEN %s THEN 2 WHEN %s THEN 1 ELSE 0 END AS rk")
    # No child registered after the last period began, or gone before the first day judged,
    # can count: skip them before any probe.
    params += [
        f"{prefix}%",
        max(slot.period.start for slot in slots),
        ChildStatus.ACTIVE.value,
        min(slot.until for slot in slots),
    ]
    ctes = [
        f"b AS MATERIALIZED (SELECT {', '.join(columns)} FROM {child} c"  # noqa: S608
        " WHERE c.village_id LIKE %s AND c.registered_on <= %s"
        " AND (c.status = %s OR c.status_since > %s))"
    ]

    def counts(slot: _Slot) -> str:
        """The child counts for the slot's period (rules.ChildWindow.counts)."""
        params.extend([slot.period.start, ChildStatus.ACTIVE.value, slot.until])
        return (
            "b.registered_on <= %s AND (b.status = %s OR b.status_since > %s)"
            f" AND {_bit('b.cats', days.index(slot.until))}"
        )

    # s: a state per child slot (k0…: 0 not counted, 1 missed, 2 met), a counted flag per
    # yearly slot (y0…).
    states = ["b.id", "b.public_id", "b.name", "b.village_id", "b.household_id", "b.rk"]
    for i, slot in enumerate(child_slots):
        states.append(
            f"CASE WHEN {counts(slot)} THEN CASE WHEN {_bit('b.hits', i)} THEN 2 ELSE 1 END"
            f" ELSE 0 END AS k{i}"
        )
    for j, slot in enumerate(year_slots):
        states.append(f"CASE WHEN {counts(slot)} THEN 1 ELSE 0 END AS y{j}")
    ctes.append(f"s AS MATERIALIZED (SELECT {', '.join(states)} FROM b)")  # noqa: S608
    if year_slots:
        house_columns = ["s.household_id", "MIN(s.village_id) AS village_id"]
        for j, slot in enumerate(year_slots):
            spec = OBLIGATIONS[slot.obligation]
            params += [spec.role, slot.period.start, slot.until]
            house_columns.append(
                f"CASE WHEN MAX(s.y{j}) = 1 THEN CASE WHEN EXISTS (SELECT 1 FROM {credit} cr"  # noqa: S608
                " WHERE cr.household_id = s.household_id AND cr.author_role = %s"
                f" AND cr.day >= %s AND cr.day <= %s) THEN 2 ELSE 1 END ELSE 0 END AS h{j}"
            )
        ctes.append(
            f"h AS MATERIALIZED (SELECT {', '.join(house_columns)} FROM s"  # noqa: S608
            " GROUP BY s.household_id)"
        )

    ks = [f"s.k{i}" for i in range(len(child_slots))]
    ys = [f"s.y{j}" for j in range(len(year_slots))]
    hs = [f"h.h{j}" for j in range(len(year_slots))]

    # Missed something: the child's own slots, or the household's yearly contact.
    missed = [f"{k} = 1" for k in ks] + [
        f"({y} = 1 AND {h} = 1)" for y, h in zip(ys, hs, strict=True)
    ]
    # The slots missed, as bits: child slot i → bit i, yearly slot j → bit len(ks) + j.
    miss_bits = [f"CASE WHEN {k} = 1 THEN {1 << i} ELSE 0 END" for i, k in enumerate(ks)] + [
        f"CASE WHEN {y} = 1 AND {h} = 1 THEN {1 << (len(ks) + j)} ELSE 0 END"
        for j, (y, h) in enumerate(zip(ys, hs, strict=True))
    ]
    miss_values = [" + ".join(miss_bits), "s.rk"]
    village_values: list[str] = []
    for k in ks:
        village_values += [_sum(f"{k} > 0"), _sum(f"{k} = 2")]
    levels: list[str] = []
    for ob in CHILD_UNIT_OBLIGATIONS:
        own = [k for k, slot in zip(ks, child_slots, strict=True) if slot.obligation is ob]
        if own:
            counted = " OR ".join(f"{k} > 0" for k in own)
            met = (
                f"({' OR '.join(f'{k} = 2' for k in own)})"
                f" AND NOT ({' OR '.join(f'{k} = 1' for k in own)})"
            )
            village_values += [_sum(counted), _sum(met)]
            for rank in range(len(LEVELS)):
                levels += [_sum(f"s.rk = {rank} AND ({counted})"), _sum(f"s.rk = {rank} AND {met}")]
    village_values += levels
    house_values: list[str] = []
    for h in hs:
        house_values += [_sum(f"{h} > 0"), _sum(f"{h} = 2")]
    if hs:
        house_values += [
            _sum(" OR ".join(f"{h} > 0" for h in hs)),
            _sum(
                f"({' OR '.join(f'{h} = 2' for h in hs)})"
                f" AND NOT ({' OR '.join(f'{h} = 1' for h in hs)})"
            ),
        ]
    width = max(len(miss_values), len(village_values), len(house_values), 1)

    def padded(values: list[str]) -> str:
        return ", ".join([*values, *(["0"] * (width - len(values)))])

    # The children's branch comes first: PostgreSQL takes the union's column types from it.
    joins = f" JOIN {household} hh ON hh.id = s.household_id" + (
        " LEFT JOIN h ON h.household_id = s.household_id" if hs else ""
    )
    branches = [
        f"SELECT 'c', s.village_id, s.public_id, s.name, hh.public_id, {padded(miss_values)}"  # noqa: S608
        f" FROM s{joins} WHERE {' OR '.join(missed) or '1 = 0'}"
    ]
    if village_values:
        branches.append(
            f"SELECT 'v', s.village_id, NULL, NULL, NULL, {padded(village_values)}"  # noqa: S608
            " FROM s GROUP BY s.village_id"
        )
    if house_values:
        branches.append(
            f"SELECT 'h', h.village_id, NULL, NULL, NULL, {padded(house_values)}"  # noqa: S608
            " FROM h GROUP BY h.village_id"
        )
    sql = f"WITH {', '.join(ctes)} {' UNION ALL '.join(branches)}"
    return _Statement(sql, params, child_slots, year_slots, width)


def _sum(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Reading a county's misses allocates tens of thousands of small tuples that live on;
    that alone sets off full collections of the whole process heap (hundreds of ms under
    load). The tuples hold no cycles, so reference counting frees them: the cyclic collector
    can wait until they are built."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


# --- the report ------------------------------------------------------------------------------


@dataclass
class _Tally:
    """Sums for one village: per slot (counted, met), per obligation (counted, met), per
    per-child obligation and risk level (counted, met)."""

    slots: dict[_Slot, Figures] = field(default_factory=dict)
    obligations: dict[Obligation, Figures] = field(default_factory=dict)
    levels: dict[tuple[Obligation, rules.RiskLevel], Figures] = field(default_factory=dict)

    def add(self, other: _Tally) -> None:
        for slot, figures in other.slots.items():
            self.slots[slot] = self.slots.get(slot, Figures()) + figures
        for ob, figures in other.obligations.items():
            self.obligations[ob] = self.obligations.get(ob, Figures()) + figures
        for key, figures in other.levels.items():
            self.levels[key] = self.levels.get(key, Figures()) + figures


def _run(statement: _Statement) -> tuple[dict[str, _Tally], list[tuple[Any, ...]]]:
    villages: dict[str, _Tally] = defaultdict(_Tally)
    misses: list[tuple[Any, ...]] = []
    child_obligations = [
        ob
        for ob in CHILD_UNIT_OBLIGATIONS
        if any(s.obligation is ob for s in statement.child_slots)
    ]
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        for row in cursor.fetchall():
            kind = row[0]
            if kind == "c":
                misses.append(row)
                continue
            village, values = row[1], [int(v or 0) for v in row[5:]]
            tally = villages[village]
            slots = statement.child_slots if kind == "v" else statement.year_slots
            obligations = child_obligations if kind == "v" else [Obligation.YEARLY_FAMILY_CONTACT]
            for i, slot in enumerate(slots):
                tally.slots[slot] = Figures(values[2 * i], values[2 * i + 1])
            base = 2 * len(slots)
            for n, ob in enumerate(obligations):
                tally.obligations[ob] = Figures(values[base + 2 * n], values[base + 2 * n + 1])
            if kind == "v":
                base += 2 * len(obligations)
                for n, ob in enumerate(obligations):
                    for rank, level in enumerate(LEVELS):
                        at = base + 2 * (n * len(LEVELS) + rank)
                        tally.levels[(ob, level)] = Figures(values[at], values[at + 1])
    return villages, misses


def _misses(
    statement: _Statement, rows: list[tuple[Any, ...]]
) -> tuple[dict[Obligation, list[Miss]], dict[Obligation, set[uuid.UUID]]]:
    found: dict[Obligation, list[Miss]] = {ob: [] for ob in ALL_OBLIGATIONS}
    households: dict[Obligation, set[uuid.UUID]] = {ob: set() for ob in ALL_OBLIGATIONS}
    slots = (*statement.child_slots, *statement.year_slots)
    yearly = len(statement.child_slots)  # the first bit of a yearly slot
    # Many children miss the same slots: each mask is decoded once.
    decoded: dict[int, tuple[tuple[Obligation, tuple[Period, ...], bool], ...]] = {}
    # By village and name (in Python: the databases' collations differ), then public code
    # (one type per database: UUID on PostgreSQL, the same order as its hex on SQLite).
    rows.sort(key=itemgetter(1, 3, 2))
    for row in rows:
        mask = int(row[5])
        found_in = decoded.get(mask)
        if found_in is None:
            missed: dict[Obligation, list[Period]] = {}
            per_household: set[Obligation] = set()
            rest = mask
            while rest:
                bit = (rest & -rest).bit_length() - 1
                rest &= rest - 1
                missed.setdefault(slots[bit].obligation, []).append(slots[bit].period)
                if bit >= yearly:
                    per_household.add(slots[bit].obligation)
            found_in = decoded[mask] = tuple(
                (ob, tuple(periods), ob in per_household) for ob, periods in missed.items()
            )
        child, household = _uuid(row[2]), _uuid(row[4])
        level = LEVELS[int(row[6])]
        for ob, periods, household_missed in found_in:
            found[ob].append(Miss(child, row[3], row[1], household, periods, level))
            if household_missed:
                households[ob].add(household)
    return found, households


def compliance_report(
    division: Division,
    period: Period,
    *,
    as_of: date | None = None,
    policies: Sequence[rules.CadencePolicy] | None = None,
) -> ComplianceReport:
    """Compliance of ``division`` (every child whose village lies in it) for ``period``,
    judged as of ``as_of`` (None: every obligation period judged on its last day). Equal to
    ``rules.compliance`` for each obligation; ``policies`` default to the stored versions."""
    policies = policy_versions() if policies is None else policies
    judged = {ob: rules.judged_periods(ob, period, policies, as_of) for ob in ALL_OBLIGATIONS}
    villages: dict[str, _Tally] = {}
    misses: dict[Obligation, list[Miss]] = {ob: [] for ob in ALL_OBLIGATIONS}
    households: dict[Obligation, set[uuid.UUID]] = {ob: set() for ob in ALL_OBLIGATIONS}
    statement: _Statement | None = None
    if any(judged.values()):
        statement = _statement(division.prefix, judged, rules.report_day(period, as_of))
        with _cyclic_gc_paused():
            villages, miss_rows = _run(statement)
            misses, households = _misses(statement, miss_rows)

    total = _Tally()
    for tally in villages.values():
        total.add(tally)
    slots = (*statement.child_slots, *statement.year_slots) if statement else ()
    obligations = {
        ob: ObligationResult(
            obligation=ob,
            judged=judged[ob],
            total=total.obligations.get(ob, Figures()),
            by_period=tuple(
                PeriodCount(s.period, f.counted, f.met)
                for s in slots
                if s.obligation is ob
                for f in [total.slots.get(s, Figures())]
            ),
            unmet=tuple(misses[ob]),
            unmet_households=tuple(sorted(households[ob], key=str)),
            by_risk={}
            if OBLIGATIONS[ob].per_household
            else {level: total.levels.get((ob, level), Figures()) for level in LEVELS},
        )
        for ob in ALL_OBLIGATIONS
    }

    below = list(Division.objects.filter(parent=division).order_by("code"))
    rows = []
    for child_division in below:
        sums = _Tally()
        for code, tally in villages.items():
            if child_division.contains(code):
                sums.add(tally)
        rows.append(DivisionRow(child_division, _figures(sums, ALL_OBLIGATIONS)))

    workers, names = _workers(division, villages)
    return ComplianceReport(
        division=division,
        period=period,
        as_of=as_of,
        obligations=obligations,
        rows=tuple(rows),
        workers=workers,
        village_names=names,
    )


def _figures(tally: _Tally, obligations: Iterable[Obligation]) -> dict[Obligation, Figures]:
    return {ob: tally.obligations.get(ob, Figures()) for ob in obligations}


def _town_code(village_code: str) -> str:
    return village_code[:_TOWN_DIGITS].ljust(len(village_code), "0")


def _workers(
    division: Division, villages: dict[str, _Tally]
) -> tuple[tuple[WorkerRow, ...], dict[str, str]]:
    """Each active director with their village's figures, each active supervisor with their
    town's households; and a row without a worker for a village or town that has units
    counted and nobody answerable."""
    directed: tuple[Obligation, ...] = (
        Obligation.MONTHLY_CONTACT,
        Obligation.QUARTERLY_HOME_VISIT,
    )
    supervised: tuple[Obligation, ...] = (Obligation.YEARLY_FAMILY_CONTACT,)
    towns: dict[str, _Tally] = defaultdict(_Tally)
    for code, tally in villages.items():
        towns[_town_code(code)].add(tally)
    places = {d.code: d for d in Division.objects.filter(code__in=[*villages, *towns])}
    people = list(
        User.objects.filter(
            is_active=True,
            role__in=(Role.VILLAGE_DIRECTOR, Role.TOWN_SUPERVISOR),
            division__code__startswith=division.prefix,
        )
        .select_related("division")
        .order_by("division_id", "name", "username")
    )
    rows: list[WorkerRow] = []
    staffed: set[tuple[str, str]] = set()
    for person in people:
        place = person.division
        if place is None:
            continue
        if person.role == Role.VILLAGE_DIRECTOR:
            tally, obligations = villages.get(place.code, _Tally()), directed
        else:
            tally, obligations = towns.get(place.code, _Tally()), supervised
        staffed.add((person.role, place.code))
        rows.append(WorkerRow(person, place, _figures(tally, obligations)))
    # Nobody answerable; for a town, only one inside the division (a village's report leaves
    # its town out).
    for code, tally in villages.items():
        if code in places and (Role.VILLAGE_DIRECTOR, code) not in staffed:
            figures = _figures(tally, directed)
            if any(f.counted for f in figures.values()):
                rows.append(WorkerRow(None, places[code], figures))
    for code, tally in towns.items():
        if (
            code in places
            and division.contains(code)
            and (Role.TOWN_SUPERVISOR, code) not in staffed
        ):
            figures = _figures(tally, supervised)
            if any(f.counted for f in figures.values()):
                rows.append(WorkerRow(None, places[code], figures))
    rows.sort(key=lambda r: (r.division.code, r.worker is None, r.worker.name if r.worker else ""))
    return tuple(rows), {code: place.name for code, place in places.items()}
