"""How many children ``tongxin.registry.rules.classify`` classifies per second, on one core.

Run from the project root: ``.venv/bin/python bench/classify.py [COUNT]`` (default 200,000).
The facts are random but shaped like a rural county's: most parents alive and able, many away
out of the county, some returned, a few ledger spells with an unknown start. The mix is heavier
than a real county's (about half the children fall in a category, and each category costs its
reason), so the figure errs low. Each child is classified on one date with the thresholds read
from the settings. Target: ≥ 100,000/s on one core, measured in CPU time (best of 5 passes).
"""

from __future__ import annotations

import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2024, 6, 30)
TARGET = 100_000
PASSES = 5


def main(count: int) -> None:
    # Imported here, after the path and settings are set, so the script runs from a checkout.
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongxin.settings")
    import django

    django.setup()
    from tongxin.registry import policy
    from tongxin.registry.rules import (
        Capacity,
        ChildFacts,
        Destination,
        MigrationSpell,
        ParentFacts,
        ParentStatus,
        Residence,
        classify,
    )

    rng = random.Random(20240418)  # noqa: S311  # synthetic data, not a secret
    statuses = [ParentStatus.ALIVE] * 20 + list(ParentStatus)
    capacities = [Capacity.FULL] * 20 + list(Capacity)
    destinations = [Destination.OUT_OF_COUNTY, Destination.OUT_OF_PROVINCE] * 2 + list(Destination)

    def day(start: date, days: int) -> date:
        return start + timedelta(days=rng.randrange(days))

    def spell() -> MigrationSpell:
        if rng.random() < 0.05:
            return MigrationSpell(None, None, rng.choice(destinations), day(date(2023, 1, 1), 600))
        left_on = day(date(2019, 1, 1), 2000)
        returned_on = None if rng.random() < 0.7 else left_on + timedelta(days=rng.randrange(700))
        return MigrationSpell(left_on, returned_on, rng.choice(destinations))

    def parent() -> ParentFacts:
        spells = tuple(spell() for _ in range(rng.choice((0, 0, 1, 1, 1, 2))))
        return ParentFacts(rng.choice(statuses), rng.choice(capacities), spells)

    children = [
        ChildFacts(
            birth_date=day(date(2005, 1, 1), 7000),
            lives_in=Residence.VILLAGE if rng.random() < 0.85 else Residence.COMMUNITY,
            father=parent(),
            mother=parent(),
            parents_divorced=rng.random() < 0.05,
            dibao=rng.random() < 0.15,
            tekun=rng.random() < 0.01,
            disability_grade=rng.choice((1, 2, 3, 4)) if rng.random() < 0.03 else None,
            serious_illness=rng.random() < 0.02,
        )
        for _ in range(count)
    ]
    thresholds = policy.thresholds()

    # Best of a few passes, as timeit does, and in CPU time: on a shared machine the wall clock
    # and the slower passes also measure the neighbours. The classifier runs on one core.
    walls, cpus = [], []
    for _ in range(PASSES):
        wall, cpu = time.perf_counter(), time.process_time()
        results = [classify(facts, AS_OF, thresholds) for facts in children]
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    rate = count / min(cpus)

    left_behind = sum(1 for r in results if r.codes and r.codes[0] == "left_behind")
    in_difficulty = sum(1 for r in results if r.in_difficulty)
    verdict = "met" if rate >= TARGET else "MISSED"
    print(f"classified {count:,} children as of {AS_OF}, {PASSES} passes")
    print(f"  left-behind {left_behind:,}, in difficulty {in_difficulty:,}")
    print(f"  {rate:,.0f} classifications/s on one core (target ≥ {TARGET:,}/s: {verdict})")
    print(
        f"  wall clock: best {count / min(walls):,.0f}/s, "
        f"median {count / sorted(walls)[PASSES // 2]:,.0f}/s "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
