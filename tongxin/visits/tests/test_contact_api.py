"""``POST /api/v1/contacts`` (idempotent with ``Idempotency-Key``: 201, then 200 with the same
contact and nothing new), ``GET /api/v1/children/<code>/contacts`` and ``GET``/``PATCH
/api/v1/contacts/<code>`` (the author, within 48 hours, If-Match: 428/412; 409 after)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tongxin.audit.models import AuditEvent
from tongxin.lib import idcard
from tongxin.protection.models import Concern
from tongxin.registry.models import Child
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors, api_client
from tongxin.visits import services
from tongxin.visits.models import Contact, ContactCredit
from tongxin.visits.tests.conftest import REACHED, VISITED, add_sibling

pytestmark = pytest.mark.django_db

CREATE = "/api/v1/contacts"


def _body(child: Child, **over: Any) -> dict[str, Any]:
    return {"child": str(child.public_id), "kind": "phone", "day": "2024-06-03", **REACHED} | over


def _post(actors: Actors, body: dict[str, Any], key: str | None = None, user: str = "") -> Any:
    client = api_client(getattr(actors, user or "village_director"))
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(CREATE, body, format="json", headers=headers)


def _detail(contact_id: str) -> str:
    return reverse("api:contact_detail", args=[contact_id])


def test_the_urls_are_the_documented_ones(actors: Actors, child: Child) -> None:
    assert reverse("api:contact_create") == CREATE
    assert reverse("api:child_contacts", args=[child.public_id]) == (
        f"/api/v1/children/{child.public_id}/contacts"
    )


def test_it_records_a_contact_with_a_problem(actors: Actors, child: Child) -> None:
    response = _post(
        actors,
        _body(
            child,
            met_caregiver=True,
            check_safety="concern",
            notes="与祖母通话",
            latitude=39.376543219,
            longitude=99.8123456,
            problems=[
                {
                    "checklist_item": "check_safety",
                    "description": "屋后水渠无护栏",
                    "solution": "加装护栏",
                    "due_on": "2024-06-30",
                    "severity": "high",
                }
            ],
        ),
        key="k-1",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    contact = Contact.objects.get()
    assert body["id"] == str(contact.public_id)
    assert response["ETag"] == '"1"'
    assert body["children"] == [str(child.public_id)]
    assert body["household"] == str(child.household.public_id)
    assert (body["check_safety"], body["check_health"]) == ("concern", "not_seen")
    assert body["latitude"] == "39.376543"
    assert body["author"] == "village_director"
    assert body["author_role"] == "village_director"
    [problem] = body["problems"]
    assert (problem["severity"], problem["due_on"], problem["status"]) == (
        "high",
        "2024-06-30",
        "open",
    )
    assert Concern.objects.get().owner == actors.village_director
    assert "王小明" not in response.content.decode()  # public codes, no names


def test_a_retried_request_answers_the_same_contact_and_records_nothing(
    actors: Actors, child: Child
) -> None:
    first = _post(actors, _body(child), key="phone-retry-1")
    again = _post(actors, _body(child, notes="retried"), key="phone-retry-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["notes"] == ""
    assert Contact.objects.count() == 1
    assert AuditEvent.objects.filter(action="contact.record").count() == 1
    # Another key, or none, is another contact.
    assert _post(actors, _body(child), key="phone-retry-2").status_code == 201
    assert _post(actors, _body(child)).status_code == 201
    assert Contact.objects.count() == 3


def test_the_same_key_from_another_user_is_another_contact(actors: Actors, child: Child) -> None:
    assert _post(actors, _body(child), key="shared").status_code == 201
    assert _post(actors, _body(child), key="shared", user="town_supervisor").status_code == 201
    assert Contact.objects.count() == 2


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"kind": "letter"}, "kind"),
        ({"day": "2024-13-01"}, "day"),
        ({"day": (date.today() + timedelta(days=2)).isoformat()}, "day"),
        ({"check_mood": "bad"}, "check_mood"),
        ({"latitude": 91, "longitude": 100}, "latitude"),
        ({"latitude": 39.1}, "longitude"),
        ({"lat": 39.1}, "lat"),
        ({"problems": [{"checklist_item": "check_safety", "description": "x"}]}, "check_safety"),
        ({"problems": [{"checklist_item": "check_nothing", "description": "x"}]}, "problems"),
        ({"child": "not-a-code"}, "child"),
    ],
)
def test_a_bad_field_is_named_and_nothing_recorded(
    actors: Actors, child: Child, over: dict[str, Any], field: str
) -> None:
    response = _post(actors, _body(child) | over, key="bad")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Contact.objects.exists()


def test_children_of_another_household_are_refused(actors: Actors, child: Child) -> None:
    stranger = make_family(actors, name="李四")
    response = _post(actors, _body(child, children=[str(stranger.public_id)]))
    assert response.status_code == 400
    assert "children" in response.json()
    assert not Contact.objects.exists()


def test_a_home_visit_counts_for_every_sibling(actors: Actors, child: Child) -> None:
    sibling = add_sibling(actors, child)
    body = _post(actors, _body(child, kind="home_visit", **VISITED)).json()
    assert set(body["children"]) == {str(child.public_id), str(sibling.public_id)}


def test_a_call_about_two_siblings_counts_for_both(actors: Actors, child: Child) -> None:
    sibling = add_sibling(actors, child)
    add_sibling(actors, child, name="王小刚")
    body = _post(actors, _body(child, children=[str(sibling.public_id)])).json()
    assert set(body["children"]) == {str(child.public_id), str(sibling.public_id)}


def test_outsiders_get_404_and_read_only_roles_403(actors: Actors, child: Child) -> None:
    for user in ("other_village_director", "other_county_admin"):
        assert _post(actors, _body(child), user=user).status_code == 404
    for user in ("department_officer", "reporter"):
        assert _post(actors, _body(child), user=user).status_code == 404
    assert _post(actors, _body(child), user="auditor").status_code == 403
    assert not Contact.objects.exists()


# --- a child's contacts ----------------------------------------------------------------------


def test_it_lists_a_childs_contacts_with_no_id_number(actors: Actors) -> None:
    number = idcard.generate(
        random.Random(77), region="620724", birth_date=date(2014, 5, 1), gender="male"
    )
    child = make_family(actors, id_number=number)
    sibling = add_sibling(actors, child)
    services.contact_record(
        actor=actors.village_director,
        household=child.household,
        children=[sibling],
        fields={"kind": "home_visit", "day": date(2024, 5, 20), **VISITED},
    )
    mine = services.contact_record(
        actor=actors.village_director,
        household=child.household,
        children=[child],
        fields={"kind": "phone", "day": date(2024, 6, 3), **REACHED},
    ).contact
    services.addendum_add(actor=actors.town_supervisor, contact=mine, text="督导员补记")
    services.contact_record(
        actor=actors.village_director,
        household=child.household,
        children=[sibling],
        fields={"kind": "phone", "day": date(2024, 6, 4), **REACHED},
    )
    response = api_client(actors.auditor).get(reverse("api:child_contacts", args=[child.public_id]))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [c["kind"] for c in body["results"]] == ["phone", "home_visit"]
    assert body["results"][0]["addenda"][0]["text"] == "督导员补记"
    text = response.content.decode()
    assert number not in text
    assert idcard.mask(number) not in text
    assert "王小明" not in text
    assert AuditEvent.objects.filter(
        action="child.view", object_code=str(child.public_id), actor=actors.auditor
    ).exists()


def test_the_list_takes_a_constant_number_of_queries(
    actors: Actors, child: Child, django_assert_max_num_queries: Any
) -> None:
    url = reverse("api:child_contacts", args=[child.public_id])
    client = api_client(actors.village_director)
    for n in range(6):
        contact = services.contact_record(
            actor=actors.village_director,
            household=child.household,
            children=[child],
            fields={
                "kind": "phone",
                "day": date(2024, 5, 1 + n),
                "check_health": "concern",
                **REACHED,
            },
            problems=[services.ProblemInput(checklist_item="check_health", description="咳嗽")],
        ).contact
        services.addendum_add(actor=actors.town_supervisor, contact=contact, text="补记")
    # Two of them move the audit trail's chain head (decision 016).
    with django_assert_max_num_queries(14):
        assert client.get(url).json()["count"] == 6


def test_outsiders_do_not_see_the_list(actors: Actors, child: Child) -> None:
    url = reverse("api:child_contacts", args=[child.public_id])
    for user in ("other_village_director", "department_officer", "other_county_admin"):
        assert api_client(getattr(actors, user)).get(url).status_code == 404


# --- correcting ------------------------------------------------------------------------------


def _recorded(actors: Actors, child: Child) -> str:
    return str(_post(actors, _body(child)).json()["id"])


def test_the_author_patches_with_if_match(actors: Actors, child: Child) -> None:
    code = _recorded(actors, child)
    client = api_client(actors.village_director)
    got = client.get(_detail(code))
    assert got.status_code == 200
    assert got["ETag"] == '"1"'
    missing = client.patch(_detail(code), {"notes": "x"}, format="json")
    assert missing.status_code == 428
    ok = client.patch(
        _detail(code), {"kind": "video", "notes": "改为视频"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert ok.status_code == 200, ok.content
    assert ok["ETag"] == '"2"'
    assert ok.json()["kind"] == "video"
    assert ok.json()["check_safety"] == "not_seen"  # unsent fields stay as they were
    stale = client.patch(_detail(code), {"notes": "y"}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    assert {c["field"] for c in stale.json()["changes"]} >= {"kind", "notes"}
    assert Contact.objects.get().notes == "改为视频"


def test_a_bad_patch_field_is_named(actors: Actors, child: Child) -> None:
    code = _recorded(actors, child)
    client = api_client(actors.village_director)
    for body, field in (({"kind": "fax"}, "kind"), ({"child": "x"}, "child")):
        response = client.patch(_detail(code), body, format="json", HTTP_IF_MATCH='"1"')
        assert response.status_code == 400
        assert field in response.json()


def test_only_the_author_patches_and_only_for_48_hours(actors: Actors, child: Child) -> None:
    code = _recorded(actors, child)
    body = {"notes": "x"}
    other = api_client(actors.town_supervisor).patch(
        _detail(code), body, format="json", HTTP_IF_MATCH='"1"'
    )
    assert other.status_code == 403
    auditor = api_client(actors.auditor).patch(
        _detail(code), body, format="json", HTTP_IF_MATCH='"1"'
    )
    assert auditor.status_code == 403
    outsider = api_client(actors.other_village_director).patch(
        _detail(code), body, format="json", HTTP_IF_MATCH='"1"'
    )
    assert outsider.status_code == 404
    Contact.objects.update(created_at=timezone.now() - timedelta(hours=49))
    late = api_client(actors.village_director).patch(
        _detail(code), body, format="json", HTTP_IF_MATCH='"1"'
    )
    assert late.status_code == 409
    assert Contact.objects.get().notes == ""


def test_reading_a_contact_is_audited(actors: Actors, child: Child) -> None:
    code = _recorded(actors, child)
    assert api_client(actors.county_admin).get(_detail(code)).status_code == 200
    assert AuditEvent.objects.filter(action="contact.view", object_code=code).count() == 1
    assert api_client(actors.other_town_director).get(_detail(code)).status_code == 404


def test_credits_follow_the_household_not_the_request(actors: Actors, child: Child) -> None:
    """A retried home visit does not credit the siblings twice."""
    add_sibling(actors, child)
    _post(actors, _body(child, kind="home_visit", **VISITED), key="hv")
    _post(actors, _body(child, kind="home_visit", **VISITED), key="hv")
    assert ContactCredit.objects.count() == 2


def test_the_schema_documents_the_endpoints(db: None) -> None:
    from django.test import Client

    schema = Client().get(reverse("schema"), {"format": "json"}).json()
    paths = schema["paths"]
    assert "post" in paths["/api/v1/contacts"]
    assert "Idempotency-Key" in str(paths["/api/v1/contacts"]["post"]["parameters"])
    assert "201" in paths["/api/v1/contacts"]["post"]["responses"]
    assert "200" in paths["/api/v1/contacts"]["post"]["responses"]
    assert "get" in paths["/api/v1/children/{public_id}/contacts"]
    patch = paths["/api/v1/contacts/{public_id}"]["patch"]
    assert {"409", "412", "428"} <= set(patch["responses"])
