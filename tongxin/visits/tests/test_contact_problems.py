"""A problem found during a contact belongs to the child(ren) it is about (issue 10): a dropout
problem written on the 13-year-old's home visit is not filed against his 9-year-old brother.
The form asks which children (the household's, ticked: the child of the form), the API takes
their codes (by default the contact's child); each must be a child the contact counts for.
The problems are written by protection's service, with their audit entries."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from tongxin.audit.models import AuditEvent
from tongxin.protection import services as protection
from tongxin.protection.models import Concern
from tongxin.registry import services as registry
from tongxin.registry.models import Child
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors, api_client, web_client
from tongxin.visits import services
from tongxin.visits.models import CHECKLIST_FIELDS, Contact
from tongxin.visits.tests.conftest import REACHED, VISITED

pytestmark = pytest.mark.django_db

NOT_CREDITED = "A problem can be about a child this contact counts for only."


@pytest.fixture
def brothers(actors: Actors) -> tuple[Child, Child]:
    """A 13-year-old who dropped out and his 9-year-old brother, who is in school."""
    elder = make_family(actors, name="王大明", birth_date=date(2011, 3, 1))
    younger = registry.child_register(
        actor=actors.county_admin,
        household=elder.household,
        fields={
            "name": "王小亮",
            "gender": "male",
            "birth_date": date(2015, 9, 1),
            "registered_on": elder.registered_on,
            "id_missing_reason": "not_registered",
        },
    ).child
    return elder, younger


def _concerns() -> set[tuple[str, str]]:
    return set(Concern.objects.values_list("child__name", "checklist_item"))


# --- the form --------------------------------------------------------------------------------


def _form(elder: Child, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "home_visit",
        "day": "2024-06-03",
        "met_child": "on",
        "idempotency_key": "visit-1",
        **dict.fromkeys(CHECKLIST_FIELDS, "good"),
        **{f"{item}_severity": "medium" for item in CHECKLIST_FIELDS},
        "check_schooling": "concern",
        "check_schooling_problem": "初一辍学在家，已两周未到校",
        "check_schooling_solution": "联系学校劝返",
    }
    return data | over


def _url(child: Child) -> str:
    return f"{reverse('visits:contact_create')}?child={child.public_id}"


def test_the_form_files_a_home_visits_problem_against_its_child_only(
    actors: Actors, brothers: tuple[Child, Child]
) -> None:
    elder, younger = brothers
    client = web_client(actors.village_director)
    page = client.get(_url(elder)).content.decode()
    # Each problem asks which children; the child of the form is ticked.
    assert f'name="check_schooling_children" value="{elder.public_id}"' in page
    assert f'name="check_schooling_children" value="{younger.public_id}"' in page
    form = client.get(_url(elder)).context["form"]
    assert form["check_schooling_children"].value() == [elder.public_id]
    response = client.post(
        _url(elder), _form(elder, check_schooling_children=[str(elder.public_id)])
    )
    assert response.status_code == 302
    contact = Contact.objects.get()
    # The visit counts for both brothers; the dropout problem is the elder's alone.
    assert set(contact.credits.values_list("child__name", flat=True)) == {"王大明", "王小亮"}
    assert _concerns() == {("王大明", "check_schooling")}


def test_each_problem_is_filed_for_the_children_ticked(
    actors: Actors, brothers: tuple[Child, Child]
) -> None:
    elder, younger = brothers
    response = web_client(actors.village_director).post(
        _url(elder),
        _form(
            elder,
            check_schooling="good",
            check_schooling_problem="",
            check_schooling_solution="",
            check_safety="concern",
            check_safety_problem="屋后水渠无护栏",
            check_safety_children=[str(elder.public_id), str(younger.public_id)],
            check_mood="concern",
            check_mood_problem="弟弟想念父母，常哭",
            check_mood_children=[str(younger.public_id)],
        ),
    )
    assert response.status_code == 302
    assert _concerns() == {
        ("王大明", "check_safety"),
        ("王小亮", "check_safety"),
        ("王小亮", "check_mood"),
    }


def test_a_problem_with_no_child_ticked_is_refused_keeping_the_input(
    actors: Actors, brothers: tuple[Child, Child], child: Child
) -> None:
    elder, _younger = brothers
    client = web_client(actors.village_director)
    response = client.post(_url(elder), _form(elder))
    assert response.status_code == 200
    with translation.override("zh-hans"):
        expected = gettext("Choose the child the problem is about.")
    assert response.context["form"].errors["check_schooling_children"] == [expected]
    assert "初一辍学在家" in response.content.decode()
    assert not Contact.objects.exists()
    # An only child's form does not ask: the problem is the child's.
    assert "check_schooling_children" not in client.get(_url(child)).content.decode()
    assert client.post(_url(child), _form(child)).status_code == 302
    assert _concerns() == {("王小明", "check_schooling")}


def test_a_call_cannot_file_a_problem_for_a_brother_it_is_not_about(
    actors: Actors, brothers: tuple[Child, Child]
) -> None:
    elder, younger = brothers
    response = web_client(actors.village_director).post(
        _url(elder),
        _form(
            elder,
            kind="phone",
            check_schooling_children=[str(younger.public_id)],
        ),
    )
    assert response.status_code == 200
    with translation.override("zh-hans"):
        expected = gettext(NOT_CREDITED)
    assert response.context["form"].errors["check_schooling_children"] == [expected]
    assert not Contact.objects.exists()
    assert not Concern.objects.exists()


# --- the API ---------------------------------------------------------------------------------


def _body(child: Child, *problems: dict[str, Any], **over: Any) -> dict[str, Any]:
    return {
        "child": str(child.public_id),
        "kind": "home_visit",
        "day": "2024-06-03",
        **VISITED,
        "check_schooling": "concern",
        "problems": [
            {"checklist_item": "check_schooling", "description": "初一辍学在家", **p}
            for p in problems
        ],
    } | over


def _post(actors: Actors, body: dict[str, Any]) -> Any:
    return api_client(actors.village_director).post("/api/v1/contacts", body, format="json")


def test_the_api_files_a_problem_against_the_contacts_child_by_default(
    actors: Actors, brothers: tuple[Child, Child]
) -> None:
    elder, younger = brothers
    response = _post(actors, _body(elder, {}))
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body["children"]) == {str(elder.public_id), str(younger.public_id)}
    assert [p["child"] for p in body["problems"]] == [str(elder.public_id)]
    assert _concerns() == {("王大明", "check_schooling")}


def test_the_api_files_a_problem_against_the_children_it_names(
    actors: Actors, brothers: tuple[Child, Child]
) -> None:
    elder, younger = brothers
    response = _post(actors, _body(elder, {"children": [str(younger.public_id)]}))
    assert response.status_code == 201, response.content
    assert _concerns() == {("王小亮", "check_schooling")}


@pytest.mark.parametrize(
    "whom",
    [
        pytest.param("stranger", id="another-household"),
        pytest.param("brother-not-called-about", id="not-credited-by-a-call"),
        pytest.param("nonsense", id="not-a-code"),
    ],
)
def test_the_api_refuses_a_problem_about_a_child_the_contact_does_not_count_for(
    actors: Actors, brothers: tuple[Child, Child], whom: str
) -> None:
    elder, younger = brothers
    kind = "home_visit"
    if whom == "stranger":
        code: str = str(make_family(actors, name="李四").public_id)
    elif whom == "brother-not-called-about":
        code, kind = str(younger.public_id), "phone"
    else:
        code = "not-a-code"
    response = _post(actors, _body(elder, {}, {"children": [code]}, kind=kind))
    assert response.status_code == 400, response.content
    # Named by its position in the list, as the serializer names a list's errors.
    errors = response.json()["problems"]
    assert list(errors) == ["1"]
    if whom == "nonsense":
        assert list(errors["1"]["children"]) == ["0"]  # the code that is not one
    else:
        with translation.override("zh-hans"):
            assert errors["1"] == {"children": [gettext(NOT_CREDITED)]}
    assert not Contact.objects.exists()
    assert not Concern.objects.exists()


# --- protection's service --------------------------------------------------------------------


def test_protection_writes_the_problems_with_their_audit_and_checks_the_author(
    actors: Actors, brothers: tuple[Child, Child]
) -> None:
    elder, _younger = brothers
    contact = services.contact_record(
        actor=actors.village_director,
        household=elder.household,
        children=[elder],
        fields={"kind": "phone", "day": date(2024, 6, 3), **REACHED, "check_mood": "concern"},
    ).contact
    problem = protection.ContactProblem(
        children=[elder], checklist_item="check_mood", category="psychological", description="x"
    )
    with pytest.raises(PermissionDenied):
        protection.contact_problems_raise(
            actor=actors.other_village_director, contact=contact, problems=[problem]
        )
    stranger = make_family(actors, name="李四")
    with pytest.raises(ValueError, match="household"):
        protection.contact_problems_raise(
            actor=actors.village_director,
            contact=contact,
            problems=[
                protection.ContactProblem(
                    children=[stranger],
                    checklist_item="check_mood",
                    category="psychological",
                    description="x",
                )
            ],
        )
    [concern] = protection.contact_problems_raise(
        actor=actors.village_director, contact=contact, problems=[problem]
    )
    assert (concern.child, concern.contact, concern.created_by) == (
        elder,
        contact,
        actors.village_director,
    )
    event = AuditEvent.objects.get(action="concern.raise", object_code=str(concern.public_id))
    assert event.detail["contact"] == str(contact.public_id)
    assert "x" not in event.detail.values()
