"""Writing the audit trail. Services call ``audit_record`` inside their own transaction, so the
change and its audit entry are committed together or not at all."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest

from tongxin.audit.models import AuditEvent, Result

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tongxin.accounts.models import User


def client_ip(request: HttpRequest | None) -> str | None:
    """The peer address. Behind nginx (settings BEHIND_PROXY=1), the address nginx saw, which
    it sends as X-Real-IP in place of anything the client sent (deploy/nginx.conf)."""
    if request is None:
        return None
    if settings.TONGXIN_BEHIND_PROXY:
        try:
            return str(ipaddress.ip_address(request.META.get("HTTP_X_REAL_IP", "")))
        except ValueError:
            pass
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


def audit_object(
    actor: User | AnonymousUser | None,
    action: str,
    obj: Any,
    *,
    object_type: str | None = None,
    division_code: str | None = None,
    request: HttpRequest | None = None,
    ip: str | None = None,
    result: str = Result.OK,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """An audit entry about one record, named by its public code. Its type is the model's name
    (``child``, ``concern``) and its division the village or division the record hangs on (for a
    record about a child with neither, the child's village), unless given."""
    if object_type is None:
        object_type = obj._meta.model_name or ""
    if division_code is None:
        division_code = _division_of(obj)
    return audit_record(
        actor=actor,
        action=action,
        object_type=object_type,
        object_code=str(obj.public_id),
        division_code=division_code,
        request=request,
        ip=ip,
        result=result,
        detail=detail,
    )


def _division_of(obj: Any) -> str:
    """The division code a record hangs on: its village, else its division, else its child's
    village; "" for a record with none (an account without a division)."""
    for field in ("village_id", "division_id"):
        if hasattr(obj, field):
            return getattr(obj, field) or ""
    child = getattr(obj, "child", None)
    return child.village_id if child is not None else ""


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
