"""Reads of the benefits app: the standard in force for a month, the catalogue with its current
standards, and enrolments — scoped by the user's division, and as receipt facts for the rules
(``enrolled_codes``, what the gap list and the eligibility facts read)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from tongxin.accounts.models import User
from tongxin.benefits import rules
from tongxin.benefits.models import (
    RATED,
    BenefitEnrolment,
    Standard,
    month_start,
)
from tongxin.geo.scope import get_for_user_or_404
from tongxin.registry.models import Child

# --- standards -------------------------------------------------------------------------------


def standard_for(programme: str, rate: str, month: date) -> Standard | None:
    """The version of the programme's standard at ``rate`` ("" for a programme without rates)
    in force on the first day of ``month``; None when none is yet."""
    return (
        Standard.objects.filter(
            programme=programme, rate=rate, effective_from__lte=month_start(month)
        )
        .order_by("-effective_from")
        .first()
    )


class StandardTable:
    """Every version of every standard, read at once (the table is small), for a computation
    that asks for many months: ``on`` answers as ``standard_for`` does, without a query."""

    def __init__(self) -> None:
        self.versions: dict[tuple[str, str], list[tuple[date, Decimal]]] = defaultdict(list)
        for programme, rate, start, amount in Standard.objects.order_by(
            "effective_from"
        ).values_list("programme", "rate", "effective_from", "monthly_amount"):
            self.versions[(programme, rate)].append((start, amount))

    def on(self, programme: str, rate: str, month: date) -> Decimal | None:
        """The monthly amount in force on the first day of ``month``; None when none is yet."""
        first, found = month_start(month), None
        for start, amount in self.versions.get((programme, rate), ()):
            if start > first:
                break
            found = amount
        return found


def catalogue_keys() -> list[tuple[rules.Programme, str]]:
    """Every (programme, rate) a standard is kept for, in the catalogue's order."""
    return [
        (programme, rate)
        for programme in rules.Programme
        for rate in ([r.value for r in rules.Rate] if programme.value in RATED else [""])
    ]


@dataclass(frozen=True)
class StandardLine:
    """One programme at one rate: the version in force on the day asked, the next scheduled,
    and every version, oldest first."""

    programme: rules.Programme
    rate: str
    current: Standard | None
    scheduled: Standard | None
    versions: list[Standard]

    @property
    def programme_label(self) -> str:
        return rules.PROGRAMME_LABELS[self.programme]

    @property
    def rate_label(self) -> str:
        return rules.RATE_LABELS[rules.Rate(self.rate)] if self.rate else ""


def standard_lines(on: date) -> list[StandardLine]:
    """The catalogue with the standards in force on ``on``: one query (the table is small)."""
    by_key: dict[tuple[str, str], list[Standard]] = {}
    for standard in Standard.objects.select_related("created_by").order_by("effective_from"):
        by_key.setdefault((standard.programme, standard.rate), []).append(standard)
    day = month_start(on)
    lines = []
    for programme, rate in catalogue_keys():
        versions = by_key.get((programme.value, rate), [])
        past = [v for v in versions if v.effective_from <= day]
        ahead = [v for v in versions if v.effective_from > day]
        lines.append(
            StandardLine(
                programme=programme,
                rate=rate,
                current=past[-1] if past else None,
                scheduled=ahead[0] if ahead else None,
                versions=versions,
            )
        )
    return lines


# --- enrolments ------------------------------------------------------------------------------


def enrolments_visible(user: User) -> QuerySet[BenefitEnrolment]:
    return BenefitEnrolment.objects.visible_to(user).select_related(
        "child__village", "household__village"
    )


def get_enrolment_for_user(user: User, public_id: Any) -> BenefitEnrolment:
    """One enrolment, or 404 alike for "not there" and "not yours"."""
    return get_for_user_or_404(enrolments_visible(user), public_id=public_id)


def _of_child(child: Child) -> Q:
    return Q(child_id=child.pk) | Q(household_id=child.household_id)


def child_enrolments(child: Child) -> list[BenefitEnrolment]:
    """The child's enrolments and its household's (dibao), newest first, in one query. The
    caller has fetched ``child`` through the user's scope."""
    return list(
        BenefitEnrolment.objects.filter(_of_child(child))
        .select_related("created_by")
        .order_by("-start_month", "programme", "pk")
    )


def enrolled_codes(child: Child, on: date) -> frozenset[rules.Programme]:
    """The programmes the child receives in the month of ``on`` (its household's dibao
    counted): the receipt facts the rules take as ``enrolled``."""
    month = month_start(on)
    codes = (
        BenefitEnrolment.objects.filter(_of_child(child), start_month__lte=month)
        .filter(Q(end_month__isnull=True) | Q(end_month__gte=month))
        .values_list("programme", flat=True)
        .distinct()
    )
    return frozenset(rules.Programme(code) for code in codes)


# The list page's "open or ended" filter.
OPEN, ENDED = "open", "ended"


def enrolment_list(
    user: User,
    *,
    programme: str = "",
    division_prefix: str = "",
    state: str = "",
    today: date,
) -> QuerySet[BenefitEnrolment]:
    """The enrolments the user sees, filtered: a programme, a division (its code prefix; scope
    applies on top), open or ended in ``today``'s month."""
    found = enrolments_visible(user)
    if programme:
        found = found.filter(programme=programme)
    if division_prefix:
        prefix = division_prefix
        found = found.filter(
            Q(child__village__code__startswith=prefix)
            | Q(household__village__code__startswith=prefix)
        )
    month = month_start(today)
    if state == OPEN:
        found = found.filter(Q(end_month__isnull=True) | Q(end_month__gte=month))
    elif state == ENDED:
        found = found.filter(end_month__lt=month)
    return found.order_by("-start_month", "programme", "pk")
