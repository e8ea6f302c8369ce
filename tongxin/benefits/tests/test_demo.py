"""The demo's benefits: example standards labelled as examples, and enrolments for children of
each kind a programme serves, the same on every load and added only once."""

from __future__ import annotations

from datetime import date

import pytest

from tongxin.benefits.demo import EXAMPLE_NOTE, PER_KIND, benefits_generate
from tongxin.benefits.models import BenefitEnrolment, Standard
from tongxin.registry.generator import population_generate
from tongxin.testing import Actors

pytestmark = pytest.mark.django_db


def test_it_loads_labelled_standards_and_enrolments_once(actors: Actors) -> None:
    population_generate(children=400, seed=7, county="620724000000")
    as_of = date(2026, 6, 15)
    report = benefits_generate(actor=actors.county_admin, county="620724000000", as_of=as_of)
    assert report.standards == Standard.objects.count() > 9
    assert set(Standard.objects.values_list("note", flat=True)) == {EXAMPLE_NOTE}
    programmes = set(BenefitEnrolment.objects.values_list("programme", flat=True))
    assert {"orphan_allowance", "de_facto_allowance", "dibao"} <= programmes
    assert report.enrolments == BenefitEnrolment.objects.count()
    assert 4 <= report.enrolments <= 4 * PER_KIND
    assert BenefitEnrolment.objects.filter(end_reason="parent_returned").count() == 1
    # Every enrolment is paid at the example standard of its first month.
    for e in BenefitEnrolment.objects.all():
        standard = Standard.objects.filter(
            programme=e.programme, rate=e.rate, effective_from__lte=e.start_month
        ).latest("effective_from")
        assert e.monthly_amount == standard.monthly_amount
    again = benefits_generate(actor=actors.county_admin, county="620724000000", as_of=as_of)
    assert (again.standards, again.enrolments) == (0, 0)
    assert BenefitEnrolment.objects.count() == report.enrolments
