"""``manage.py purge_ledgers``: delete the files of checked ledgers nobody imported within
``TONGXIN_LEDGER_KEEP_DAYS`` days (run daily; uploads and the ledger pages do it too)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from tongxin.interop import services


class Command(BaseCommand):
    help = "Delete uploaded ledgers that waited too long for their import."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = services.expired_purge()
        self.stdout.write(
            _("Ledger files deleted: %(count)d (kept %(days)d days).")
            % {"count": deleted, "days": services.keep_days()}
        )
