"""What the audit app adds to the navigation: the audit log, for the roles that read it."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tongxin.core.panels import register_menu_entry

register_menu_entry(
    "audit_log",
    order=160,
    url=lambda: reverse("audit:event_list"),
    label=lambda u: _("Audit log"),
    shows=lambda user: bool(user.reads_audit),
)
