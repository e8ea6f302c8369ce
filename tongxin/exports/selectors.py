"""Reading exports: a user sees their own, nobody else's."""

from __future__ import annotations

from uuid import UUID

from django.http import Http404

from tongxin.accounts.models import User
from tongxin.exports.models import ExportRun


def run_for(user: User, public_id: UUID) -> ExportRun:
    """The export ``public_id`` if ``user`` asked for it; 404 otherwise, as for one that does
    not exist."""
    run = ExportRun.objects.filter(public_id=public_id, requested_by=user).first()
    if run is None:
        raise Http404
    return run
