"""How fast ``tongxin.visits.rules`` evaluates worklist lines and compliance in pure Python.

Run from the project root: ``.venv/bin/python bench/cadence.py [CHILDREN]`` (default 100,000).
Each child has about 12 contacts over the year before the day judged (about one a month, a few
dated after it, one child in ten neglected for the last six months), most by the village director,
a third of them home visits, a few by the town supervisor.
Risk: 70 % low, 20 % medium, 10 % high. A tenth of the children were registered in the last
three months (mid-period registrations), a twentieth left scope, a tenth have category spans
with a gap. Everything is judged as of 2024-06-30 under two policy versions.

It measures the rules only, in CPU time (best of 5 passes, as timeit does): the contacts are
already in memory as ``ContactFact`` tuples. Fetching 1.2 M contact rows from the database and
building the tuples is not counted; it costs more than the rules (see the last figure, which
builds the tuples from plain row tuples as a cursor would return them).
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2024, 6, 30)
PASSES = 5


def main(count: int) -> None:
    sys.path.insert(0, str(ROOT))  # run from a checkout; the rules need no Django set-up
    from tongxin.core.periods import parse_period
    from tongxin.visits.rules import (
        TOWN_SUPERVISOR,
        VILLAGE_DIRECTOR,
        CadencePolicy,
        ChildWindow,
        Compliance,
        ContactFact,
        ContactKind,
        Line,
        Obligation,
        RiskLevel,
        compliance,
        worklist_lines,
    )

    rng = random.Random(20240418)  # noqa: S311  # synthetic data, not a secret
    policies = (CadencePolicy(date.min), CadencePolicy(date(2024, 4, 1), high_contact_days=14))
    kinds = [ContactKind.PHONE] * 5 + [ContactKind.HOME_VISIT] * 3 + [ContactKind.VIDEO]
    risks = [RiskLevel.LOW] * 7 + [RiskLevel.MEDIUM] * 2 + [RiskLevel.HIGH]

    def window() -> ChildWindow:
        if rng.random() < 0.1:
            registered = AS_OF - timedelta(days=rng.randrange(90))
        else:
            registered = date(2019, 1, 1) + timedelta(days=rng.randrange(1800))
        until = AS_OF - timedelta(days=rng.randrange(200)) if rng.random() < 0.05 else None
        spans = None
        if rng.random() < 0.1:
            gap = AS_OF - timedelta(days=rng.randrange(300))
            spans = ((registered, gap), (gap + timedelta(days=rng.randrange(60)), None))
        return ChildWindow(registered, until, spans)

    def contact_rows() -> list[tuple[date, str, str]]:
        # About one a month over the last year; one child in ten neglected since the winter.
        rows: list[tuple[date, str, str]] = []
        months = 6 if rng.random() < 0.1 else 0
        for month in range(months, 12):
            if rng.random() < 0.9:
                day = AS_OF - timedelta(days=30 * month + rng.randrange(30) - 5)  # some after
                role = TOWN_SUPERVISOR if rng.random() < 0.05 else VILLAGE_DIRECTOR
                rows.append((day, rng.choice(kinds), role))
        rows.extend(rows[: rng.randrange(3)])  # a household visit recorded for siblings
        return rows

    raw = [(window(), contact_rows(), rng.choice(risks)) for _ in range(count)]
    children = [(w, [ContactFact(*row) for row in rows], risk) for w, rows, risk in raw]
    contacts_total = sum(len(contacts) for _w, contacts, _r in children)

    def best(run: Callable[[], object]) -> float:
        cpus = []
        for _ in range(PASSES):
            cpu = time.process_time()
            run()
            cpus.append(time.process_time() - cpu)
        return min(cpus)

    results: list[tuple[Line, ...]] = []

    def worklist() -> None:
        results[:] = [worklist_lines(c, w, r, AS_OF, policies) for w, c, r in children]

    cpu_worklist = best(worklist)
    lines = [line for child_lines in results for line in child_lines]
    statuses = Counter(line.status.value for line in lines)

    q2 = parse_period("2024-Q2")
    units = [(i, w, c) for i, (w, c, _r) in enumerate(children)]
    reports: dict[Obligation, Compliance[int]] = {}

    def report() -> None:
        for obligation in (Obligation.MONTHLY_CONTACT, Obligation.QUARTERLY_HOME_VISIT):
            reports[obligation] = compliance(obligation, q2, units, policies, AS_OF)

    cpu_compliance = best(report)

    def build() -> list[tuple[ContactFact, ...]]:
        return [tuple(ContactFact(*row) for row in rows) for _w, rows, _r in raw]

    cpu_build = best(build)

    print(f"{count:,} children, {contacts_total:,} contacts, as of {AS_OF}, best of {PASSES}")
    print(f"  worklist: {len(lines):,} lines ({dict(statuses)})")
    print(
        f"    {len(lines) / cpu_worklist:,.0f} lines/s, {count / cpu_worklist:,.0f} children/s "
        f"({cpu_worklist:.2f} s CPU on one core)"
    )
    for obligation, result in reports.items():
        counted, met = result.counted, result.met
        print(f"  compliance {q2} {obligation}: counted {counted:,}, met {met:,}")
    print(
        f"    both obligations: {cpu_compliance:.2f} s CPU "
        f"({2 * count / cpu_compliance:,.0f} child-reports/s)"
    )
    print(
        f"  building ContactFact tuples from row tuples: {cpu_build:.2f} s CPU "
        f"({contacts_total / cpu_build:,.0f} contacts/s)"
    )
    print(f"  (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
