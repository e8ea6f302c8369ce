"""``manage.py find_duplicates [--division CODE]``: queue the files that may be one child.

Run it daily (beside ``reclassify``) or after an import: new pairs join the review queue, pairs
that no longer match leave it, decided pairs stay decided.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from tongxin.geo.models import Division
from tongxin.registry.duplicates import candidates_refresh


class Command(BaseCommand):
    help = "Find files that may be the same child and queue them for review."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--division",
            default="",
            help="Only files inside this division (12-digit code); default: all.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        prefix = ""
        if code := options["division"]:
            division = Division.objects.filter(code=code).first()
            if division is None:
                raise CommandError(_("No division with code %(code)s.") % {"code": code})
            prefix = division.prefix
        result = candidates_refresh(prefix=prefix)
        self.stdout.write(
            _(
                "Pairs to review: %(open)d (%(new)d new, %(updated)d updated, %(removed)d no "
                "longer matching)."
            )
            % {
                "open": result.open,
                "new": result.created,
                "updated": result.updated,
                "removed": result.removed,
            }
        )
