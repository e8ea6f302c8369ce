"""What protection does when the foundation's data it counts on changes."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from tongxin.workdays.signals import workdays_changed


@receiver(workdays_changed, dispatch_uid="protection.deadlines_refresh")
def _deadlines_refresh(sender: Any, years: tuple[int, ...], **kwargs: Any) -> None:
    """Deadlines stored when a clock started count the calendar of their time: count them
    again on the calendar as it is now."""
    from tongxin.protection.referrals import referral_deadlines_refresh
    from tongxin.protection.services import deadlines_refresh

    deadlines_refresh(years=years)
    referral_deadlines_refresh(years=years)
