"""Transfer requests (转移申请).

A user who registers a child already on a file outside their area learns only that the child is
registered elsewhere (``id_number_locate``), and may ask for the family to be transferred to their
village; a county officer whose area covers both villages approves (the household moves) or
refuses. Who decides, and the reason a decision needs, are the duplicate queue's (``duplicates``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.audit.models import AuditEvent, Result
from tongxin.audit.services import audit_record
from tongxin.geo.models import Division, Level
from tongxin.geo.scope import get_for_user_or_404, in_scope, scope_q
from tongxin.lib.idcard import mask
from tongxin.registry import services
from tongxin.registry.duplicates import COUNTY_PREFIX, decides, need_reason
from tongxin.registry.models import Child, TransferRequest, TransferStatus

# The window the look-up limit counts over.
LOOKUP_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Lookup:
    """Where an ID number's file is, as far as the asking user may know."""

    outcome: str  # "none", "mine" (inside the user's area) or "elsewhere"
    lookup: str = ""  # the keyed hash, to file a request without the number again
    masked: str = ""
    child: Child | None = field(default=None, compare=False)


LOCATE = "child.locate"


class LookupLimitReached(Exception):
    """The user has looked up as many ID numbers as they may in an hour."""

    def __init__(self, *, limit: int, retry_at: datetime) -> None:
        super().__init__(
            _(
                "You have looked up %(limit)d ID numbers in the past hour, as many as you may. "
                "Try again after %(time)s."
            )
            % {"limit": limit, "time": f"{timezone.localtime(retry_at):%H:%M}"}
        )
        self.retry_at = retry_at


def _check_lookup_limit(actor: User) -> None:
    """Refuse a look-up past ``TONGXIN_TRANSFER_LOOKUPS_PER_HOUR`` in the last hour, counted
    from the audit trail (it holds across gunicorn workers)."""
    limit = int(settings.TONGXIN_TRANSFER_LOOKUPS_PER_HOUR)
    since = timezone.now() - LOOKUP_WINDOW
    done = list(
        AuditEvent.objects.filter(actor=actor, action=LOCATE, result=Result.OK, at__gte=since)
        .order_by("at")
        .values_list("at", flat=True)[: max(limit, 1)]
    )
    if len(done) >= limit:
        retry_at = (done[0] if done else timezone.now()) + LOOKUP_WINDOW
        raise LookupLimitReached(limit=limit, retry_at=retry_at)


def id_number_locate(*, actor: User, id_number: str, request: HttpRequest | None = None) -> Lookup:
    """Whether a file carries this ID number, and whether it is inside the actor's area: the
    only thing a user learns about a file elsewhere. Audited with the masked number and the
    outcome (a look-up by number is a read), and limited to so many an hour a user
    (``LookupLimitReached``, audited as denied)."""
    prepared = services.id_number_prepare(id_number)
    try:
        return _locate(actor, prepared, request)
    except LookupLimitReached:
        audit_record(
            actor=actor,
            action=LOCATE,
            object_type="child",
            division_code=actor.division_id or "",
            request=request,
            result=Result.DENIED,
            detail={"id_number": mask(prepared.normalised), "why": "limit"},
        )
        raise


@transaction.atomic
def _locate(actor: User, prepared: services.IdNumber, request: HttpRequest | None) -> Lookup:
    # One look-up at a time per user, so that parallel requests cannot pass the limit together.
    User.objects.select_for_update().filter(pk=actor.pk).first()
    _check_lookup_limit(actor)
    child = Child.objects.filter(id_number_hash=prepared.lookup).first()
    if child is None:
        found = Lookup("none")
    elif Child.objects.visible_to(actor).filter(pk=child.pk).exists():
        found = Lookup("mine", prepared.lookup, mask(prepared.normalised), child)
    else:
        found = Lookup("elsewhere", prepared.lookup, mask(prepared.normalised))
    audit_record(
        actor=actor,
        action=LOCATE,
        object_type="child",
        object_code=str(found.child.public_id) if found.child else "",
        division_code=actor.division_id or "",
        request=request,
        detail={"outcome": found.outcome, "id_number": mask(prepared.normalised)},
    )
    return found


def _check_village(actor: User, village: Division) -> None:
    if village.level not in (Level.VILLAGE, Level.COMMUNITY) or not in_scope(actor, village.code):
        raise ValidationError({"to_village": [_("Choose a village or community in your area.")]})


@transaction.atomic
def transfer_request_create(
    *,
    actor: User,
    lookup: str,
    to_village: Division,
    reason: str,
    request: HttpRequest | None = None,
) -> TransferRequest:
    """Ask for the file with this ID number (by its keyed hash, from ``id_number_locate``) to
    be transferred to ``to_village``. The same pending request is not filed twice."""
    if actor.is_read_only or not actor.keeps_child_files:
        raise PermissionDenied
    _check_village(actor, to_village)
    reason = need_reason(reason)
    child = Child.objects.filter(id_number_hash=lookup).first() if lookup else None
    if child is None:
        raise ValidationError({"id_number": [_("No file carries this ID number.")]})
    if Child.objects.visible_to(actor).filter(pk=child.pk).exists():
        raise ValidationError({"id_number": [_("This child's file is already in your area.")]})
    pending = TransferRequest.objects.filter(
        child=child, to_village=to_village, status=TransferStatus.PENDING
    ).first()
    if pending is not None:
        return pending
    transfer = TransferRequest.objects.create(
        child=child,
        county_code=child.village_id[:COUNTY_PREFIX],
        requested_by=actor,
        from_village_id=child.village_id,
        to_village=to_village,
        reason=reason,
    )
    for division in (child.village_id, to_village.code):
        audit_record(
            actor=actor,
            action="child.transfer_request",
            object_type="transfer_request",
            object_code=str(transfer.public_id),
            division_code=division,
            request=request,
            detail={"to": to_village.code},
        )
    return transfer


def decides_transfer(user: User, transfer: TransferRequest) -> bool:
    """A county officer whose area covers the file and the village asked for."""
    return (
        decides(user)
        and in_scope(user, transfer.child.village_id)
        and in_scope(user, transfer.to_village_id)
    )


@transaction.atomic
def transfer_request_decide(
    *,
    actor: User,
    transfer: TransferRequest,
    approve: bool,
    reason: str = "",
    request: HttpRequest | None = None,
) -> TransferRequest:
    """Approve (the household moves, siblings with it) or refuse with a reason."""
    if not decides_transfer(actor, transfer):
        raise PermissionDenied
    locked = TransferRequest.objects.select_for_update().get(pk=transfer.pk)
    if locked.status != TransferStatus.PENDING:
        raise ValidationError(_("This request has already been decided."))
    if not approve:
        reason = need_reason(reason)
    child = Child.objects.select_related("household").get(pk=locked.child_id)
    if approve:
        services.household_transfer(
            actor=actor,
            household=child.household,
            village=Division.objects.get(code=locked.to_village_id),
            reason=reason.strip() or locked.reason,
            request=request,
        )
    locked.status = TransferStatus.APPROVED if approve else TransferStatus.REFUSED
    locked.decided_by, locked.decided_at = actor, timezone.now()
    locked.decision_reason = reason.strip()[:500]
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    for division in {locked.from_village_id, locked.to_village_id}:
        audit_record(
            actor=actor,
            action="child.transfer_request_decide",
            object_type="transfer_request",
            object_code=str(locked.public_id),
            division_code=division,
            request=request,
            detail={"outcome": locked.status, "child": str(child.public_id)},
        )
    return locked


def transfer_requests_visible_to(user: User) -> QuerySet[TransferRequest]:
    """Requests for a village in the user's area (the asking side), and for a county officer or
    auditor also those about a file in their area (the deciding side)."""
    if not user.is_authenticated or not user.reads_child_files:
        return TransferRequest.objects.none()
    visible = scope_q(user, "to_village__code")
    if user.role in (Role.COUNTY_ADMIN, Role.AUDITOR):
        visible |= scope_q(user, "child__village__code")
    return TransferRequest.objects.filter(visible)


def sees_transfer_details(user: User, transfer: TransferRequest) -> bool:
    """Only the deciding side sees which child a request is about and where the file is."""
    return user.role in (Role.COUNTY_ADMIN, Role.AUDITOR) and in_scope(
        user, transfer.child.village_id
    )


def transfer_request_list(user: User, status: str = "") -> QuerySet[TransferRequest]:
    queryset = transfer_requests_visible_to(user).select_related(
        "child__village", "from_village", "to_village", "requested_by"
    )
    if status in TransferStatus.values:
        queryset = queryset.filter(status=status)
    return queryset


def get_transfer_request_for_user(user: User, public_id: Any) -> TransferRequest:
    return get_for_user_or_404(
        transfer_request_list(user).select_related("decided_by"), public_id=public_id
    )
