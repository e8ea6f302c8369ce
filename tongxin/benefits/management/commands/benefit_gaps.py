"""``manage.py benefit_gaps [--division CODE] [--as-of DATE] [--months-back N]``: count the gap
list's lines (应保尽保, 应退尽退) per kind, for a division (default: every county) on a date
(default: today). Writes nothing: the list is not kept yet."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from tongxin.benefits.gaps import GapKind, compute_gaps
from tongxin.geo.models import Division, Level


class Command(BaseCommand):
    help = "Count the benefit gap list's lines per kind for a division on a date (no writes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--division", default="", help="Division code (default: every county)")
        parser.add_argument("--as-of", default="", help="Date, YYYY-MM-DD (default: today)")
        parser.add_argument(
            "--months-back", type=int, default=12, help="Months checked for payments (default 12)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = _as_of(options["as_of"])
        months_back = options["months_back"]
        if not 0 <= months_back <= 120:
            raise CommandError(_("--months-back: give a number of months from 0 to 120."))
        code = options["division"].strip()
        if code:
            division = Division.objects.filter(code=code).first()
            if division is None:
                raise CommandError(
                    _("--division: no division has the code %(code)s.") % {"code": code}
                )
            divisions = [division]
        else:
            divisions = list(Division.objects.filter(level=Level.COUNTY).order_by("code"))
        for division in divisions:
            gaps = compute_gaps(division.code, as_of, months_back=months_back)
            counts = Counter(g.kind for g in gaps)
            self.stdout.write(f"{division.name} ({division.code}) {as_of.isoformat()}: {len(gaps)}")
            for kind in GapKind:
                self.stdout.write(f"  {kind.value}: {counts.get(kind, 0)}")


def _as_of(value: str) -> date:
    if not value:
        return timezone.localdate()
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise CommandError(
            _("--as-of: give a date as YYYY-MM-DD, not %(value)s.") % {"value": value}
        ) from None
