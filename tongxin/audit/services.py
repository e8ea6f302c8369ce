"""Writing the audit trail. Services call ``audit_record`` inside their own transaction, so the
change and its audit entry are committed together or not at all."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

from tongxin.audit.models import AuditEvent, Result

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tongxin.accounts.models import User


def client_ip(request: HttpRequest | None) -> str | None:
    """The peer address. Behind a reverse proxy, set it to pass REMOTE_ADDR through."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    actor: User | AnonymousUser | None,
    action: str,
    object_type: str = "",
    object_code: str = "",
    division_code: str = "",
    request: HttpRequest | None = None,
    result: str = Result.OK,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """``ip``: the request's address, for work a background task does for that request."""
    user = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.create(
        actor=user,
        actor_username=user.username if user else "",
        actor_role=user.role if user else "",
        action=action,
        object_type=object_type,
        object_code=str(object_code),
        division_code=division_code,
        ip=client_ip(request) if request is not None else ip,
        result=result,
        detail=detail or {},
    )


def audit_denied(
    *,
    actor: User,
    action: str,
    object_type: str,
    code: str,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """A record asked for and not shown (not there, or outside the user's reach): the attempt is
    kept, with the code as typed (cut to 64 characters) and the user's own division."""
    return audit_record(
        actor=actor,
        action=action,
        object_type=object_type,
        object_code=code[:64],
        division_code=actor.division_id or "",
        request=request,
        result=Result.DENIED,
    )
