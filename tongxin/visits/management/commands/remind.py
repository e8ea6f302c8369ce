"""The daily reminders (run it by cron after ``reclassify`` and ``refresh_risk``): each worker's
digest of contacts due soon and overdue, escalations to the town supervisor and the county, and
their e-mails. Running it twice on a day sends nothing new.

    python manage.py remind [--as-of 2024-07-01]
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tongxin.core.commands import iso_date
from tongxin.visits.reminders import remind


class Command(BaseCommand):
    help = "Write today's reminders and escalations and e-mail them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", type=iso_date, default=None, help="YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = options["as_of"] or timezone.localdate()
        # Notifications are stored text: write them in the installation's language.
        with translation.override(settings.LANGUAGE_CODE):
            summary = remind(as_of=as_of)
        self.stdout.write(
            _(
                "Reminders as of %(date)s: %(workers)d workers checked, %(digests)d digests, "
                "%(escalations)d escalations to town supervisors, %(villages)d villages without "
                "a director (%(alerts)d county alerts), %(sent)d e-mails sent, %(failed)d failed."
            )
            % {
                "date": as_of.isoformat(),
                "workers": summary.workers,
                "digests": summary.digests,
                "escalations": summary.escalations,
                "villages": summary.villages_without_director,
                "alerts": summary.county_alerts,
                "sent": summary.emails_sent,
                "failed": summary.emails_failed,
            }
        )
