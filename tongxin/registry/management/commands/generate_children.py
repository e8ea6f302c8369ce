"""Generate a synthetic population of children for the demo or for benchmarks.

    python manage.py generate_children --children 1000000 --seed 1 --county 620724

Rows are written in batches straight to the tables (see ``tongxin.registry.generator``); every
person is made up. The county's divisions must be loaded first (``load_divisions``).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from tongxin.registry.generator import (
    BATCH,
    DEFAULT_CHILDREN,
    DEMO_SEED,
    GenerationReport,
    Progress,
    population_generate,
)


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = "Generate synthetic children (households, parents, migration, care agreements)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--children", type=_positive, default=DEFAULT_CHILDREN)
        parser.add_argument("--seed", type=int, default=DEMO_SEED)
        parser.add_argument(
            "--county", default="620724", help="County code (6 or 12 digits), e.g. 620724."
        )
        parser.add_argument("--batch", type=_positive, default=BATCH, help="Children per commit.")
        parser.add_argument(
            "--duplicates",
            type=int,
            default=None,
            help="Near-duplicate pairs to plant (default: one per 150 children).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        county: str = options["county"]
        if not (county.isascii() and county.isdigit() and len(county) in (6, 12)):
            raise CommandError(_("The county code has 6 or 12 digits, e.g. 620724."))
        total: int = options["children"]
        verbose = options["verbosity"] >= 2
        next_line = [0]

        def progress(p: Progress) -> None:
            # About twenty lines for a large run, every batch with -v 2.
            if not verbose and p.children < next_line[0] and p.children < p.total:
                return
            next_line[0] = p.children + max(1, p.total // 20)
            rate = p.rows / p.seconds if p.seconds else 0.0
            self.stdout.write(
                _("  %(done)s / %(total)s children, %(rows)s rows, %(rate)s rows/s")
                % {
                    "done": f"{p.children:,}",
                    "total": f"{p.total:,}",
                    "rows": f"{p.rows:,}",
                    "rate": f"{rate:,.0f}",
                }
            )

        try:
            report = population_generate(
                children=total,
                seed=options["seed"],
                county=county,
                batch=options["batch"],
                duplicates=options["duplicates"],
                progress=progress,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self._summary(report)

    def _summary(self, r: GenerationReport) -> None:
        seconds = max(r.seconds, 1e-9)
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Generated %(children)s children in %(households)s households: %(parents)s "
                    "parents, %(spells)s migration spells, %(agreements)s care agreements, "
                    "%(spans)s category spans, %(pairs)s near-duplicate pairs; %(rows)s rows "
                    "with the history records."
                )
                % {
                    "children": f"{r.children:,}",
                    "households": f"{r.households:,}",
                    "parents": f"{r.parents:,}",
                    "spells": f"{r.spells:,}",
                    "agreements": f"{r.agreements:,}",
                    "spans": f"{r.spans:,}",
                    "rows": f"{r.rows:,}",
                    "pairs": f"{r.duplicate_pairs:,}",
                }
            )
        )
        self.stdout.write(
            _("%(seconds).1f s: %(children)s children/s, %(rows)s rows/s.")
            % {
                "seconds": r.seconds,
                "children": f"{r.children / seconds:,.0f}",
                "rows": f"{r.rows / seconds:,.0f}",
            }
        )
        for code, count in sorted(r.categories.items(), key=lambda kv: -kv[1]):
            self.stdout.write(f"  {code:<22} {count:>9,} {100 * count / r.children:5.1f}%")
