"""``manage.py load_divisions [PATH | --gaotai]``: load a division file, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from tongxin.geo.services import DivisionFileError, divisions_load

GAOTAI_FILE = Path(__file__).resolve().parents[2] / "data" / "620724.csv"


class Command(BaseCommand):
    help = (
        "Load administrative divisions from a CSV file with the header "
        "code,name,level,parent_code (UTF-8). Without PATH, loads the Gaotai demo file. "
        "A file with any error is refused whole: every error is printed, nothing is loaded."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", type=Path, help="the CSV file to load")
        parser.add_argument(
            "--gaotai",
            action="store_true",
            help=f"load the bundled Gaotai county file ({GAOTAI_FILE.name})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path | None = options["path"]
        if path is not None and options["gaotai"]:
            raise CommandError(_("Give either PATH or --gaotai, not both."))
        path = path or GAOTAI_FILE
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        try:
            result = divisions_load(source=path)
        except DivisionFileError as exc:
            for error in exc.errors:
                self.stderr.write(error.message)
            raise CommandError(
                _("%(path)s: %(count)d error(s); nothing was loaded.")
                % {"path": path, "count": len(exc.errors)}
            ) from exc
        self.stdout.write(
            _("Divisions: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")
            % {
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
            }
        )
