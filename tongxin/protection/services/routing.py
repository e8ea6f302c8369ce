"""Writes of the routing table (分派表): which departments a new report goes to, by kind of harm."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from tongxin.accounts.models import Department, User
from tongxin.accounts.roles import Role
from tongxin.audit.services import audit_record
from tongxin.protection import policy, rules
from tongxin.protection.models import RoutingVersion


def may_change_routing(user: User) -> bool:
    return user.is_authenticated and user.role == Role.COUNTY_ADMIN and not user.is_read_only


def reads_routing(user: User) -> bool:
    return user.is_authenticated and user.role in (Role.COUNTY_ADMIN, Role.AUDITOR)


@transaction.atomic
def routing_version_add(
    *,
    actor: User,
    table: dict[str, list[str]],
    reason: str,
    request: HttpRequest | None = None,
) -> RoutingVersion:
    """A new routing table, in force from now for new reports (a report keeps whom it went to).
    Every row names a department; a suspected crime's row, and imminent danger's, the police."""
    if not may_change_routing(actor):
        raise PermissionDenied
    rows = {key: list(dict.fromkeys(table.get(key, ()))) for key in rules.ROUTE_KEYS}
    messages = {
        rules.RoutingProblem.MISSING: _("Choose at least one department."),
        rules.RoutingProblem.UNKNOWN: _("Choose the departments from the list."),
        rules.RoutingProblem.POLICE: _(
            "A suspected crime, or imminent danger, goes to the police at once: keep the police."
        ),
    }
    errors = {
        f"route_{key}": [messages[problem]]
        for key, problem in rules.routing_problems(rows, Department.values).items()
    }
    if not reason.strip():
        errors["reason"] = [_("Give the reason for the change.")]
    if errors:
        raise ValidationError(errors)
    before = policy.routing_table()
    version = RoutingVersion.objects.create(table=rows, reason=reason.strip(), created_by=actor)
    audit_record(
        actor=actor,
        action="report.routing_change",
        object_type="routingversion",
        object_code=str(version.pk),
        division_code=actor.division_id or "",
        request=request,
        detail={
            "changed": {
                key: {"from": list(before[key]), "to": rows[key]}
                for key in rules.ROUTE_KEYS
                if list(before[key]) != rows[key]
            }
        },
    )
    return version
