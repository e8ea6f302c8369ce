"""``manage.py report_clocks``: alert the handling department and the county of every
mandatory report whose clock ran out (acceptance 24 hours, result 15 days by default), once
per clock; and escalate every referral (转介) not accepted within its limit (3 working days by
default) to the county and its sender, once. Run it every hour (cron or a systemd timer).

When a running clock's deadline counts days of a year whose holidays are not in the working-day
calendar, it says so: those deadlines are estimates until the year is entered."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from tongxin.protection.referrals import referral_escalations
from tongxin.protection.selectors import guessed_deadlines
from tongxin.protection.services import report_clock_alerts
from tongxin.workdays.services import work_calendar


class Command(BaseCommand):
    help = (
        "Alert the handlers and the county of mandatory reports past a time limit, and "
        "escalate referrals not accepted in time."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        written = report_clock_alerts()
        self.stdout.write(f"Report clocks: {written} alerts written.")
        # Said only when there are some: the report clocks' line stays the run's summary.
        if escalated := referral_escalations():
            self.stdout.write(f"Referrals: {escalated} escalations written.")
        guessed = guessed_deadlines(work_calendar())
        for year, count in guessed.years.items():
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Warning: %(count)d running deadlines count days of %(year)d, whose "
                        "holidays are not in the working-day calendar: they are estimates. Enter "
                        "the year on /settings/workdays/ or run load_workdays."
                    )
                    % {"count": count, "year": year}
                )
            )
