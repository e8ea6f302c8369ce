"""What the data exchange adds to the navigation: the ledger import (台账导入), for whom its
own rule lets import."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tongxin.accounts.models import User
from tongxin.core.panels import register_menu_entry
from tongxin.interop.services import may_import


def _may_import(user: User) -> bool:
    return bool(may_import(user))


register_menu_entry(
    "ledger_import",
    order=130,
    url=lambda: reverse("ledger:index"),
    label=lambda u: _("Ledger import"),
    shows=_may_import,
)
