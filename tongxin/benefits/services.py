"""Writes of the benefits app: a new version of a standard, and an enrolment's creation, edit
and end. Each runs in one transaction with its audit entry; county officers alone write
(decision 022). An edit or an end based on a version someone else's edit replaced is refused
(``StaleEdit``), as the registry refuses a stale edit of a file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.audit.services import audit_object, audit_record
from tongxin.benefits.models import (
    HOUSEHOLD_PROGRAMMES,
    RATED,
    BenefitEnrolment,
    EndReason,
    Standard,
    month_start,
)
from tongxin.benefits.rules import PROGRAMME_LABELS, Programme
from tongxin.core.dates import cn_date
from tongxin.core.versions import FieldChange, StaleEdit, record_changes
from tongxin.geo.scope import in_scope
from tongxin.lib import plausible
from tongxin.registry.models import Child, Household

# Who keeps the standards and the enrolments: the county civil-affairs bureau.
BENEFIT_ROLES = frozenset({Role.COUNTY_ADMIN})
# How far ahead an enrolment may start (an approval from next month) or end.
MONTHS_AHEAD_YEARS = 1


def keeps_benefits(user: User) -> bool:
    return user.role in BENEFIT_ROLES and not user.is_read_only


def _check_keeper(actor: User, village_code: str) -> None:
    if not keeps_benefits(actor) or not in_scope(actor, village_code):
        raise PermissionDenied


def _cn_month(month: date) -> str:
    return _("%(month)d/%(year)d") % {"year": month.year, "month": month.month}


# --- standards -------------------------------------------------------------------------------


def _check_rate(programme: str, rate: str) -> dict[str, list[str]]:
    if programme in RATED and not rate:
        return {"rate": [_("This programme is paid at a rate: choose one.")]}
    if programme not in RATED and rate:
        return {"rate": [_("This programme has no rate: leave the rate empty.")]}
    return {}


@transaction.atomic
def standard_add(
    *,
    actor: User,
    programme: str,
    rate: str,
    monthly_amount: Decimal,
    effective_from: date,
    note: str = "",
    request: HttpRequest | None = None,
) -> Standard:
    """A new version of a programme's standard at a rate, from ``effective_from``. A past date
    is allowed: a standard is often published after the day it takes effect (decision 022)."""
    if not keeps_benefits(actor):
        raise PermissionDenied
    standard = Standard(
        programme=programme,
        rate=rate,
        monthly_amount=monthly_amount,
        effective_from=effective_from,
        note=note.strip(),
        created_by=actor,
    )
    errors = _check_rate(programme, rate)
    if error := plausible.plan_date_error(effective_from, today=timezone.localdate()):
        errors.setdefault("effective_from", []).append(error)
    try:
        standard.full_clean(exclude=["created_by"], validate_constraints=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if not errors and (
        Standard.objects.filter(programme=programme, rate=rate, effective_from=effective_from)
        .select_for_update()
        .exists()
    ):
        errors["effective_from"] = [
            _("A version of this standard already takes effect on %(date)s.")
            % {"date": cn_date(effective_from)}
        ]
    if errors:
        raise ValidationError(errors)
    standard.save()
    audit_record(
        actor=actor,
        action="benefit.standard_add",
        object_type="benefit_standard",
        object_code=f"{programme}/{rate or '-'}/{effective_from.isoformat()}",
        division_code=actor.division_id or "",
        request=request,
        detail={"amount": str(standard.monthly_amount)},
    )
    return standard


# --- enrolments ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnrolmentInput:
    """What an officer sets on an enrolment (its end aside). Months: any day of the month."""

    programme: str
    rate: str
    monthly_amount: Decimal
    start_month: date
    document_number: str = ""


@dataclass(frozen=True)
class EndInput:
    end_month: date
    end_reason: str
    end_note: str = ""


def _month_error(month: date, *, today: date) -> str | None:
    return plausible.plan_date_error(month, today=today, years_ahead=MONTHS_AHEAD_YEARS)


def _subject_filter(enrolment: BenefitEnrolment) -> Q:
    if enrolment.child_id is not None:
        return Q(child_id=enrolment.child_id)
    return Q(household_id=enrolment.household_id)


def _check_overlap(enrolment: BenefitEnrolment) -> None:
    """No two enrolments of one child (or household) in one programme cover the same month,
    and an open one covers every month from its start."""
    others = BenefitEnrolment.objects.filter(
        _subject_filter(enrolment), programme=enrolment.programme
    ).exclude(pk=enrolment.pk)
    others = others.filter(Q(end_month__isnull=True) | Q(end_month__gte=enrolment.start_month))
    if enrolment.end_month is not None:
        others = others.filter(start_month__lte=enrolment.end_month)
    clash = others.order_by("start_month").first()
    if clash is None:
        return
    period = (
        _("from %(start)s, still open") % {"start": _cn_month(clash.start_month)}
        if clash.end_month is None
        else _("from %(start)s through %(end)s")
        % {"start": _cn_month(clash.start_month), "end": _cn_month(clash.end_month)}
    )
    raise ValidationError(
        {
            "start_month": [
                _(
                    "Another enrolment in %(programme)s covers these months (%(period)s): end "
                    "it or change its months first."
                )
                % {"programme": PROGRAMME_LABELS[clash.programme], "period": period}
            ]
        }
    )


def _check_enrolment(enrolment: BenefitEnrolment, born_on: date | None) -> None:
    """The single-row checks, each error on the field it concerns (Chinese once translated)."""
    today = timezone.localdate()
    errors = _check_rate(enrolment.programme, enrolment.rate)
    if error := _month_error(enrolment.start_month, today=today):
        errors.setdefault("start_month", []).append(error)
    elif born_on is not None and enrolment.start_month < month_start(born_on):
        errors.setdefault("start_month", []).append(
            _("The first month is before the child's birth (%(birth)s).")
            % {"birth": cn_date(born_on)}
        )
    if enrolment.end_month is not None:
        if error := _month_error(enrolment.end_month, today=today):
            errors.setdefault("end_month", []).append(error)
        elif enrolment.end_month < enrolment.start_month:
            errors.setdefault("end_month", []).append(
                _("The last month cannot come before the first (%(start)s).")
                % {"start": _cn_month(enrolment.start_month)}
            )
        if not enrolment.end_reason:
            errors.setdefault("end_reason", []).append(_("Say why the enrolment ended."))
        elif enrolment.end_reason == EndReason.OTHER and not enrolment.end_note:
            errors.setdefault("end_note", []).append(_("Say what the other reason is."))
    try:
        enrolment.full_clean(
            exclude=["child", "household", "created_by", "end_month", "start_month"],
            validate_constraints=False,
        )
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    _check_overlap(enrolment)


def _lock_subject(child: Child | None, household: Household) -> None:
    """Serialise writers of one family's enrolments (SQLite: the IMMEDIATE transaction does),
    so that two overlapping enrolments cannot both pass the check."""
    Household.objects.select_for_update().filter(pk=household.pk).first()
    if child is not None:
        Child.objects.select_for_update().filter(pk=child.pk).first()


def _audit(
    actor: User,
    action: str,
    enrolment: BenefitEnrolment,
    request: HttpRequest | None,
    detail: dict[str, object],
) -> None:
    audit_object(
        actor,
        action,
        enrolment,
        division_code=enrolment.village_id,
        request=request,
        detail={"programme": enrolment.programme, **detail},
    )


@transaction.atomic
def enrolment_create(
    *,
    actor: User,
    child: Child,
    data: EnrolmentInput,
    end: EndInput | None = None,
    request: HttpRequest | None = None,
) -> BenefitEnrolment:
    """Enrol ``child`` in a programme from ``data.start_month`` (open, or ended with ``end``
    for one recorded after the fact). Dibao is enrolled for the child's household."""
    _check_keeper(actor, child.village_id)
    try:
        Programme(data.programme)
    except ValueError:
        raise ValidationError({"programme": [_("Choose the programme from the list.")]}) from None
    for_household = data.programme in HOUSEHOLD_PROGRAMMES
    enrolment = BenefitEnrolment(
        child=None if for_household else child,
        household=child.household if for_household else None,
        programme=data.programme,
        rate=data.rate,
        monthly_amount=data.monthly_amount,
        start_month=month_start(data.start_month),
        document_number=data.document_number.strip(),
        created_by=actor,
    )
    if end is not None:
        enrolment.end_month = month_start(end.end_month)
        enrolment.end_reason = end.end_reason
        enrolment.end_note = end.end_note.strip()
    _lock_subject(None if for_household else child, child.household)
    _check_enrolment(enrolment, born_on=None if for_household else child.birth_date)
    enrolment._history_user = actor  # type: ignore[attr-defined]  # read by simple-history
    enrolment.save()
    _audit(
        actor,
        "benefit.enrolment_create",
        enrolment,
        request,
        {"amount": str(enrolment.monthly_amount), "start": enrolment.start_month.isoformat()},
    )
    return enrolment


def enrolment_changes(enrolment: BenefitEnrolment, since_version: int) -> list[FieldChange]:
    """What changed on the enrolment after ``since_version`` (for a stale edit's answer)."""
    if since_version < 1 or since_version >= enrolment.version:
        return []
    records = list(enrolment.history.order_by("history_date", "history_id"))
    label = str(BenefitEnrolment._meta.verbose_name)
    return record_changes(BenefitEnrolment, records, label, since_version)


def _locked(enrolment: BenefitEnrolment, version: int) -> BenefitEnrolment:
    locked = (
        BenefitEnrolment.objects.select_for_update(of=("self",))
        .select_related("child", "household")
        .get(pk=enrolment.pk)
    )
    if locked.version != version:
        raise StaleEdit(locked.version, enrolment_changes(locked, version))
    return locked


def _born_on(enrolment: BenefitEnrolment) -> date | None:
    return enrolment.child.birth_date if enrolment.child is not None else None


def _save_changed(
    actor: User,
    locked: BenefitEnrolment,
    action: str,
    changed: list[str],
    request: HttpRequest | None,
) -> BenefitEnrolment:
    locked.version += 1
    locked._history_user = actor  # type: ignore[attr-defined]
    locked.save()
    _audit(actor, action, locked, request, {"fields": changed})
    return locked


@transaction.atomic
def enrolment_update(
    *,
    actor: User,
    enrolment: BenefitEnrolment,
    version: int,
    data: EnrolmentInput,
    request: HttpRequest | None = None,
) -> BenefitEnrolment:
    """Change an enrolment's rate, amount, first month or document number, based on
    ``version`` (a stale version → StaleEdit). Its programme stays: another programme is
    another enrolment."""
    _check_keeper(actor, enrolment.village_id)
    locked = _locked(enrolment, version)
    if data.programme != locked.programme:
        raise ValidationError(
            {"programme": [_("An enrolment keeps its programme: end it and enrol anew.")]}
        )
    new = {
        "rate": data.rate,
        "monthly_amount": data.monthly_amount,
        "start_month": month_start(data.start_month),
        "document_number": data.document_number.strip(),
    }
    changed = [k for k, v in new.items() if getattr(locked, k) != v]
    if not changed:
        return locked
    for key in changed:
        setattr(locked, key, new[key])
    _check_enrolment(locked, _born_on(locked))
    return _save_changed(actor, locked, "benefit.enrolment_update", changed, request)


@transaction.atomic
def enrolment_end(
    *,
    actor: User,
    enrolment: BenefitEnrolment,
    version: int,
    end: EndInput,
    request: HttpRequest | None = None,
) -> BenefitEnrolment:
    """End an enrolment with its last paid month (inclusive) and the reason, based on
    ``version``; an ended enrolment's end may be corrected the same way."""
    _check_keeper(actor, enrolment.village_id)
    locked = _locked(enrolment, version)
    new = {
        "end_month": month_start(end.end_month),
        "end_reason": end.end_reason,
        "end_note": end.end_note.strip(),
    }
    changed = [k for k, v in new.items() if getattr(locked, k) != v]
    if not changed:
        return locked
    for key in changed:
        setattr(locked, key, new[key])
    _check_enrolment(locked, _born_on(locked))
    return _save_changed(actor, locked, "benefit.enrolment_end", changed, request)


# --- audited reads ---------------------------------------------------------------------------


def enrolments_listed(
    *, actor: User, division_code: str, count: int, request: HttpRequest | None = None
) -> None:
    """A list of enrolments (children's names with what they receive) is attributable."""
    audit_record(
        actor=actor,
        action="benefit.enrolment_list",
        object_type="division",
        object_code=division_code,
        division_code=division_code,
        request=request,
        detail={"count": count},
    )
