"""Deciding a request for a role that needs a second person (``RoleGrant``, 角色授权申请):
another administrator of an allowed role approves or rejects it, or its requester withdraws it.
Requests are made by ``services.user_create`` and ``services.user_update``. Each step records
its audit entry in the same transaction (decision 015)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tongxin.accounts.credentials import (
    OneTimePassword,
    generate_password,
    make_one_time,
    tokens_end,
)
from tongxin.accounts.models import GrantState, RoleGrant, User
from tongxin.accounts.services import check_assignment, role_change_audit
from tongxin.audit.services import audit_object
from tongxin.geo.scope import in_scope

APPROVE, REJECT, WITHDRAW = "approve", "reject", "withdraw"


def _in_reach(actor: User, grant: RoleGrant) -> bool:
    """The grant's division and the account's own lie inside the actor's division."""
    return in_scope(actor, grant.division_id) and in_scope(actor, grant.user.division_id or "")


def decisions(actor: User, grant: RoleGrant) -> list[str]:
    """What ``actor`` may do with ``grant`` now: approve or reject it (a second person of an
    allowed role, never the requester nor the account itself), or withdraw it (its requester)."""
    if grant.state != GrantState.PENDING or not _in_reach(actor, grant):
        return []
    if actor.pk == grant.requested_by_id:
        return [WITHDRAW]
    if actor.approves_grants and actor.pk != grant.user_id:
        return [APPROVE, REJECT]
    return []


def _locked(grant: RoleGrant) -> RoleGrant:
    """The grant read again under a row lock: two people deciding at once decide one after the
    other, and the second finds it decided."""
    return (
        RoleGrant.objects.select_for_update(of=("self",))
        .select_related("user", "division", "organisation", "requested_by")
        .get(pk=grant.pk)
    )


def _decide(actor: User, grant: RoleGrant, decision: str) -> RoleGrant:
    grant = _locked(grant)
    if not _in_reach(actor, grant):
        raise PermissionDenied
    if grant.state != GrantState.PENDING:
        raise ValidationError(_("This request has been decided already."))
    if decision not in decisions(actor, grant):
        if decision == APPROVE and actor.pk == grant.requested_by_id:
            raise ValidationError(_("A second person approves this request: you made it."))
        if decision == APPROVE and actor.pk == grant.user_id:
            raise ValidationError(_("No one approves a role for themselves."))
        raise PermissionDenied
    return grant


@transaction.atomic
def grant_approve(
    *, actor: User, grant: RoleGrant, request: HttpRequest | None = None
) -> OneTimePassword:
    """Put the requested role (with its division and organisation) in force, with a new
    one-time password that the approver hands over to the person: whoever asked for the role
    (or knew the account's password before) holds no way into it. Its sessions and API tokens
    end (they were opened for its old role); at the first sign-in the person sets their own
    password, then enrols their authenticator where the role needs one."""
    grant = _decide(actor, grant, APPROVE)
    user = grant.user
    check_assignment(
        actor=None, role=grant.role, division=grant.division, organisation=grant.organisation
    )
    old_role, old_division = user.role, user.division_id or ""
    user.role, user.division, user.organisation = grant.role, grant.division, grant.organisation
    password = generate_password()
    user.set_password(password)
    expires = make_one_time(user)
    user.save(
        update_fields=[
            "role",
            "division",
            "organisation",
            "password",
            "must_change_password",
            "one_time_password_expires_at",
        ]
    )
    user.__dict__.pop("scope_prefix", None)
    grant.state, grant.decided_by, grant.decided_at = GrantState.APPROVED, actor, timezone.now()
    grant.save(update_fields=["state", "decided_by", "decided_at"])
    ended = tokens_end(user)
    audit_object(
        actor,
        "role_grant.approve",
        user,
        request=request,
        division_code=grant.division_id,
        detail={
            "grant": str(grant.public_id),
            "role": grant.role,
            "requested_by": str(grant.requested_by.public_id),
            "tokens": ended,
        },
    )
    role_change_audit(actor, user, old_role, old_division, request)
    return OneTimePassword(user=user, password=password, expires_at=expires)


@transaction.atomic
def grant_reject(
    *, actor: User, grant: RoleGrant, decision: str = REJECT, request: HttpRequest | None = None
) -> RoleGrant:
    """Turn the request down (an approver) or withdraw it (its requester): the account keeps
    the role it has (a new account, none)."""
    if decision not in (REJECT, WITHDRAW):
        raise ValueError(decision)
    grant = _decide(actor, grant, decision)
    grant.state = GrantState.REJECTED if decision == REJECT else GrantState.WITHDRAWN
    grant.decided_by, grant.decided_at = actor, timezone.now()
    grant.save(update_fields=["state", "decided_by", "decided_at"])
    audit_object(
        actor,
        "role_grant.reject" if decision == REJECT else "role_grant.withdraw",
        grant.user,
        request=request,
        division_code=grant.division_id,
        detail={"grant": str(grant.public_id), "role": grant.role},
    )
    return grant
