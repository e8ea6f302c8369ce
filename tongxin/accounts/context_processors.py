"""The navigation a role sees: one list, built from the role table."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from tongxin.accounts.roles import Role


class _NotificationsLabel:
    """The notifications link's label with the unread count, read once, when first rendered."""

    def __init__(self, user: Any) -> None:
        self.user = user

    @cached_property
    def text(self) -> str:
        from tongxin.visits.notifications import unread_count

        count = unread_count(self.user)
        if not count:
            return str(_("Notifications"))
        return str(_("Notifications (%(count)d)") % {"count": count})

    def __str__(self) -> str:
        return self.text


def _may_import(user: Any) -> bool:
    """The ledger import's own rule (台账导入: the roles that keep files, with a division)."""
    from tongxin.interop.services import may_import

    return bool(may_import(user))


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    nav: list[tuple[str, Any]] = [(reverse("home"), _("My work"))]
    if user.role in (Role.VILLAGE_DIRECTOR, Role.TOWN_SUPERVISOR):
        nav.append((reverse("visits:worklist"), _("Worklist")))
        nav.append((reverse("visits:worklog"), _("Work log")))
    if user.role == Role.REPORTER:
        nav.append((reverse("reports:report_create"), _("File a report")))
    if user.role != Role.SYSTEM_ADMIN:
        nav.append((reverse("reports:report_list"), _("Mandatory reports")))
    if user.role in (Role.COUNTY_ADMIN, Role.DEPARTMENT_OFFICER):
        nav.append((reverse("reports:referral_list"), _("Referrals")))
    if user.role == Role.DEPARTMENT_OFFICER:
        nav.append((reverse("reports:problem_mine"), _("My problems")))
    if user.reads_child_files:
        nav.append((reverse("registry:child_list"), _("Children")))
    if user.role in (Role.COUNTY_ADMIN, Role.TOWN_SUPERVISOR, Role.AUDITOR):
        nav.append((reverse("registry:duplicate_list"), _("Duplicates")))
    if user.role in (Role.COUNTY_ADMIN, Role.TOWN_SUPERVISOR, Role.AUDITOR):
        nav.append((reverse("visits:compliance"), _("Compliance")))
    if user.role in (Role.COUNTY_ADMIN, Role.AUDITOR):
        nav.append((reverse("reports:report_stats"), _("Report statistics")))
    if user.keeps_child_files:
        nav.append((reverse("registry:transfer_request_list"), _("Transfers")))
    if _may_import(user):
        nav.append((reverse("ledger:index"), _("Ledger import")))
    if user.reads_child_files or user.manages_users or user.role == Role.DEPARTMENT_OFFICER:
        nav.append((reverse("geo:division_list"), _("Divisions")))
    if user.manages_users:
        nav.append((reverse("accounts:user_list"), _("Users")))
    if user.reads_audit:
        nav.append((reverse("audit:event_list"), _("Audit log")))
    if user.role == Role.COUNTY_ADMIN:
        nav.append((reverse("visits:policy"), _("Cadence policy")))
    # The unread count is read only when the label is rendered: one COUNT per page.
    nav.append((reverse("visits:notification_list"), _NotificationsLabel(user)))
    return {"nav": [{"url": url, "label": label} for url, label in nav]}
