"""Load the holiday arrangement of each year the installed chinese-calendar knows into the
county's working-day calendar (idempotent: a year already in the table is left as it is).

    python manage.py load_workdays [--year 2026 ...]

Run it after upgrading chinese-calendar (``pip install -U chinesecalendar`` each December, when
the State Council has published the next year); until then, enter the year on the calendar
page (/settings/workdays/).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from tongxin.workdays.services import calendar_load


class Command(BaseCommand):
    help = "Load holidays and make-up working days from chinese-calendar, for the years it knows."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, action="append", help="only this year (repeat)")

    def handle(self, *args: Any, **options: Any) -> None:
        result = calendar_load(years=options["year"])
        for year, days in sorted(result.loaded.items()):
            self.stdout.write(_("%(year)d: loaded, %(days)d days.") % {"year": year, "days": days})
        if result.already:
            self.stdout.write(
                _("Already in the calendar, left as they are: %(years)s.")
                % {"years": ", ".join(str(y) for y in result.already)}
            )
        if not result.loaded:
            self.stdout.write(_("Nothing to load."))
        if result.package_last_year is not None:
            self.stdout.write(
                _(
                    "chinese-calendar knows no year after %(last)d: enter %(next)d on the "
                    "working-day calendar page once the State Council publishes it."
                )
                % {"last": result.package_last_year, "next": result.package_last_year + 1}
            )
