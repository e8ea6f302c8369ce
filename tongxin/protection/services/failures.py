"""Writes of the records of cases found later that should have been reported and were not
(发现未报)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tongxin.accounts.models import User
from tongxin.audit.services import audit_record
from tongxin.geo.models import Division
from tongxin.geo.scope import in_scope
from tongxin.protection import access
from tongxin.protection.models import FailureToReport, FollowUp

FAILURE_FIELDS = {
    "division",
    "report",
    "organisation",
    "organisation_name",
    "person",
    "found_on",
    "summary",
    "follow_up",
    "follow_up_note",
}


@transaction.atomic
def failure_record(
    *, actor: User, fields: dict[str, Any], request: HttpRequest | None = None
) -> FailureToReport:
    """Record a case found later that should have been reported and was not."""
    if not access.records_failures(actor):
        raise PermissionDenied
    if unknown := set(fields) - FAILURE_FIELDS:
        raise ValueError(f"not failure fields: {sorted(unknown)}")
    division: Division | None = fields.get("division")
    if division is None or not in_scope(actor, division.code):
        raise ValidationError({"division": [_("Choose a town or village of your area.")]})
    errors: dict[str, list[str]] = {}
    if not (
        fields.get("organisation")
        or str(fields.get("organisation_name", "")).strip()
        or str(fields.get("person", "")).strip()
    ):
        errors["organisation_name"] = [_("Say who failed to report: an institution or a person.")]
    found_on = fields.get("found_on")
    if found_on is None:
        errors["found_on"] = [_("Give the date it was found.")]
    elif found_on > timezone.localdate():
        errors["found_on"] = [_("The date cannot be in the future.")]
    if not str(fields.get("summary", "")).strip():
        errors["summary"] = [_("Say what should have been reported.")]
    if fields.get("follow_up") not in FollowUp.values:
        errors["follow_up"] = [_("Choose the follow-up taken.")]
    if errors:
        raise ValidationError(errors)
    failure = FailureToReport(
        recorded_by=actor, county_code=division.code[:6], **{**fields, "division": division}
    )
    failure.full_clean(exclude=["recorded_by", "report", "organisation"])
    failure.save()
    audit_record(
        actor=actor,
        action="report.failure_record",
        object_type="failuretoreport",
        object_code=str(failure.public_id),
        division_code=division.code,
        request=request,
        detail={"follow_up": failure.follow_up},
    )
    return failure
