"""Reclassify every active child as of a date: run it daily (cron, systemd timer) to catch the
category changes that come from time alone (a 16th or 18th birthday, a spell reaching three
months).

    python manage.py reclassify [--as-of 2024-07-01]
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from tongxin.core.commands import iso_date
from tongxin.registry.services import reclassify_all


class Command(BaseCommand):
    help = "Recompute every active child's categories as of a date (default: today)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", type=iso_date, default=None, help="YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        as_of: date = options["as_of"] or timezone.localdate()
        started = time.perf_counter()
        result = reclassify_all(as_of=as_of)
        self.stdout.write(
            _(
                "Reclassified as of %(date)s: %(seen)d children seen, %(changed)d changed "
                "(%(s).1f s)."
            )
            % {
                "date": as_of.isoformat(),
                "seen": result["children"],
                "changed": result["changed"],
                "s": time.perf_counter() - started,
            }
        )
