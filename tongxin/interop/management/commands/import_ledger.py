"""``manage.py import_ledger PATH --user USERNAME [--apply]``: check a ledger (台账) and, with
``--apply``, import it — the same checks, audit and all-or-nothing write as the ledger page,
for files too big to upload comfortably. Prints the progress and the rows with problems."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongxin.accounts.models import User
from tongxin.interop import services
from tongxin.interop.models import BatchStatus
from tongxin.interop.xlsx import BadFile
from tongxin.registry.ledger import Outcome


class Command(BaseCommand):
    help = "Check a ledger (.xlsx) and, with --apply, import it into the registry."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--user", required=True, help="the importing user (their scope)")
        parser.add_argument("--apply", action="store_true", help="import when no row has errors")
        parser.add_argument("--show", type=int, default=20, help="rows with problems to print")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        try:
            actor = User.objects.get(username=options["user"], is_active=True)
        except User.DoesNotExist as exc:
            raise CommandError(f"no active user {options['user']!r}") from exc
        if actor.is_read_only or not services.may_import(actor):
            raise CommandError(f"{actor.username} ({actor.role}) may not import children's files")
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        started = time.monotonic()
        try:
            with path.open("rb") as f:
                batch = services.batch_upload(
                    actor=actor,
                    name=path.name,
                    size=path.stat().st_size,
                    chunks=services.file_chunks(f),
                    size_limit=sys.maxsize,  # the upload limit is for the web page
                )
        except BadFile as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(f"checking {path.name} ({batch.rows_total or '?'} rows)…")
        batch = services.batch_preview(batch, on_progress=self._progress(batch.rows_total))
        if batch.status == BatchStatus.REFUSED:
            raise CommandError(batch.message)
        self._report(batch.counts, time.monotonic() - started)
        shown = 0
        for row in batch.results:
            if row["outcome"] in (Outcome.ERROR, Outcome.REVIEW) and shown < options["show"]:
                shown += 1
                self.stdout.write(
                    f"  row {row['line']} [{row['outcome']}]: " + "；".join(row["messages"])
                )
        if not options["apply"]:
            self.stdout.write(f"checked only (batch {batch.public_id}); use --apply to import")
            return
        try:
            services.apply_check(actor=actor, batch=batch)
        except services.ApplyRefused as exc:
            raise CommandError(str(exc)) from exc
        started = time.monotonic()
        self.stderr.write("importing…")
        batch = services.batch_apply(
            actor=actor, batch=batch, on_progress=self._progress(batch.counts.get("total"))
        )
        if batch.status != BatchStatus.APPLIED:
            raise CommandError(batch.message)
        self._report(batch.applied_counts, time.monotonic() - started)
        self.stdout.write(self.style.SUCCESS(f"imported (batch {batch.public_id})"))

    def _report(self, counts: dict[str, int], seconds: float) -> None:
        parts = ", ".join(f"{o} {counts.get(o, 0)}" for o in Outcome)
        rate = counts.get("total", 0) / seconds if seconds else 0
        self.stdout.write(
            f"{counts.get('total', 0)} rows: {parts} ({seconds:.1f} s, {rate:.0f} rows/s)"
        )

    def _progress(self, total: int | None) -> Any:
        def show(done: int) -> None:
            if sys.stderr.isatty():
                self.stderr.write(f"\r  {done}/{total or '?'} rows", ending="")
            self.stderr.flush()

        return show
