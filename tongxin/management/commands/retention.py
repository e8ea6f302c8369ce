"""``manage.py retention [--dry-run]``: archive the children's files closed longer ago than
``TONGXIN_RETENTION_YEARS`` (decision 019, docs/privacy.md). ``--dry-run`` lists what it would
do: the counts per kind and the files' codes, never a name or a number. Without it, it does it,
with one audit entry for the run. On PostgreSQL run it as the tables' owner: it rewrites the
history rows of the archived files, which the runtime role cannot."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tongxin.audit.database import AppendOnlyError
from tongxin.registry.services.retention import retention_apply, retention_plan


class Command(BaseCommand):
    help = "Archive children's files closed longer than the retention period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only list what would be done.")

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(settings.LANGUAGE_CODE):
            self._run(dry_run=options["dry_run"])

    def _run(self, *, dry_run: bool) -> None:
        today = timezone.localdate()
        if dry_run:
            plan = retention_plan(today=today)
        else:
            try:
                plan = retention_apply(today=today)
            except AppendOnlyError as exc:
                raise CommandError(
                    _(
                        "Retention rewrites the history of archived files: on PostgreSQL run it "
                        "as the tables' owner, not as the application's role."
                    )
                ) from exc
        labels = {
            "children": _("children's files"),
            "households": _("households"),
            "parents": _("parents"),
            "migrations": _("spells of work away"),
            "agreements": _("care agreements"),
        }
        self.stdout.write(
            (
                _("Would archive, closed before %(day)s:")
                if dry_run
                else _("Archived, closed before %(day)s:")
            )
            % {"day": plan.closed_before.isoformat()}
        )
        for kind, count in plan.counts.items():
            self.stdout.write(f"  {labels[kind]}: {count}")
        for code in plan.children:
            self.stdout.write(f"  {code}")
