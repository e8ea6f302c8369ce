"""``manage.py report_clocks``: alert the handling department and the county of every
mandatory report whose clock ran out (acceptance 24 hours, result 15 days by default), once
per clock; and escalate every referral (转介) not accepted within its limit (3 working days by
default) to the county and its sender, once. Run it every hour (cron or a systemd timer)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tongxin.protection.referrals import referral_escalations
from tongxin.protection.services import report_clock_alerts


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
