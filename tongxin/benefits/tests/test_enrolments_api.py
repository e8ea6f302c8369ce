"""``GET /api/v1/benefits/programmes`` and ``GET /api/v1/children/<id>/enrolments``."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from tongxin.audit.models import AuditEvent
from tongxin.benefits.services import EndInput
from tongxin.benefits.tests.test_services import add_standard, enrol
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors, api_client

pytestmark = pytest.mark.django_db

PROGRAMMES = "/api/v1/benefits/programmes"


def test_the_urls() -> None:
    assert reverse("api:benefit_programmes") == PROGRAMMES


def test_the_catalogue_has_every_code_and_the_standard_in_force(actors: Actors) -> None:
    add_standard(actors, date(2024, 1, 1), "1300")
    add_standard(actors, date(2024, 7, 1), "1400")
    client = api_client(actors.village_director)
    body = client.get(PROGRAMMES + "?as_of=2024-06-30").json()
    codes = [p["code"] for p in body["programmes"]]
    assert codes[:3] == ["orphan_allowance", "de_facto_allowance", "dibao"]
    assert len(codes) == 9
    orphan = body["programmes"][0]
    assert orphan["name"] == "孤儿基本生活费"
    assert orphan["computed"] is True
    scattered = next(s for s in orphan["standards"] if s["rate"] == "scattered")
    assert scattered == {
        "rate": "scattered",
        "monthly_amount": "1300.00",
        "effective_from": "2024-01-01",
        "note": "示例金额，非本县标准",
    }
    dibao = body["programmes"][2]
    assert dibao["household"] is True
    assert dibao["standards"] == [
        {"rate": None, "monthly_amount": None, "effective_from": None, "note": ""}
    ]
    later = client.get(PROGRAMMES + "?as_of=2024-07-01").json()
    assert later["programmes"][0]["standards"][1]["monthly_amount"] == "1400.00"


@pytest.mark.parametrize("as_of", ["2024-13-01", "x", "1800-01-01"])
def test_a_bad_date_is_400_naming_it(actors: Actors, as_of: str) -> None:
    response = api_client(actors.auditor).get(PROGRAMMES + f"?as_of={as_of}")
    assert response.status_code == 400
    assert "as_of" in response.json()


def test_a_childs_enrolments_with_its_households(actors: Actors) -> None:
    child = make_family(actors)
    enrol(actors, child, end=EndInput(end_month=date(2024, 6, 1), end_reason="aged_out"))
    enrol(actors, child, programme="dibao", rate="", amount="700", start=date(2024, 3, 1))
    url = reverse("api:child_enrolments", args=[child.public_id])
    response = api_client(actors.village_director).get(url)
    assert response.status_code == 200
    rows = response.json()
    assert [r["programme"] for r in rows] == ["dibao", "orphan_allowance"]
    assert rows[0]["household"] is True
    assert rows[0]["rate"] is None
    assert rows[1]["end_reason"] == "aged_out"
    assert rows[1]["end_month"] == "2024-06-01"
    assert rows[1]["monthly_amount"] == "1500.00"
    assert AuditEvent.objects.filter(action="child.view", object_code=str(child.public_id)).exists()
    assert api_client(actors.other_village_director).get(url).status_code == 404
    assert api_client(actors.department_officer).get(url).status_code == 404
