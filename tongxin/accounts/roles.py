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
    SECURITY_ADMIN = "security_admin", _("Security administrator")


# Separation of duties (decision 015). The system administrator manages accounts and settings
# and never reads a child's data; the security administrator unlocks accounts, resets second
# factors and revokes API tokens, and reads no child's data either; the auditor reads the audit
# trail and writes nothing. An account holds one role, so no one holds two of them.

# Roles whose sign-in needs a second factor (TOTP).
SECOND_FACTOR_ROLES = frozenset({Role.COUNTY_ADMIN, Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN})
# Roles whose work is with children's data, each in its own way and scope (a reporter sees only
# what it submitted). The two administrators of accounts are not among them, nor is an account
# whose role awaits approval (it has none in force yet).
CASEWORK_ROLES = frozenset(
    {
        Role.COUNTY_ADMIN,
        Role.TOWN_SUPERVISOR,
        Role.VILLAGE_DIRECTOR,
        Role.DEPARTMENT_OFFICER,
        Role.REPORTER,
        Role.AUDITOR,
    }
)
# Roles that may read children's files (inside their scope). A reporter sees only what it
# submitted; a department officer sees only what a referral shares with their department.
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
# Roles that manage user accounts inside their scope: create them, change their role (a request,
# where the role needs a second person), disable them, give them a new one-time password.
USER_ADMIN_ROLES = frozenset({Role.COUNTY_ADMIN, Role.SYSTEM_ADMIN})
# Roles that keep sign-in safe inside their scope: unlock an account, reset its second factor,
# revoke its API tokens. They create no account and change no role.
SECURITY_ADMIN_ROLES = frozenset({Role.SECURITY_ADMIN})
# Roles that see the accounts inside their scope.
ACCOUNT_READER_ROLES = USER_ADMIN_ROLES | SECURITY_ADMIN_ROLES
# Roles whose grant needs a second person (a request by one administrator, approved by another):
# those that read the whole county's files, and the security administrator, who approves such
# grants and resets second factors (one person creating a puppet of it could approve their own
# requests).
SECOND_PERSON_ROLES = frozenset({Role.COUNTY_ADMIN, Role.AUDITOR, Role.SECURITY_ADMIN})
# Roles that may approve such a grant (never their own request, never a grant to themselves).
GRANT_APPROVER_ROLES = frozenset({Role.COUNTY_ADMIN, Role.SECURITY_ADMIN})
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
    Role.SECURITY_ADMIN: frozenset({"county", "city", "province"}),
}
