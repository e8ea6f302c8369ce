"""``manage.py audit_verify``: check the audit trail's hash chain and its anchors (decision 016).

Reads every entry from the first (or, with ``--from-last-anchor``, from the last anchor) in
chunks, checks the anchor file (or an exported copy, ``--anchors``), prints the first broken
link in the site's language and exits with status 1 when there is one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from tongxin.audit.anchors import AnchorFileError, anchor_path, read_anchors
from tongxin.audit.verify import verify_chain


class Command(BaseCommand):
    help = (
        "Check the audit trail's hash chain and the anchor file; print the first broken link "
        "and exit with status 1 when there is one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--anchors",
            type=Path,
            help="An anchor file to check against, e.g. an exported copy (default: the "
            "server's anchor file, TONGXIN_AUDIT_ANCHOR_FILE).",
        )
        parser.add_argument(
            "--from-last-anchor",
            action="store_true",
            help="Start at the entry the last anchor names instead of the first entry: "
            "quicker, and it trusts the anchor.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # A command runs without a request: it speaks the site's language.
        with translation.override(settings.LANGUAGE_CODE):
            self._verify(options["anchors"] or anchor_path(), options["from_last_anchor"])

    def _verify(self, path: Path, from_last: bool) -> None:
        try:
            anchors = read_anchors(path)
        except AnchorFileError as exc:
            raise CommandError(
                _("Line %(line)d of the anchor file %(path)s is not an anchor.")
                % {"line": exc.line, "path": exc.path}
            ) from exc
        if not anchors:
            self.stdout.write(
                self.style.WARNING(
                    _("No anchors in %(path)s: only the chain itself is checked.") % {"path": path}
                )
            )
        start = max(anchors, key=lambda a: a.seq) if from_last and anchors else None
        outcome = verify_chain(anchors=anchors, start=start)
        if outcome.broken is not None:
            raise CommandError(
                _("The audit trail is broken. %(problem)s") % {"problem": outcome.broken.message()}
            )
        self.stdout.write(
            _(
                "The audit trail is intact: %(count)d entries checked (%(first)d to %(last)d), "
                "%(anchors)d of %(total)d anchors match."
            )
            % {
                "count": outcome.checked,
                "first": outcome.first,
                "last": outcome.last,
                "anchors": outcome.anchors,
                "total": len(anchors),
            }
        )
