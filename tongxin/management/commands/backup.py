"""``manage.py backup DIRECTORY [--keep N]``: write one sealed archive of the database, the
uploaded files and the audit trail's anchors into DIRECTORY (decision 019, docs/privacy.md).

``--keep N`` then deletes all but the newest N archives there. ``--new-key`` prints a new
backup key and does nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import translation
from django.utils.translation import gettext as _

from tongxin.lib.crypto import BackupKeyError, backup_key, new_key_text
from tongxin.management.backup import BackupError, backup_write


def key_or_refuse() -> bytes:
    """The backup key, or a refusal that says how to make one."""
    try:
        return backup_key()
    except BackupKeyError as exc:
        if exc.reason == "data_key":
            problem = _("The backup key is the data key. It must be a key of its own.")
        elif exc.reason == "unreadable":
            problem = _("The backup key is not 32 bytes of base64url text, or cannot be read.")
        else:
            problem = _("No backup key: set TONGXIN_BACKUP_KEY or TONGXIN_BACKUP_KEY_FILE.")
        raise CommandError(
            problem
            + " "
            + _(
                "Make one with: python manage.py backup --new-key > /etc/tongxin/backup_key "
                "(chmod 600), set TONGXIN_BACKUP_KEY_FILE to that file, and keep a copy away "
                "from the server."
            )
        ) from exc


class Command(BaseCommand):
    help = "Write one encrypted archive of the database, uploaded files and audit anchors."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", nargs="?", help="Where the archive is written.")
        parser.add_argument(
            "--keep",
            type=int,
            metavar="N",
            help="Afterwards delete all but the newest N archives in the directory.",
        )
        parser.add_argument(
            "--new-key", action="store_true", help="Print a new backup key and stop."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["new_key"]:
            self.stdout.write(new_key_text())
            return
        with translation.override(settings.LANGUAGE_CODE):
            self._backup(options["directory"], options["keep"])

    def _backup(self, directory: str | None, keep: int | None) -> None:
        if not directory:
            raise CommandError(_("Name the directory the archive is written to."))
        if keep is not None and keep < 1:
            raise CommandError(_("--keep must be 1 or more."))
        key = key_or_refuse()
        try:
            done = backup_write(
                connection=connection, directory=Path(directory), key=key, keep=keep
            )
        except BackupError as exc:
            raise CommandError(
                _("The backup failed (%(step)s): %(detail)s")
                % {"step": exc.code, "detail": "; ".join(exc.names)}
            ) from exc
        self.stdout.write(
            _("Wrote %(path)s: %(tables)d tables, %(rows)d rows, %(files)d files.")
            % {"path": done.path, "tables": done.tables, "rows": done.rows, "files": done.files}
        )
        for old in done.removed:
            self.stdout.write(_("Deleted the older archive %(path)s.") % {"path": old})
