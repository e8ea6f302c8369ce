"""The worklist's lines computed in the database: every line of a division on a day, in one
SQL query (``child_lines`` for the village director's lines, ``family_lines`` for the town
supervisor's), equal to the pure reference (``rules.worklist_lines``, ``rules.family_line``) as
the property tests in ``tests/test_worklist_property.py`` hold on SQLite and PostgreSQL. Whose
lines a user sees is ``worklist``'s.

Who is in scope on ``as_of``
    The child's ``rules.ChildWindow`` is built from the file: ``registered_on``; active until
    ``status_since`` when the status is not ``active`` (the day it left scope), else always;
    in a category on a day when a ``CategorySpan`` covers that day (the category history, so an
    ``as_of`` in the past is judged by the categories then). The household's window is its
    children's (every child of the household, whatever its status today). The risk level that
    chooses the rolling cadence is the one in force on ``as_of`` (``risk.level_on_sql``: the
    override then, else the computed span then, else low), never a level computed or set
    later (decision 012).

How the SQL computes the reference
    Everything the rules ask of many rows is done in the query, per child (per household for
    the family line): the last qualifying contact on or before ``as_of`` (``ContactCredit``: the
    child's credits, with the author's role at the time and whether it was a home visit; a
    household visit is one credit per sibling), and the first missed period
    (``rules.cadence._first_missed``). Periods are numbered (months ``year*12+month-1``, quarters
    ``year*4+quarter-1``, years): the first missed period is the smallest number ``k`` not
    before the first period that starts on or after the registration date, after the period of
    the last contact, before the current period, whose last day a category span covers (and,
    for a household, on which the child was active), and whose first day falls under a cadence
    version that has the obligation on. Per category span (and per run of versions with the
    obligation on) that is one ``MAX`` of lower bounds checked against one ``MIN`` of upper
    bounds, so the minimum over the spans is one aggregate. What is left for Python is constant
    work per row: the status and due date from that number, the last contact and the
    registration date (``_calendar``, ``_rolling``: the same branches as the rules).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import connection

from tongxin.core import periods
from tongxin.geo.models import PREFIX_LENGTH, Division, Level
from tongxin.registry.models import CategorySpan, Child, ChildStatus, Household
from tongxin.visits import rules
from tongxin.visits.models import ContactCredit, policy_versions
from tongxin.visits.risk import level_on_sql

Obligation, Status, PeriodKind = rules.Obligation, rules.Status, periods.PeriodKind

_BIG = 1_000_000_000  # "no bound" for a period number


# --- lines ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkLine:
    """One worklist line. ``child`` is None on a family line (the town supervisor's yearly
    contact), whose ``name`` joins the names of the household's children in scope and whose
    ``children`` lists them (public id, name). ``risk`` is the child's effective level (None
    on a family line); ``interval_days`` the rolling interval (None: a calendar line)."""

    obligation: rules.Obligation
    child: uuid.UUID | None
    name: str
    household: uuid.UUID
    village: str
    village_name: str
    last_contact: date | None
    due: date
    status: rules.Status
    risk: rules.RiskLevel | None
    interval_days: int | None = None
    children: tuple[tuple[uuid.UUID, str], ...] = ()

    @property
    def masked_name(self) -> str:
        return "、".join(mask_name(n) for n in self.name.split("、"))

    def days_overdue(self, as_of: date) -> int:
        """Days past the due date on ``as_of`` (0 unless overdue)."""
        return max((as_of - self.due).days, 0) if self.status is Status.OVERDUE else 0

    def as_rule_line(self) -> rules.Line:
        return rules.Line(
            self.obligation, self.last_contact, self.due, self.status, self.interval_days
        )


def mask_name(name: str) -> str:
    """A name for answers that leave the page (the API): ``王小明`` → ``王*明``, ``王明`` →
    ``王*``, ``欧阳小明`` → ``欧**明``."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


# --- periods ----------------------------------------------------------------------------------


def first_index_from(day: date, kind: periods.PeriodKind) -> int:
    """The number of the first period that starts on or after ``day``."""
    index = periods.period_index(day, kind)
    return index if periods.period_of(day, kind).start == day else index + 1


@dataclass(frozen=True, slots=True)
class _Calendar:
    """What a calendar obligation looks like on ``as_of``, the same for every child."""

    obligation: rules.Obligation
    kind: periods.PeriodKind
    current: periods.Period
    current_index: int
    applies: bool  # the obligation is on for the current period
    following: periods.Period
    applies_following: bool
    # The runs of periods before the current one with the obligation on: [first, stop).
    runs: tuple[tuple[int, int], ...]


def _calendar_context(
    obligation: rules.Obligation, policies: Sequence[rules.CadencePolicy], as_of: date
) -> _Calendar:
    kind = rules.OBLIGATIONS[obligation].period
    current_index = periods.period_index(as_of, kind)
    current = periods.period_at(current_index, kind)
    following = periods.period_at(current_index + 1, kind)
    ordered = sorted(policies, key=lambda p: p.effective_from)
    # Version i governs the periods that start from its date until the next version's.
    starts = [first_index_from(p.effective_from, kind) for p in ordered]
    runs: list[tuple[int, int]] = []
    for i, policy in enumerate(ordered):
        first = starts[i]
        stop = min(starts[i + 1] if i + 1 < len(ordered) else _BIG, current_index)
        if not policy.applies(obligation) or first >= stop:
            continue
        if runs and runs[-1][1] >= first:
            runs[-1] = (runs[-1][0], max(runs[-1][1], stop))
        else:
            runs.append((first, stop))
    return _Calendar(
        obligation=obligation,
        kind=kind,
        current=current,
        current_index=current_index,
        applies=rules.policy_on(policies, current.start).applies(obligation),
        following=following,
        applies_following=rules.policy_on(policies, following.start).applies(obligation),
        runs=tuple(runs),
    )


def _calendar(
    cal: _Calendar,
    last: date | None,
    counted: bool,
    missed: int | None,
    as_of: date,
    due_soon_days: int,
) -> tuple[date, rules.Status] | None:
    """``rules.cadence._calendar`` given what the SQL found: ``counted`` (registered by the current
    period's first day; in scope on ``as_of`` is already known) and ``missed`` (the number of
    the first missed period, or None)."""
    if not cal.applies:
        return None
    if counted and last is not None and last >= cal.current.start:
        return cal.current.end, Status.DONE
    if missed is not None:
        return periods.period_at(missed, cal.kind).end, Status.OVERDUE
    if counted:
        due = cal.current.end
    elif cal.applies_following:
        due = cal.following.end
    else:
        return None
    return due, Status.DUE_SOON if (due - as_of).days <= due_soon_days else Status.DUE


def _rolling(
    last: date | None, registered_on: date, interval: int, as_of: date, due_soon_days: int
) -> tuple[date, rules.Status]:
    due = (registered_on if last is None else last) + timedelta(days=interval)
    if as_of > due:
        return due, Status.OVERDUE
    if (due - as_of).days <= due_soon_days:
        return due, Status.DUE_SOON
    return due, Status.DUE


# --- SQL --------------------------------------------------------------------------------------


class _Sql:
    """The few expressions the two databases write differently; everything else is shared."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.q = connection.ops.quote_name

    def date(self, value: date) -> Any:
        return connection.ops.adapt_datefield_value(value)

    def parts(self, col: str) -> tuple[str, str, str]:
        if self.postgres:
            return tuple(  # type: ignore[return-value]
                f"CAST(EXTRACT({part} FROM {col}) AS INTEGER)" for part in ("YEAR", "MONTH", "DAY")
            )
        # SQLite keeps dates as YYYY-MM-DD text.
        return (
            f"CAST(substr({col}, 1, 4) AS INTEGER)",
            f"CAST(substr({col}, 6, 2) AS INTEGER)",
            f"CAST(substr({col}, 9, 2) AS INTEGER)",
        )

    def index(self, col: str, kind: periods.PeriodKind) -> str:
        year, month, _day = self.parts(col)
        if kind is PeriodKind.MONTH:
            return f"({year} * 12 + {month} - 1)"
        if kind is PeriodKind.QUARTER:
            return f"({year} * 4 + ({month} - 1) / 3)"
        return f"({year})"

    def first_index_from(self, col: str, kind: periods.PeriodKind) -> str:
        _year, month, day = self.parts(col)
        starts = {
            PeriodKind.MONTH: f"{day} = 1",
            PeriodKind.QUARTER: f"{day} = 1 AND {month} IN (1, 4, 7, 10)",
            PeriodKind.YEAR: f"{day} = 1 AND {month} = 1",
        }[kind]
        return f"({self.index(col, kind)} + CASE WHEN {starts} THEN 0 ELSE 1 END)"

    def greatest(self, *exprs: str) -> str:
        return f"{'GREATEST' if self.postgres else 'MAX'}({', '.join(exprs)})"

    def least(self, *exprs: str) -> str:
        return f"{'LEAST' if self.postgres else 'MIN'}({', '.join(exprs)})"

    def in_division(self, col: str, prefix: str) -> tuple[str, list[Any]]:
        """``col`` inside the division ``prefix``: an indexed test on both databases."""
        if len(prefix) == PREFIX_LENGTH[Level.VILLAGE]:
            return f"{col} = %s", [prefix]
        if self.postgres:
            return f"{col} LIKE %s", [prefix + "%"]  # the varchar_pattern_ops index
        return f"{col} GLOB %s", [prefix + "*"]  # GLOB, unlike LIKE, uses the index

    def table(self, model: Any) -> str:
        return str(self.q(model._meta.db_table))


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _in_scope_sql(sql: _Sql, as_of: date) -> tuple[str, list[Any]]:
    """The child (alias ``c``) is in scope on ``as_of``: active and in a category."""
    span = sql.table(CategorySpan)
    end = sql.q("end")
    day = sql.date(as_of)
    return (
        f"c.registered_on <= %s AND (c.status = %s OR c.status_since > %s) "  # noqa: S608
        f"AND EXISTS (SELECT 1 FROM {span} s WHERE s.child_id = c.id AND s.start <= %s "
        f"AND (s.{end} IS NULL OR s.{end} > %s))",
        [day, ChildStatus.ACTIVE.value, day, day, day],
    )


def _missed_sql(
    sql: _Sql,
    cal: _Calendar,
    *,
    last: str,
    registered_on: str,
    span_from: str,
    span_where: str,
    active_stop: str | None = None,
) -> list[str]:
    """One column per run of periods with the obligation on: the first missed period in it
    (module doc). ``last``, ``registered_on``: the child's (household's) SQL expressions;
    ``span_from``/``span_where``: the category spans to look at, aliased ``s`` (and ``c2`` for a
    household's child, whose activity then bounds the periods: ``active_stop``)."""
    end = sql.q("end")
    kind = cal.kind
    columns = []
    for first, stop in cal.runs:
        lower = sql.greatest(
            sql.first_index_from(registered_on, kind),
            f"COALESCE({sql.index(last, kind)} + 1, {-_BIG})",
            sql.index("s.start", kind),
            str(first),
        )
        uppers = [f"COALESCE({sql.index(f's.{end}', kind)}, {_BIG})", str(stop)]
        if active_stop is not None:
            uppers.insert(1, active_stop)
        columns.append(
            f"(SELECT MIN({lower}) FROM {span_from} WHERE {span_where} "  # noqa: S608
            f"AND {lower} < {sql.least(*uppers)})"
        )
    return columns


def _earliest(values: Sequence[Any]) -> int | None:
    found = [int(v) for v in values if v is not None]
    return min(found) if found else None


def child_lines(prefix: str, as_of: date) -> list[WorkLine]:
    """The village director's lines of every child whose village code starts with ``prefix``
    (unsorted). Two queries: the cadence versions and the lines."""
    policies = policy_versions()
    today = rules.policy_on(policies, as_of)
    monthly = _calendar_context(Obligation.MONTHLY_CONTACT, policies, as_of)
    quarterly = _calendar_context(Obligation.QUARTERLY_HOME_VISIT, policies, as_of)
    if not monthly.applies and not quarterly.applies:
        return []
    sql = _Sql()
    credit, child, span = sql.table(ContactCredit), sql.table(Child), sql.table(CategorySpan)
    household, division = sql.table(Household), sql.table(Division)
    day = sql.date(as_of)
    # The level in force on as_of (decision 012), by two index probes per child.
    level_sql, level_params = level_on_sql("c.id", as_of)
    where, where_params = sql.in_division("c.village_id", prefix)
    scoped, scoped_params = _in_scope_sql(sql, as_of)
    last_any = (
        "(CASE WHEN x.last_home IS NULL OR x.last_other > x.last_home "
        "THEN x.last_other ELSE x.last_home END)"
    )
    spans = {"span_from": f"{span} s", "span_where": "s.child_id = x.id"}
    missed_monthly = _missed_sql(
        sql, monthly, last=last_any, registered_on="x.registered_on", **spans
    )
    missed_quarterly = _missed_sql(
        sql, quarterly, last="x.last_home", registered_on="x.registered_on", **spans
    )
    last_sql = (
        f"(SELECT MAX(cr.day) FROM {credit} cr WHERE cr.child_id = c.id "  # noqa: S608
        f"AND cr.author_role = %s AND cr.home_visit = %s AND cr.day <= %s)"
    )
    query = f"""
        WITH x AS MATERIALIZED (
            SELECT c.id, c.public_id, c.name, c.household_id, c.village_id, c.registered_on,
                {last_sql} AS last_other,
                {last_sql} AS last_home,
                {level_sql} AS risk_level
            FROM {child} c
            WHERE {where} AND {scoped}
        )
        SELECT x.public_id, x.name, h.public_id, x.village_id,
            (SELECT d.name FROM {division} d WHERE d.code = x.village_id), x.registered_on,
            x.risk_level, {last_any}, x.last_home
            {"".join(f", {c}" for c in (*missed_monthly, *missed_quarterly))}
        FROM x
        JOIN {household} h ON h.id = x.household_id
    """  # noqa: S608
    director = rules.VILLAGE_DIRECTOR
    params = [
        director,
        False,
        day,
        director,
        True,
        day,
        *level_params,
        *where_params,
        *scoped_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()

    soon = today.due_soon_days
    n_monthly = len(missed_monthly)
    lines = []
    for row in rows:
        public_id, name, household_id, village, village_name, registered_raw, level_raw = row[:7]
        last_any_day, last_home_day = _as_date(row[7]), _as_date(row[8])
        missed = row[9:]
        registered_on = _as_date(registered_raw)
        assert registered_on is not None
        level = rules.RiskLevel(level_raw or rules.RiskLevel.LOW)
        if level is rules.RiskLevel.HIGH:
            intervals: tuple[int | None, int | None] = (
                today.high_contact_days,
                today.high_visit_days,
            )
        elif level is rules.RiskLevel.MEDIUM:
            intervals = (None, today.medium_visit_days)
        else:
            intervals = (None, None)
        common = {
            "child": _as_uuid(public_id),
            "name": name,
            "household": _as_uuid(household_id),
            "village": village,
            "village_name": village_name,
            "risk": level,
        }
        for cal, last, first_missed, interval in (
            (monthly, last_any_day, _earliest(missed[:n_monthly]), intervals[0]),
            (quarterly, last_home_day, _earliest(missed[n_monthly:]), intervals[1]),
        ):
            counted = registered_on <= cal.current.start
            found = _calendar(cal, last, counted, first_missed, as_of, soon)
            if found is None:
                continue
            if interval is not None:
                found = _rolling(last, registered_on, interval, as_of, soon)
            lines.append(
                WorkLine(
                    obligation=cal.obligation,
                    last_contact=last,
                    due=found[0],
                    status=found[1],
                    interval_days=interval,
                    **common,
                )
            )
    return lines


def family_lines(prefix: str, as_of: date) -> list[WorkLine]:
    """The town supervisor's yearly line of every household with a child in scope whose
    village code starts with ``prefix`` (unsorted). Two queries."""
    policies = policy_versions()
    yearly = _calendar_context(Obligation.YEARLY_FAMILY_CONTACT, policies, as_of)
    if not yearly.applies:
        return []
    sql = _Sql()
    credit, child, span = sql.table(ContactCredit), sql.table(Child), sql.table(CategorySpan)
    household, division = sql.table(Household), sql.table(Division)
    day = sql.date(as_of)
    where, where_params = sql.in_division("c.village_id", prefix)
    scoped, scoped_params = _in_scope_sql(sql, as_of)
    missed = _missed_sql(
        sql,
        yearly,
        last="g.last",
        registered_on="c2.registered_on",
        span_from=f"{child} c2 JOIN {span} s ON s.child_id = c2.id",
        span_where="c2.household_id = g.household_id",
        # A sibling counts for a period only while active on its last day.
        active_stop=(
            f"CASE WHEN c2.status = %s THEN {_BIG} "
            f"ELSE {sql.index('c2.status_since', PeriodKind.YEAR)} END"
        ),
    )
    query = f"""
        WITH sc AS MATERIALIZED (
            SELECT c.id, c.public_id, c.name, c.household_id, c.registered_on
            FROM {child} c
            WHERE {where} AND {scoped}
        ), g AS MATERIALIZED (
            SELECT sc.household_id, MIN(sc.registered_on) AS first_registered,
                (SELECT MAX(cr.day) FROM {credit} cr WHERE cr.household_id = sc.household_id
                    AND cr.author_role = %s AND cr.day <= %s) AS last
            FROM sc
            GROUP BY sc.household_id
        ), f AS MATERIALIZED (
            SELECT g.household_id, g.first_registered, g.last
                {"".join(f", {c} AS m{i}" for i, c in enumerate(missed))}
            FROM g
        )
        SELECT h.public_id, h.village_id,
            (SELECT d.name FROM {division} d WHERE d.code = h.village_id),
            f.first_registered, f.last,
            sc.public_id, sc.name
            {"".join(f", f.m{i}" for i in range(len(missed)))}
        FROM f
        JOIN {household} h ON h.id = f.household_id
        JOIN sc ON sc.household_id = f.household_id
        ORDER BY f.household_id, sc.registered_on, sc.id
    """  # noqa: S608
    params = [
        *where_params,
        *scoped_params,
        rules.TOWN_SUPERVISOR,
        day,
        *[ChildStatus.ACTIVE.value] * len(missed),
    ]
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()

    soon = rules.policy_on(policies, as_of).due_soon_days
    grouped: dict[Any, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    lines = []
    for household_id, members in grouped.items():
        head = members[0]
        first_registered, last = _as_date(head[3]), _as_date(head[4])
        assert first_registered is not None
        counted = first_registered <= yearly.current.start
        found = _calendar(yearly, last, counted, _earliest(head[7:]), as_of, soon)
        if found is None:
            continue
        children = tuple((_as_uuid(m[5]), str(m[6])) for m in members)
        lines.append(
            WorkLine(
                obligation=Obligation.YEARLY_FAMILY_CONTACT,
                child=None,
                name="、".join(name for _id, name in children),
                household=_as_uuid(household_id),
                village=head[1],
                village_name=head[2],
                last_contact=last,
                due=found[0],
                status=found[1],
                risk=None,
                children=children,
            )
        )
    return lines
