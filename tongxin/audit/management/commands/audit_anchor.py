"""``manage.py audit_anchor``: append yesterday's anchor of the audit trail to the anchor file
(decision 016). Run it once a day, after midnight (cron or a systemd timer).

``--export PATH`` then copies the whole anchor file to PATH (``-``: standard output), for
safekeeping away from the server: on paper, a USB stick, the county's records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from tongxin.audit.anchors import AnchorFileError, anchor_path, audit_anchor, read_anchors


class Command(BaseCommand):
    help = (
        "Append yesterday's anchor of the audit trail to the anchor file; with --export, "
        "copy the anchor file for safekeeping."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--export",
            metavar="PATH",
            help="Copy the anchor file to PATH afterwards ('-': standard output).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(settings.LANGUAGE_CODE):
            self._anchor(options["export"])

    def _anchor(self, export: str | None) -> None:
        path = anchor_path()
        try:
            anchor = audit_anchor(path=path)
            count = len(read_anchors(path))
        except AnchorFileError as exc:
            raise CommandError(
                _("Line %(line)d of the anchor file %(path)s is not an anchor.")
                % {"line": exc.line, "path": exc.path}
            ) from exc
        # Export to standard output: the file's lines and nothing else.
        say = self.stderr if export == "-" else self.stdout
        if anchor is not None:
            say.write(
                _("Anchored %(day)s: entry %(seq)d.")
                % {"day": anchor.day.isoformat(), "seq": anchor.seq}
            )
        else:
            say.write(_("Nothing to anchor: yesterday is anchored already, or has no entries."))
        if export is None:
            return
        content = path.read_text(encoding="ascii") if path.exists() else ""
        if export == "-":
            self.stdout.write(content, ending="")
            return
        Path(export).write_text(content, encoding="ascii")
        say.write(_("Copied %(count)d anchors to %(path)s.") % {"count": count, "path": export})
