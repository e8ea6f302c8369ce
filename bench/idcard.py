"""How many ID numbers ``tongxin.lib.idcard`` validates per second.

Run from the project root: ``.venv/bin/python bench/idcard.py [COUNT]`` (default 100,000).
The numbers are synthetic children's numbers; one in a hundred has a mistyped digit (an error
message, which costs a gettext call), as a real spreadsheet might. The last run also compares
the birth date and gender entered beside each number, which agree.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(count: int) -> None:
    # Imported here, after the path and settings are set, so the script runs from a checkout
    # without installing anything; gettext on the error path needs configured settings.
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongxin.settings")
    import django

    django.setup()
    from tongxin.lib.idcard import check_character, generate, validate

    rng = random.Random(2024)  # noqa: S311 synthetic data
    today = date(2025, 6, 1)
    first_birth = date(2008, 1, 1).toordinal()
    numbers: list[str] = []
    entered: dict[str, tuple[date, str]] = {}
    for i in range(count):
        birth = date.fromordinal(first_birth + rng.randrange(6000))
        gender = rng.choice(("male", "female"))
        number = generate(rng, region="620724", birth_date=birth, gender=gender)
        if i % 100 == 0:
            digit = str((int(number[10]) + 1) % 10)
            number = number[:10] + digit + number[11:]
        numbers.append(number)
        entered[number] = (birth, gender)
    firsts = [n[:17] for n in numbers]

    def known(code: str) -> bool:
        return code == "620724"

    def run(label: str, work: list[str], call: Callable[[str], object]) -> None:
        start = time.perf_counter()
        for item in work:
            call(item)
        seconds = time.perf_counter() - start
        print(f"{label:<40} {len(work) / seconds:>12,.0f} /s  ({seconds * 1000:,.0f} ms)")

    print(f"{count:,} numbers, Python {sys.version.split()[0]}")
    run("check_character", firsts, check_character)
    run("validate", numbers, lambda n: validate(n, today=today))
    run(
        "validate with region, birth date, gender",
        numbers,
        lambda n: validate(
            n, today=today, known_region=known, birth_date=entered[n][0], gender=entered[n][1]
        ),
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
