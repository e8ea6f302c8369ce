"""What the writes of reports, problems and referrals share: texts stored in the county's
language, whom a report's notices reach, the county's departments by key, and the audit entry
of a list opened."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest
from django.utils import translation

from tongxin.accounts.models import Organisation, OrganisationKind, User
from tongxin.accounts.roles import Role
from tongxin.audit.services import audit_record
from tongxin.protection import access


def in_chinese[T](fn: Callable[[], T]) -> T:
    """Stored texts (notifications, problems) are written in the county's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return fn()


def departments_of(county_code: str, keys: Iterable[str]) -> list[Organisation]:
    """The county's departments with these keys, in the keys' order (one query); a key the
    county has no department for is left out."""
    wanted = list(dict.fromkeys(keys))
    found: dict[str, Organisation] = {}
    for organisation in Organisation.objects.filter(
        kind=OrganisationKind.DEPARTMENT,
        department__in=wanted,
        division_id=f"{county_code}000000",
    ).order_by("pk"):
        found.setdefault(organisation.department, organisation)
    return [found[k] for k in wanted if k in found]


def recipients_of_notices(
    county_code: str, departments: Iterable[Organisation | None]
) -> list[User]:
    """The active officers of these departments, and the county's civil-affairs officers."""
    ids = [d.pk for d in departments if d is not None]
    return list(
        User.objects.filter(is_active=True)
        .filter(
            Q(organisation_id__in=ids, role__in=access.HANDLER_ROLES)
            | Q(role=Role.COUNTY_ADMIN, division_id=f"{county_code}000000")
        )
        .order_by("pk")
    )


def list_opened(
    *, actor: User, action: str, object_type: str, count: int, request: HttpRequest | None
) -> None:
    """A list the actor opened, of reports, problems or referrals: how many rows it showed,
    filed under the actor's own division (never which rows)."""
    audit_record(
        actor=actor,
        action=action,
        object_type=object_type,
        division_code=actor.division_id or "",
        request=request,
        detail={"count": count},
    )
