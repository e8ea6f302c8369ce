"""Recompute every active child's risk level as of a date: run it daily (cron) for what time
alone changes (both parents away 12 months, a care agreement expiring, an override ending).
Each level that changes starts a span of the child's risk history from that date; a date before
the one last computed sets the history from that date until the next change recorded after it,
and leaves the stored level of the later day alone (decision 012).

    python manage.py refresh_risk [--as-of 2024-07-01]
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from tongxin.core.commands import iso_date
from tongxin.visits.risk import risk_refresh_all


class Command(BaseCommand):
    help = "Recompute every active child's risk level as of a date (default: today)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", type=iso_date, default=None, help="YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = options["as_of"] or timezone.localdate()
        started = time.perf_counter()
        result = risk_refresh_all(as_of=as_of)
        self.stdout.write(
            _(
                "Risk levels as of %(date)s: %(seen)d children seen, %(changed)d levels "
                "changed (%(s).1f s)."
            )
            % {
                "date": as_of.isoformat(),
                "seen": result["children"],
                "changed": result["changed"],
                "s": time.perf_counter() - started,
            }
        )
