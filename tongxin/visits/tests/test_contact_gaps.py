"""What a contact must record to count (issue 10): whom it reached; for a home visit, that the
child was seen or why not, and the living conditions and safety looked at; a date the child
could have been contacted on. One rule (``rules.contact_gaps`` and ``services.contact_errors``)
for the services, the form and the API, each refusing with the field named, in Chinese."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from tongxin.registry.models import Child
from tongxin.testing import Actors, api_client, web_client
from tongxin.visits import rules, services
from tongxin.visits.models import CHECKLIST_FIELDS, Contact, ContactCredit
from tongxin.visits.tests.conftest import REACHED, VISITED, add_sibling

Gap = rules.ContactGap
NOBODY = "Say whom the contact reached: the child, the caregiver or a parent."
CHILD_NOT_SEEN = (
    "A home visit records that the child was seen, or why not: tick the child or give the reason."
)
LIVING = "A home visit records the living conditions: choose good or concern."
SAFETY = "A home visit records the safety items: choose good or concern."


def _zh(message: str) -> str:
    with translation.override("zh-hans"):
        return gettext(message)


# --- the rule --------------------------------------------------------------------------------


def _gaps(kind: str = "phone", *, reason: str = "", **given: Any) -> dict[str, Gap]:
    met = {
        name: bool(given.pop(name, False)) for name in ("met_child", "met_caregiver", "met_parent")
    }
    return rules.contact_gaps(kind=kind, child_not_seen_reason=reason, checks=given, **met)


@pytest.mark.parametrize(
    ("kind", "given", "expected"),
    [
        pytest.param("phone", {}, {"met_child": Gap.NOBODY_REACHED}, id="call-nobody-reached"),
        pytest.param("video", {}, {"met_child": Gap.NOBODY_REACHED}, id="video-nobody-reached"),
        pytest.param("phone", {"met_caregiver": True}, {}, id="call-caregiver"),
        pytest.param("phone", {"met_parent": True}, {}, id="call-parent"),
        pytest.param("school_visit", {"met_child": True}, {}, id="school-visit-child"),
        pytest.param(
            "home_visit",
            {},
            {
                "met_child": Gap.NOBODY_REACHED,
                "child_not_seen_reason": Gap.CHILD_NOT_SEEN,
                "check_living": Gap.LIVING_NOT_SEEN,
                "check_safety": Gap.SAFETY_NOT_SEEN,
            },
            id="visit-empty",
        ),
        pytest.param(
            "home_visit",
            {"met_child": True, "check_living": "good", "check_safety": "concern"},
            {},
            id="visit-child-seen-checks-done",
        ),
        pytest.param(
            "home_visit",
            {"met_caregiver": True, "check_living": "good", "check_safety": "good"},
            {"child_not_seen_reason": Gap.CHILD_NOT_SEEN},
            id="visit-child-not-seen-no-reason",
        ),
        pytest.param(
            "home_visit",
            {
                "met_caregiver": True,
                "reason": "在校住宿",
                "check_living": "good",
                "check_safety": "good",
            },
            {},
            id="visit-child-not-seen-with-reason",
        ),
        pytest.param(
            "home_visit",
            {"met_caregiver": True, "reason": "  ", "check_living": "good", "check_safety": "good"},
            {"child_not_seen_reason": Gap.CHILD_NOT_SEEN},
            id="visit-blank-reason",
        ),
        pytest.param(
            "home_visit",
            {"met_child": True, "check_living": "not_seen", "check_safety": "good"},
            {"check_living": Gap.LIVING_NOT_SEEN},
            id="visit-living-not-seen",
        ),
        pytest.param(
            "home_visit",
            {"met_child": True, "check_living": "good", "check_health": "good"},
            {"check_safety": Gap.SAFETY_NOT_SEEN},
            id="visit-safety-missing",
        ),
    ],
)
def test_the_rule_names_what_a_contact_lacks(
    kind: str, given: dict[str, Any], expected: dict[str, Gap]
) -> None:
    given = dict(given)
    assert _gaps(kind, reason=given.pop("reason", ""), **given) == expected


# --- the services ----------------------------------------------------------------------------


def _record(actors: Actors, child: Child, **fields: Any) -> services.Recorded:
    return services.contact_record(
        actor=actors.village_director,
        household=child.household,
        children=fields.pop("children", [child]),
        fields={"kind": "phone", "day": date(2024, 6, 3), **fields},
    )


@pytest.mark.django_db
def test_an_empty_contact_is_refused_and_counts_for_nothing(actors: Actors, child: Child) -> None:
    with pytest.raises(ValidationError) as refused:
        _record(actors, child, **dict.fromkeys(CHECKLIST_FIELDS, "not_seen"))
    assert list(refused.value.message_dict) == ["met_child"]
    assert not Contact.objects.exists()
    assert not ContactCredit.objects.exists()


@pytest.mark.django_db
def test_a_home_visit_names_the_child_seen_or_why_not_and_the_two_checks(
    actors: Actors, child: Child
) -> None:
    with pytest.raises(ValidationError) as refused:
        _record(actors, child, kind="home_visit", met_caregiver=True)
    assert set(refused.value.message_dict) == {
        "child_not_seen_reason",
        "check_living",
        "check_safety",
    }
    visit = _record(
        actors,
        child,
        kind="home_visit",
        met_caregiver=True,
        child_not_seen_reason="孩子在县城住校",
        check_living="good",
        check_safety="concern",
    ).contact
    assert visit.child_not_seen_reason == "孩子在县城住校"
    assert ContactCredit.objects.filter(contact=visit, child=child, home_visit=True).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "day",
    [
        pytest.param(date(1, 1, 1), id="year-1"),
        pytest.param(date(2014, 4, 30), id="the-day-before-birth"),
    ],
)
def test_a_contact_before_the_childs_birth_is_refused(
    actors: Actors, child: Child, day: date
) -> None:
    with pytest.raises(ValidationError) as refused:
        _record(actors, child, day=day, **REACHED)
    assert list(refused.value.message_dict) == ["day"]
    assert not Contact.objects.exists()
    # On the day of the birth it is possible (a visit to the newborn's family).
    assert _record(actors, child, day=child.birth_date, **REACHED).created


@pytest.mark.django_db
def test_a_sibling_born_after_the_contact_is_not_credited_but_its_own_form_refuses(
    actors: Actors, child: Child
) -> None:
    younger = add_sibling(actors, child)  # born 2016-03-01
    call = _record(actors, child, day=date(2015, 6, 1), children=[child, younger], **REACHED)
    credited = set(
        ContactCredit.objects.filter(contact=call.contact).values_list("child", flat=True)
    )
    assert credited == {child.pk}
    with pytest.raises(ValidationError) as refused:
        _record(actors, younger, day=date(2015, 6, 1), children=[younger, child], **REACHED)
    assert "day" in refused.value.message_dict


@pytest.mark.django_db
def test_a_correction_may_not_empty_a_contact_nor_move_it_before_the_birth(
    actors: Actors, child: Child
) -> None:
    contact = _record(actors, child, **REACHED).contact
    for changes, field in (
        ({"met_caregiver": False}, "met_child"),
        ({"kind": "home_visit"}, "check_living"),
        ({"day": date(2001, 1, 1)}, "day"),
    ):
        with pytest.raises(ValidationError) as refused:
            services.contact_update(
                actor=actors.village_director, contact=contact, version=1, changes=changes
            )
        assert field in refused.value.message_dict, changes
    contact.refresh_from_db()
    assert (contact.version, contact.met_caregiver, contact.kind) == (1, True, "phone")


# --- the form --------------------------------------------------------------------------------


def _new_url(child: Child) -> str:
    return f"{reverse('visits:contact_create')}?child={child.public_id}"


def _untouched(**over: Any) -> dict[str, Any]:
    """The form as the phone sends it when nothing was tapped: today, a phone call, nobody
    ticked, every check "not seen"."""
    data: dict[str, Any] = {
        "kind": "phone",
        "day": timezone.localdate().isoformat(),
        "time": "",
        "notes": "",
        "latitude": "",
        "longitude": "",
        "idempotency_key": "untouched",
        **dict.fromkeys(CHECKLIST_FIELDS, "not_seen"),
        **{f"{item}_severity": "medium" for item in CHECKLIST_FIELDS},
    }
    return data | over


@pytest.mark.django_db
def test_the_untouched_form_is_refused_saying_who_is_missing(actors: Actors, child: Child) -> None:
    response = web_client(actors.village_director).post(
        _new_url(child), _untouched(notes="打了两次电话")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert _zh(NOBODY) in html
    # On the "who was met" fieldset, and the input kept.
    met = html[html.index('class="met-fields"') : html.index('class="checklist"')]
    assert _zh(NOBODY) in met
    assert "打了两次电话" in html
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_a_bare_home_visit_is_refused_item_by_item_keeping_the_input(
    actors: Actors, child: Child
) -> None:
    response = web_client(actors.village_director).post(
        _new_url(child),
        _untouched(kind="home_visit", met_caregiver="on", check_health="good", notes="院子很乱"),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["child_not_seen_reason"] == [_zh(CHILD_NOT_SEEN)]
    assert form.errors["check_living"] == [_zh(LIVING)]
    assert form.errors["check_safety"] == [_zh(SAFETY)]
    assert "met_child" not in form.errors
    html = response.content.decode()
    for message in (CHILD_NOT_SEEN, LIVING, SAFETY):
        assert _zh(message) in html
    assert "院子很乱" in html
    assert (form["kind"].value(), form["check_health"].value()) == ("home_visit", "good")
    assert not Contact.objects.exists()
    # With the reason given and the two checks done, it counts.
    response = web_client(actors.village_director).post(
        _new_url(child),
        _untouched(
            kind="home_visit",
            met_caregiver="on",
            child_not_seen_reason="孩子在校",
            check_living="good",
            check_safety="good",
        ),
    )
    assert response.status_code == 302
    assert Contact.objects.get().child_not_seen_reason == "孩子在校"


@pytest.mark.django_db
def test_the_form_refuses_a_date_before_the_birth_in_chinese(actors: Actors, child: Child) -> None:
    response = web_client(actors.village_director).post(
        _new_url(child), _untouched(day="0001-01-01", met_caregiver="on")
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["day"]
    assert len(errors) == 1
    assert "早于儿童出生日期" in errors[0]
    assert "2014年5月1日" in errors[0]
    assert 'value="0001-01-01"' in response.content.decode()
    assert not Contact.objects.exists()


# --- the API ---------------------------------------------------------------------------------

CREATE = "/api/v1/contacts"


def _post(actors: Actors, child: Child, **body: Any) -> Any:
    data = {"child": str(child.public_id), "kind": "phone", "day": "2024-06-03"} | body
    return api_client(actors.village_director).post(CREATE, data, format="json")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param({}, {"met_child"}, id="nobody-reached"),
        pytest.param(
            {"kind": "home_visit", "met_caregiver": True},
            {"child_not_seen_reason", "check_living", "check_safety"},
            id="bare-home-visit",
        ),
        pytest.param({"day": "0001-01-01", **REACHED}, {"day"}, id="year-1"),
        pytest.param({"day": "2014-04-30", **REACHED}, {"day"}, id="before-birth"),
    ],
)
def test_the_api_refuses_what_the_form_refuses(
    actors: Actors, child: Child, body: dict[str, Any], fields: set[str]
) -> None:
    response = _post(actors, child, **body)
    assert response.status_code == 400, response.content
    assert set(response.json()) == fields
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_the_api_records_the_reason_the_child_was_not_seen(actors: Actors, child: Child) -> None:
    response = _post(
        actors,
        child,
        kind="home_visit",
        met_parent=True,
        child_not_seen_reason="住院治疗",
        check_living="good",
        check_safety="good",
    )
    assert response.status_code == 201, response.content
    assert response.json()["child_not_seen_reason"] == "住院治疗"


@pytest.mark.django_db
def test_a_patch_that_empties_the_contact_or_dates_it_year_1_is_refused(
    actors: Actors, child: Child
) -> None:
    code = _post(actors, child, **VISITED, kind="home_visit").json()["id"]
    client = api_client(actors.village_director)
    url = reverse("api:contact_detail", args=[code])
    for body, field in (
        ({"met_child": False}, "met_child"),
        ({"check_safety": "not_seen"}, "check_safety"),
        ({"day": "0001-01-01"}, "day"),
    ):
        response = client.patch(url, body, format="json", HTTP_IF_MATCH='"1"')
        assert response.status_code == 400, body
        assert field in response.json(), body
    assert Contact.objects.get().version == 1
