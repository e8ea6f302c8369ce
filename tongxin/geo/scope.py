"""The security spine: which rows a user may see, decided in one place.

A user's scope is their division. A row is inside it when the division code the row hangs on
starts with the scope's prefix: one indexed comparison (``LIKE '620724100%'``), never a walk
up or down the tree. Every scoped queryset's ``visible_to(user)`` builds on ``scope_q``, and
every single-object fetch on ``get_for_user_or_404`` so that "not yours" and "not there"
answer the same 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tongxin.accounts.models import User

NOTHING = Q(pk__in=[])


def scope_prefix(user: User | AnonymousUser) -> str | None:
    """The code prefix of everything ``user`` may see, or None for nothing at all."""
    if not user.is_authenticated or not user.is_active:
        return None
    return user.scope_prefix


def scope_q(user: User | AnonymousUser, field: str) -> Q:
    """A filter keeping rows whose division code (at ``field``) lies inside the user's scope."""
    prefix = scope_prefix(user)
    if prefix is None:
        return NOTHING
    return Q(**{f"{field}__startswith": prefix})


def in_scope(user: User | AnonymousUser, code: str) -> bool:
    """The same test as ``scope_q`` for one code already in memory."""
    prefix = scope_prefix(user)
    return prefix is not None and code.startswith(prefix)


def get_for_user_or_404[M: models.Model](queryset: models.QuerySet[M], **lookup: Any) -> M:
    """One row of an already scoped queryset: 404 alike for "not there" and "not yours"."""
    try:
        return queryset.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def check_writer(user: User, village_code: str) -> None:
    """Refuse (403) a change to a child's or household's file by a user who may not keep files,
    or whose area does not hold the village."""
    if user.is_read_only or not user.keeps_child_files or not in_scope(user, village_code):
        raise PermissionDenied
