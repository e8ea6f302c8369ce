"""Roles (角色) and what each may do. Plain data: the one table every check reads."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COUNTY_ADMIN = "county_admin", _("County civil-affairs officer")
    TOWN_SUPERVISOR = "town_supervisor", _("Town child supervisor")
    VILLAGE_DIRECTOR = "village_director", _("Village child director")
    DEPARTMENT_OFFICER = "department_officer", _("Department officer")
    REPORTER = "reporter", _("Mandatory reporter")
    AUDITOR = "auditor", _("Auditor")
    SYSTEM_ADMIN = "system_admin", _("System administrator")


# Roles whose sign-in needs a second factor (TOTP).
SECOND_FACTOR_ROLES = frozenset({Role.COUNTY_ADMIN, Role.SYSTEM_ADMIN})
# Roles that may read children's files (inside their scope). The system administrator manages
# accounts and may not (separation of duties); a reporter sees only what it submitted; a
# department officer sees only what a referral shares with their department.
CHILD_FILE_ROLES = frozenset(
    {Role.COUNTY_ADMIN, Role.TOWN_SUPERVISOR, Role.VILLAGE_DIRECTOR, Role.AUDITOR}
)
# Roles that keep children's files: register, edit, transfer.
CHILD_FILE_WRITER_ROLES = frozenset(
    {Role.COUNTY_ADMIN, Role.TOWN_SUPERVISOR, Role.VILLAGE_DIRECTOR}
)
# Roles that may reveal a full ID number (one at a time, audited).
ID_REVEAL_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWN_SUPERVISOR, Role.VILLAGE_DIRECTOR})
# Roles that see a file's access log.
ACCESS_LOG_ROLES = frozenset({Role.COUNTY_ADMIN, Role.AUDITOR})
# Roles that read but never write (a write answers 403).
READ_ONLY_ROLES = frozenset({Role.AUDITOR})
# Roles that manage user accounts inside their scope.
USER_ADMIN_ROLES = frozenset({Role.COUNTY_ADMIN, Role.SYSTEM_ADMIN})
# Roles that may read the audit trail inside their scope.
AUDIT_READER_ROLES = frozenset({Role.COUNTY_ADMIN, Role.AUDITOR})
# The division level each role's account is attached to.
ROLE_LEVELS: dict[str, frozenset[str]] = {
    Role.COUNTY_ADMIN: frozenset({"county", "city", "province"}),
    Role.TOWN_SUPERVISOR: frozenset({"town"}),
    Role.VILLAGE_DIRECTOR: frozenset({"village", "community"}),
    Role.DEPARTMENT_OFFICER: frozenset({"county", "city", "province"}),
    Role.REPORTER: frozenset({"county", "town", "village", "community"}),
    Role.AUDITOR: frozenset({"county", "city", "province"}),
    Role.SYSTEM_ADMIN: frozenset({"county", "city", "province"}),
}
