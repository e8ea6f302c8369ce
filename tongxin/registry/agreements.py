"""Care agreements (委托照护协议, task 5): writes, their status on a date, and the agreements
about to expire. Writes follow services.py: keyword-only, one transaction with the audit entry.

The scanned agreement is stored under MEDIA_ROOT with a random name (never the uploaded one,
which may carry a person's name) and served only through a scoped, audited view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from tongxin.accounts.models import User
from tongxin.audit.services import audit_object
from tongxin.core.documents import content_type_of, document_kind, stored_name
from tongxin.geo.scope import check_writer, scope_q
from tongxin.registry import services
from tongxin.registry.models import AgreementStatus, CareAgreement, Child, Household

EXPIRING_WITHIN_DAYS = 30

AGREEMENT_FIELDS = {
    "entrusted_by",
    "caregiver_name",
    "caregiver_relation",
    "caregiver_phone",
    "caregiver_address",
    "signed_on",
    "valid_until",
}


# --- status ----------------------------------------------------------------------------------


def agreement_status(agreement: CareAgreement, today: date) -> AgreementStatus:
    """Not stored (decision 005): it follows from the dates on the day asked."""
    if agreement.terminated_on is not None and agreement.terminated_on <= today:
        return AgreementStatus.TERMINATED
    if agreement.valid_until is not None and agreement.valid_until < today:
        return AgreementStatus.EXPIRED
    return AgreementStatus.IN_FORCE


def agreement_expiring(agreement: CareAgreement, today: date) -> bool:
    """In force today and ending within the next 30 days (the home page lists these)."""
    return (
        agreement_status(agreement, today) == AgreementStatus.IN_FORCE
        and agreement.valid_until is not None
        and agreement.valid_until <= today + timedelta(days=EXPIRING_WITHIN_DAYS)
    )


# --- the scan --------------------------------------------------------------------------------


def document_suffix(agreement: CareAgreement) -> str:
    """The kind the scan was stored as ("pdf", "jpg", "png"); we chose the name at upload."""
    name = agreement.document.name or ""
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def document_content_type(agreement: CareAgreement) -> str:
    """The type the scan is served with, from the kind it was stored as."""
    return content_type_of(document_suffix(agreement))


# --- writes ----------------------------------------------------------------------------------


def _check_dates(fields: dict[str, Any]) -> None:
    today = timezone.localdate()
    signed_on, valid_until = fields.get("signed_on"), fields.get("valid_until")
    if signed_on is None:
        raise ValidationError({"signed_on": [_("Give the date the agreement was signed.")]})
    if signed_on > today:
        raise ValidationError({"signed_on": [_("The date cannot be in the future.")]})
    if valid_until is not None and valid_until < signed_on:
        raise ValidationError(
            {"valid_until": [_("The agreement cannot end before it was signed.")]}
        )


@transaction.atomic
def agreement_create(
    *,
    actor: User,
    household: Household,
    fields: dict[str, Any],
    caregiver_id_number: str = "",
    document: UploadedFile[Any] | None = None,
    request: HttpRequest | None = None,
) -> CareAgreement:
    """Archive a signed care agreement, with its scan when there is one. The caregiver's ID
    number is checked as every ID number is, and stored encrypted."""
    check_writer(actor, household.village_id)
    if unknown := set(fields) - AGREEMENT_FIELDS:
        raise ValueError(f"not agreement fields: {sorted(unknown)}")
    _check_dates(fields)
    if not str(fields.get("caregiver_name", "")).strip():
        raise ValidationError({"caregiver_name": [_("Give the entrusted caregiver's name.")]})
    agreement = CareAgreement(household=household, **fields)
    if caregiver_id_number.strip():
        prepared = services.id_number_prepare(caregiver_id_number, field="caregiver_id_number")
        agreement.caregiver_id_enc = prepared.encrypted
    kind = document_kind(document) if document is not None else ""
    agreement._history_user = actor  # type: ignore[attr-defined]  # read by simple-history
    if document is not None:
        agreement.document.save(stored_name(kind), document, save=False)
    try:
        agreement.save()
        audit_object(
            actor,
            "agreement.create",
            agreement,
            request=request,
            division_code=agreement.household.village_id,
            detail={"household": str(agreement.household.public_id), "document": bool(document)},
        )
    except Exception:
        if agreement.document:
            agreement.document.delete(save=False)
        raise
    return agreement


@transaction.atomic
def agreement_terminate(
    *,
    actor: User,
    agreement: CareAgreement,
    terminated_on: date,
    request: HttpRequest | None = None,
) -> CareAgreement:
    check_writer(actor, agreement.household.village_id)
    if terminated_on > timezone.localdate():
        raise ValidationError({"terminated_on": [_("The date cannot be in the future.")]})
    if terminated_on < agreement.signed_on:
        raise ValidationError(
            {"terminated_on": [_("The agreement cannot end before it was signed.")]}
        )
    if agreement.terminated_on is not None:
        raise ValidationError({"terminated_on": [_("The agreement is already terminated.")]})
    agreement.terminated_on = terminated_on
    agreement._history_user = actor  # type: ignore[attr-defined]
    agreement.save(update_fields=["terminated_on"])
    audit_object(
        actor,
        "agreement.terminate",
        agreement,
        request=request,
        division_code=agreement.household.village_id,
        detail={"household": str(agreement.household.public_id)},
    )
    return agreement


@transaction.atomic
def agreement_caregiver_incapable(
    *,
    actor: User,
    agreement: CareAgreement,
    parents_told_on: date,
    request: HttpRequest | None = None,
) -> CareAgreement:
    """The entrusted caregiver lacks the capacity to care (task 5): recorded with the day the
    parents were told, so that they can make another arrangement."""
    check_writer(actor, agreement.household.village_id)
    if parents_told_on > timezone.localdate():
        raise ValidationError({"parents_told_on": [_("The date cannot be in the future.")]})
    agreement.caregiver_lacks_capacity = True
    agreement.parents_told_on = parents_told_on
    agreement._history_user = actor  # type: ignore[attr-defined]
    agreement.save(update_fields=["caregiver_lacks_capacity", "parents_told_on"])
    audit_object(
        actor,
        "agreement.caregiver_incapable",
        agreement,
        request=request,
        division_code=agreement.household.village_id,
        detail={"household": str(agreement.household.public_id)},
    )
    return agreement


def agreement_document_opened(
    *, actor: User, agreement: CareAgreement, request: HttpRequest | None = None
) -> None:
    """Every look at a scan is attributable, like every opening of a file."""
    audit_object(
        actor,
        "agreement.document_view",
        agreement,
        request=request,
        division_code=agreement.household.village_id,
        detail={"household": str(agreement.household.public_id)},
    )


# --- reads -----------------------------------------------------------------------------------


def agreements_visible_to(user: User) -> Any:
    """Care agreements of the households the user may see."""
    if not user.is_authenticated or not user.reads_child_files:
        return CareAgreement.objects.none()
    return CareAgreement.objects.filter(scope_q(user, "household__village__code"))


def expiring_queryset(user: User, *, today: date | None = None) -> Any:
    """Agreements in the user's scope, in force today, that end within the next 30 days,
    soonest first, each with its household's children (two queries per page read)."""
    today = today or timezone.localdate()
    return (
        agreements_visible_to(user)
        .filter(
            valid_until__gte=today,
            valid_until__lte=today + timedelta(days=EXPIRING_WITHIN_DAYS),
        )
        .filter(Q(terminated_on__isnull=True) | Q(terminated_on__gt=today))
        .select_related("household")
        .prefetch_related(
            Prefetch(
                "household__children",
                queryset=Child.objects.order_by("birth_date", "pk"),
                to_attr="listed_children",
            )
        )
        .order_by("valid_until", "pk")
    )


def agreements_expiring(
    user: User, *, today: date | None = None, limit: int | None = None
) -> list[CareAgreement]:
    """``expiring_queryset``, the first ``limit`` of them (all without one)."""
    queryset = expiring_queryset(user, today=today)
    return list(queryset if limit is None else queryset[:limit])


def expiring_count(user: User, *, today: date | None = None) -> int:
    return int(expiring_queryset(user, today=today).order_by().count())


@dataclass(frozen=True)
class ExpiringItem:
    """One line of the home page's "agreements expiring" panel: the children, the caregiver,
    the end date, with a link to the first child's file."""

    agreement: CareAgreement

    def __html__(self) -> SafeString:
        children: list[Child] = getattr(self.agreement.household, "listed_children", [])
        names = "、".join(c.name for c in children) or "—"
        until = self.agreement.valid_until
        text = _("%(children)s — caregiver %(caregiver)s, valid until %(until)s") % {
            "children": names,
            "caregiver": self.agreement.caregiver_name,
            "until": date_format(until) if until else "—",
        }
        if not children:
            return format_html("{}", text)
        url = reverse("registry:child_detail", args=[children[0].public_id])
        return format_html('<a href="{}#agreement">{}</a>', url, text)

    def __str__(self) -> str:
        return str(self.__html__())


def expiring_panel_items(user: User, limit: int | None = None) -> list[ExpiringItem]:
    return [ExpiringItem(a) for a in agreements_expiring(user, limit=limit)]
