"""``manage.py restore ARCHIVE``: restore a backup into an empty database and put its files
back, then check every table against the archive's manifest, the append-only triggers, and the
audit trail's chain (decision 019, docs/privacy.md).

On PostgreSQL run it as the tables' owner (``tongxin_owner``), never as the runtime role: the
owner owns what is restored, and the runtime role named by ``TONGXIN_DB_RUNTIME_ROLE`` is
granted its privileges again. Stop the application and its worker first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import translation
from django.utils.translation import gettext as _

from tongxin.audit.anchors import anchor_path, read_anchors
from tongxin.audit.verify import verify_chain
from tongxin.lib.sealed import SealError, WrongKeyError
from tongxin.management.backup import BackupError, restore_read
from tongxin.management.commands.backup import key_or_refuse


def _refusal(exc: BackupError) -> str:
    names = ", ".join(exc.names[:10])
    messages = {
        "not_empty": _(
            "The database is not empty: %(names)s hold rows. Restore only into a newly "
            "created, empty database."
        ),
        "file_exists": _(
            "Files the archive would put back exist here with other content: %(names)s. "
            "Move them away first."
        ),
        "engine": _("The archive is of another database engine (%(names)s)."),
        "file_hash": _("Files in the archive do not match its manifest: %(names)s."),
        "table_hash": _(
            "After restoring, these tables do not match the archive's manifest: %(names)s."
        ),
        "triggers": _(
            "After restoring, these tables lack their append-only triggers: %(names)s. "
            "Run python manage.py migrate."
        ),
    }
    message = messages.get(exc.code, _("The restore failed (%(step)s): %(names)s."))
    return message % {"names": names, "step": exc.code}


class Command(BaseCommand):
    help = "Restore an encrypted backup archive into an empty database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="An archive written by manage.py backup.")

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(settings.LANGUAGE_CODE):
            self._restore(Path(options["archive"]))

    def _restore(self, archive: Path) -> None:
        if not archive.is_file():
            raise CommandError(_("No archive at %(path)s.") % {"path": archive})
        key = key_or_refuse()
        try:
            done = restore_read(
                connection=connection,
                archive=archive,
                key=key,
                runtime_role=settings.TONGXIN_DB_RUNTIME_ROLE,
            )
        except WrongKeyError as exc:
            raise CommandError(
                _("The archive was sealed with another backup key. Nothing was restored.")
            ) from exc
        except SealError as exc:
            raise CommandError(
                _("The archive is damaged or was altered. Nothing was restored.")
            ) from exc
        except BackupError as exc:
            raise CommandError(_refusal(exc)) from exc
        self.stdout.write(
            _(
                "Restored the backup of %(when)s: %(tables)d tables and %(rows)d rows match "
                "the manifest; %(files)d files put back."
            )
            % {
                "when": done.created_at,
                "tables": done.tables,
                "rows": done.rows,
                "files": done.files,
            }
        )
        outcome = verify_chain(anchors=read_anchors(anchor_path()))
        if outcome.broken is not None:
            raise CommandError(
                _("The audit trail does not verify after the restore: run manage.py audit_verify.")
            )
        self.stdout.write(_("The audit trail verifies: %(n)d entries.") % {"n": outcome.checked})
