"""``GET``/``PATCH /api/v1/children/<id>``: the file with its version as an ETag, changes only
with a matching If-Match (428 without, 412 when stale, listing what changed), reads audited,
the ID number masked, outsiders 404 and read-only roles 403."""

from __future__ import annotations

import json
import random
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from tongxin.audit.models import AuditEvent
from tongxin.lib import idcard
from tongxin.registry import services
from tongxin.registry.models import Child
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors, api_client

OUTSIDERS = (
    "other_village_director",
    "other_county_admin",
    "department_officer",
    "system_admin",
    "reporter",
)


def _url(child: Child) -> str:
    return reverse("api:child_detail", args=[child.public_id])


def test_it_returns_the_file_with_its_version_as_etag(actors: Actors) -> None:
    number = idcard.generate(
        random.Random(31), region="620724", birth_date=date(2014, 5, 1), gender="male"
    )
    child = make_family(actors, id_number=number)
    child.refresh_from_db()
    response = api_client(actors.village_director).get(_url(child))
    assert response.status_code == 200
    assert response["ETag"] == f'"{child.version}"'
    body = response.json()
    assert body["id"] == str(child.public_id)
    assert body["version"] == child.version
    assert body["id_number"] == idcard.mask(number)
    assert number not in response.content.decode()
    assert [c["code"] for c in body["categories"]] == ["left_behind"]
    assert body["categories"][0]["reason"]
    assert body["household"]["id"] == str(child.household.public_id)
    assert body["household"]["village"]["code"] == child.village_id
    roles = {p["role"]: p for p in body["household"]["parents"]}
    assert roles["father"]["migrations"][0]["destination"] == "out_of_province"


def test_it_audits_every_read(actors: Actors, child: Child) -> None:
    client = api_client(actors.auditor)
    assert client.get(_url(child)).status_code == 200
    assert client.get(_url(child)).status_code == 200
    events = AuditEvent.objects.filter(action="child.view", object_code=str(child.public_id))
    assert [e.actor_username for e in events] == ["auditor", "auditor"]


def test_it_applies_a_change_based_on_the_current_version(actors: Actors, child: Child) -> None:
    child.refresh_from_db()
    response = api_client(actors.village_director).patch(
        _url(child),
        {"school": "城关镇中心小学", "disability_grade": 2},
        format="json",
        headers={"If-Match": f'"{child.version}"'},
    )
    assert response.status_code == 200, response.content
    assert response["ETag"] == f'"{child.version + 1}"'
    body = response.json()
    assert body["school"] == "城关镇中心小学"
    assert "disabled" in [c["code"] for c in body["categories"]]  # reclassified at once
    assert body["warnings"] == []
    child.refresh_from_db()
    assert child.school == "城关镇中心小学"


def test_it_answers_428_without_if_match(actors: Actors, child: Child) -> None:
    response = api_client(actors.village_director).patch(
        _url(child), {"school": "x"}, format="json"
    )
    assert response.status_code == 428
    child.refresh_from_db()
    assert child.school == ""


def test_it_answers_412_with_what_changed_when_stale(actors: Actors, child: Child) -> None:
    child.refresh_from_db()
    old = child.version
    services.child_update(
        actor=actors.town_supervisor, child=child, version=old, changes={"grade": "四年级"}
    )
    response = api_client(actors.village_director).patch(
        _url(child), {"grade": "五年级"}, format="json", headers={"If-Match": f'"{old}"'}
    )
    assert response.status_code == 412
    body = response.json()
    assert body["current_version"] == old + 1
    assert response["ETag"] == f'"{old + 1}"'
    assert [(c["field"], c["old"], c["new"], c["by"]) for c in body["changes"]] == [
        ("grade", "—", "四年级", "town supervisor")
    ]
    child.refresh_from_db()
    assert child.grade == "四年级"


@pytest.mark.parametrize("header", ["*", "nonsense", '"999"'])
def test_it_never_matches_another_tag(actors: Actors, child: Child, header: str) -> None:
    response = api_client(actors.village_director).patch(
        _url(child), {"grade": "五年级"}, format="json", headers={"If-Match": header}
    )
    assert response.status_code == 412


def test_it_names_the_invalid_field(actors: Actors, child: Child) -> None:
    child.refresh_from_db()
    response = api_client(actors.village_director).patch(
        _url(child),
        {"gender": "x", "id_number": "62072420140501001"},
        format="json",
        headers={"If-Match": f'"{child.version}"'},
    )
    assert response.status_code == 400
    assert "gender" in response.json()
    bad_number = api_client(actors.village_director).patch(
        _url(child),
        {"id_number": "62072420140501001"},
        format="json",
        headers={"If-Match": f'"{child.version}"'},
    )
    assert bad_number.status_code == 400
    assert "id_number" in bad_number.json()


def test_it_refuses_a_duplicate_number_with_409(actors: Actors, child: Child) -> None:
    number = idcard.generate(
        random.Random(32), region="620724", birth_date=date(2014, 5, 1), gender="male"
    )
    make_family(actors, id_number=number, village="620724101201", name="赵远方")
    child.refresh_from_db()
    response = api_client(actors.village_director).patch(
        _url(child),
        {"id_number": number},
        format="json",
        headers={"If-Match": f'"{child.version}"'},
    )
    assert response.status_code == 409
    text = response.content.decode()
    assert "赵远方" not in text
    assert number not in text
    assert "existing" not in response.json()


def test_it_answers_403_to_the_auditor_on_a_change(actors: Actors, child: Child) -> None:
    child.refresh_from_db()
    response = api_client(actors.auditor).patch(
        _url(child), {"grade": "x"}, format="json", headers={"If-Match": f'"{child.version}"'}
    )
    assert response.status_code == 403


@pytest.mark.parametrize("key", OUTSIDERS)
def test_it_answers_404_to_outsiders(actors: Actors, child: Child, key: str) -> None:
    client = api_client(getattr(actors, key))
    assert client.get(_url(child)).status_code == 404
    patch = client.patch(_url(child), {"grade": "x"}, format="json", headers={"If-Match": '"1"'})
    assert patch.status_code == 404


def test_it_answers_401_without_a_token(child: Child) -> None:
    assert api_client(None).get(_url(child)).status_code == 401


def test_it_documents_the_endpoint(db: None) -> None:
    schema = json.loads(Client().get(reverse("schema"), {"format": "json"}).content)
    operations = schema["paths"]["/api/v1/children/{public_id}"]
    assert set(operations) >= {"get", "patch"}
    patch = operations["patch"]
    assert {"412", "428", "403", "404"} <= set(patch["responses"])
    assert any(p["name"] == "If-Match" and p["in"] == "header" for p in patch["parameters"])
