"""What the payment rolls add to the navigation: the children to register (paid, no file), for
the town and village. The county's officers and auditors reach the rolls and that list from the
benefits entry (its page links them: the menu is one line on a wide screen)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tongxin.accounts.models import User
from tongxin.benefits.roll_models import UNMATCHED_READER_ROLES
from tongxin.benefits.rolls import may_read_rolls
from tongxin.core.panels import register_menu_entry


def _reads_only_unmatched(user: User) -> bool:
    return user.role in UNMATCHED_READER_ROLES and not may_read_rolls(user)


register_menu_entry(
    "payment_roll_unmatched",
    order=136,
    url=lambda: reverse("rolls:unmatched"),
    label=lambda u: _("Children to register"),
    shows=_reads_only_unmatched,
)
