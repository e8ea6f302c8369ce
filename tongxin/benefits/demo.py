"""The demo's benefits: example standards, labelled as examples (never a county's real amounts),
and enrolments for a handful of the generated children in each category that a programme
serves (orphans, de facto unsupported children, dibao families, disabled children).

Deterministic: the children are taken in the order they were generated. Written through the
services (a few dozen rows), so each is audited and checked like an officer's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tongxin.accounts.models import User
from tongxin.benefits import selectors, services
from tongxin.benefits.models import BenefitEnrolment, EndReason, Standard, month_start
from tongxin.benefits.rules import Programme, Rate
from tongxin.registry.models import Child, ChildStatus

EXAMPLE_NOTE = "示例金额，非本县标准"
# (programme, rate, monthly amount from 1 January of last year, from 1 January of this year).
EXAMPLE_STANDARDS: list[tuple[Programme, str, str, str | None]] = [
    (Programme.ORPHAN_ALLOWANCE, Rate.INSTITUTIONAL, "1900", "2000"),
    (Programme.ORPHAN_ALLOWANCE, Rate.SCATTERED, "1400", "1500"),
    (Programme.DE_FACTO_ALLOWANCE, Rate.INSTITUTIONAL, "1900", "2000"),
    (Programme.DE_FACTO_ALLOWANCE, Rate.SCATTERED, "1400", "1500"),
    (Programme.DIBAO, "", "650", "700"),
    (Programme.TEKUN, "", "950", None),
    (Programme.DISABILITY_LIVING_SUBSIDY, "", "90", None),
    (Programme.DISABILITY_CARE_SUBSIDY, "", "90", None),
    (Programme.REHAB_ASSISTANCE, "", "1500", None),
]
# How many children (or dibao households) of each kind are enrolled.
PER_KIND = 5


@dataclass
class BenefitsReport:
    standards: int = 0
    enrolments: int = 0


def _standards(actor: User, as_of: date) -> int:
    if Standard.objects.exists():
        return 0
    added = 0
    for programme, rate, last_year, this_year in EXAMPLE_STANDARDS:
        for year, amount in ((as_of.year - 1, last_year), (as_of.year, this_year)):
            if amount is None:
                continue
            services.standard_add(
                actor=actor,
                programme=programme.value,
                rate=str(rate),
                monthly_amount=Decimal(amount),
                effective_from=date(year, 1, 1),
                note=EXAMPLE_NOTE,
            )
            added += 1
    return added


def _enrol(actor: User, child: Child, programme: Programme, as_of: date, rate: str = "") -> None:
    start = max(month_start(child.birth_date), date(as_of.year - 1, 1, 1))
    standard = selectors.standard_for(programme.value, rate, start)
    amount = standard.monthly_amount if standard else Decimal(100)
    services.enrolment_create(
        actor=actor,
        child=child,
        data=services.EnrolmentInput(
            programme=programme.value,
            rate=rate,
            monthly_amount=amount,
            start_month=start,
            document_number=f"高民救〔{start.year}〕{child.pk}号",
        ),
    )


def benefits_generate(*, actor: User, county: str, as_of: date) -> BenefitsReport:
    """Example standards (when there are none) and enrolments (when there are none)."""
    report = BenefitsReport(standards=_standards(actor, as_of))
    if BenefitEnrolment.objects.exists():
        return report
    children = (
        Child.objects.filter(
            village__code__startswith=county[:6], status=ChildStatus.ACTIVE, in_difficulty=True
        )
        .select_related("household")
        .order_by("pk")
    )
    taken = {"orphan": 0, "de_facto_unsupported": 0, "dibao_family": 0, "disabled": 0}
    households: set[int] = set()
    de_facto_last: Child | None = None
    for child in children:
        codes = set(child.category_codes)
        enrolled = False
        if "orphan" in codes and taken["orphan"] < PER_KIND:
            _enrol(actor, child, Programme.ORPHAN_ALLOWANCE, as_of, Rate.SCATTERED.value)
            taken["orphan"] += 1
            enrolled = True
        elif "de_facto_unsupported" in codes and taken["de_facto_unsupported"] < PER_KIND:
            _enrol(actor, child, Programme.DE_FACTO_ALLOWANCE, as_of, Rate.SCATTERED.value)
            taken["de_facto_unsupported"] += 1
            de_facto_last = child
            enrolled = True
        if (
            "dibao_family" in codes
            and taken["dibao_family"] < PER_KIND
            and child.household_id not in households
        ):
            _enrol(actor, child, Programme.DIBAO, as_of)
            households.add(child.household_id)
            taken["dibao_family"] += 1
            enrolled = True
        if "disabled" in codes and "orphan" not in codes and taken["disabled"] < PER_KIND:
            severe = child.disability_grade in (1, 2)
            programme = (
                Programme.DISABILITY_CARE_SUBSIDY if severe else Programme.DISABILITY_LIVING_SUBSIDY
            )
            _enrol(actor, child, programme, as_of)
            taken["disabled"] += 1
            enrolled = True
        if enrolled and all(n >= PER_KIND for n in taken.values()):
            break
    if de_facto_last is not None:
        # One ended enrolment, to show an end and its reason.
        enrolment = BenefitEnrolment.objects.get(
            child=de_facto_last, programme=Programme.DE_FACTO_ALLOWANCE.value
        )
        last = month_start(as_of)
        services.enrolment_end(
            actor=actor,
            enrolment=enrolment,
            version=enrolment.version,
            end=services.EndInput(
                end_month=max(last.replace(month=1), enrolment.start_month),
                end_reason=EndReason.PARENT_RETURNED.value,
            ),
        )
    report.enrolments = BenefitEnrolment.objects.count()
    return report
