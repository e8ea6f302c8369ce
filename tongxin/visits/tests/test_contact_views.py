"""Recording a contact in the browser (one screen on a phone), reading it with its addenda,
the author's correction within 48 hours (a stale version refused with what changed), the
addendum after, and the contacts, problems and risk sections of the child's file."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from tongxin.audit.models import AuditEvent
from tongxin.protection import problems
from tongxin.protection.models import Concern
from tongxin.registry.models import Child
from tongxin.testing import Actors, web_client
from tongxin.visits import services
from tongxin.visits.models import CHECKLIST_FIELDS, Contact, ContactCredit
from tongxin.visits.tests.conftest import REACHED, VISITED, add_sibling

pytestmark = pytest.mark.django_db

TODAY = "2024-06-03"


def _new_url(child: Child, **extra: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"child": str(child.public_id), **extra}.items())
    return f"{reverse('visits:contact_create')}?{query}"


def _post_data(**over: Any) -> dict[str, Any]:
    """What the phone sends for a plain monthly call (checklist: not seen, unless given)."""
    data: dict[str, Any] = {
        "kind": "phone",
        "day": TODAY,
        "time": "",
        "met_caregiver": "on",
        "notes": "",
        "latitude": "",
        "longitude": "",
        "idempotency_key": "key-1",
        **dict.fromkeys(CHECKLIST_FIELDS, "not_seen"),
    }
    for item in CHECKLIST_FIELDS:
        data[f"{item}_severity"] = "medium"
    data.update(over)
    return data


def _record(actors: Actors, child: Child, **over: Any) -> Contact:
    return services.contact_record(
        actor=over.pop("actor", actors.village_director),
        household=child.household,
        children=[child],
        fields={"kind": "phone", "day": date(2024, 6, 3), **REACHED, **over},
    ).contact


def _age(contact: Contact, hours: int) -> None:
    Contact.objects.filter(pk=contact.pk).update(created_at=timezone.now() - timedelta(hours=hours))
    contact.refresh_from_db()


# --- the form --------------------------------------------------------------------------------


def test_it_shows_the_whole_contact_on_one_form(actors: Actors, child: Child) -> None:
    sibling = add_sibling(actors, child)
    response = web_client(actors.village_director).get(_new_url(child))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('name="kind"') == 5
    assert 'type="radio" name="kind" value="phone"' in html
    assert re.search(r'value="phone"[^>]*checked', html)
    assert f'name="day" value="{timezone.localdate().isoformat()}"' in html
    for item in CHECKLIST_FIELDS:
        assert html.count(f'name="{item}"') == 3, item
        assert f'name="{item}_problem"' in html
    # A home visit names every sibling it counts for; a call may name a sibling too.
    assert "王小红" in html
    assert "王小明" in html
    assert f'name="also" value="{sibling.public_id}"' in html
    key = re.search(r'name="idempotency_key" value="([0-9a-f-]{36})"', html)
    assert key is not None
    assert "<script>" not in html
    assert "visits/contact_form.js" in html
    again = web_client(actors.village_director).get(_new_url(child)).content.decode()
    assert key.group(1) not in again


def test_it_records_a_phone_call_and_a_problem_from_a_concern(actors: Actors, child: Child) -> None:
    client = web_client(actors.village_director)
    response = client.post(
        _new_url(child),
        _post_data(
            check_safety="concern",
            check_safety_problem="屋后水渠无护栏",
            check_safety_solution="联系村委会加装护栏",
            check_safety_due_on="2024-06-30",
            check_safety_severity="high",
            check_health="good",
            notes="与祖母通话",
            latitude="39.376543219",
            longitude="99.8123456",
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:child_detail", args=[child.public_id]) + (
        "#contacts"
    )
    contact = Contact.objects.get()
    assert (contact.kind, contact.day, contact.author) == (
        "phone",
        date(2024, 6, 3),
        actors.village_director,
    )
    assert contact.met_caregiver
    assert not contact.met_child
    assert (contact.check_safety, contact.check_health, contact.check_mood) == (
        "concern",
        "good",
        "not_seen",
    )
    assert str(contact.latitude) == "39.376543"
    concern = Concern.objects.get()
    assert (concern.child, concern.contact, concern.severity) == (child, contact, "high")
    assert concern.owner == actors.village_director
    assert concern.due_on == date(2024, 6, 30)
    followed = client.get(response["Location"]).content.decode()
    with translation.override("zh-hans"):
        assert gettext("Contact recorded.") in followed


def test_a_double_submit_records_once(actors: Actors, child: Child) -> None:
    client = web_client(actors.village_director)
    first = client.post(_new_url(child), _post_data(idempotency_key="same"))
    second = client.post(_new_url(child), _post_data(idempotency_key="same"))
    assert first.status_code == second.status_code == 302
    assert Contact.objects.count() == 1
    messages = [str(m) for m in second.wsgi_request._messages]  # type: ignore[attr-defined]
    with translation.override("zh-hans"):
        assert messages == [
            gettext("Contact recorded."),
            gettext("This contact was already recorded."),
        ]


def test_a_home_visit_counts_for_every_sibling(actors: Actors, child: Child) -> None:
    sibling = add_sibling(actors, child)
    response = web_client(actors.village_director).post(
        _new_url(child),
        _post_data(kind="home_visit", met_child="on", check_living="good", check_safety="good"),
    )
    assert response.status_code == 302
    contact = Contact.objects.get()
    credited = set(ContactCredit.objects.filter(contact=contact).values_list("child", flat=True))
    assert credited == {child.pk, sibling.pk}


def test_a_call_may_also_be_about_a_sibling(actors: Actors, child: Child) -> None:
    sibling = add_sibling(actors, child)
    add_sibling(actors, child, name="王小刚")
    web_client(actors.village_director).post(
        _new_url(child), _post_data(also=[str(sibling.public_id)])
    )
    credited = set(ContactCredit.objects.values_list("child", flat=True))
    assert credited == {child.pk, sibling.pk}


def test_a_problem_needs_its_item_marked_concern(actors: Actors, child: Child) -> None:
    response = web_client(actors.village_director).post(
        _new_url(child), _post_data(check_safety="good", check_safety_problem="水渠无护栏")
    )
    assert response.status_code == 200
    assert "field-error" in response.content.decode()
    assert not Contact.objects.exists()
    assert not Concern.objects.exists()


def test_a_future_date_is_refused_in_chinese(actors: Actors, child: Child) -> None:
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = web_client(actors.village_director).post(_new_url(child), _post_data(day=tomorrow))
    assert response.status_code == 200
    assert "在今天之后" in response.content.decode()
    assert not Contact.objects.exists()


def test_it_goes_back_to_the_page_it_came_from_when_safe(actors: Actors, child: Child) -> None:
    client = web_client(actors.village_director)
    back = client.post(_new_url(child, next="/visits/worklog/"), _post_data(idempotency_key="a"))
    assert back["Location"] == "/visits/worklog/"
    away = client.post(
        _new_url(child, next="https://example.com/"), _post_data(idempotency_key="b")
    )
    assert away["Location"].startswith(reverse("registry:child_detail", args=[child.public_id]))


def test_all_good_sets_every_item_left_not_seen_without_a_script(
    actors: Actors, child: Child
) -> None:
    """The "all good" choice works on the server too: the items left "not seen" become good,
    one changed by hand (a concern) stays as chosen."""
    page = web_client(actors.village_director).get(_new_url(child)).content.decode()
    assert 'type="checkbox" name="all_good"' in page
    with translation.override("zh-hans"):
        assert gettext("All good") in page
    response = web_client(actors.village_director).post(
        _new_url(child), _post_data(all_good="on", check_mood="concern")
    )
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert {item: getattr(contact, item) for item in CHECKLIST_FIELDS} == {
        **dict.fromkeys(CHECKLIST_FIELDS, "good"),
        "check_mood": "concern",
    }


def test_the_kind_asked_for_is_chosen_when_the_form_opens(actors: Actors, child: Child) -> None:
    client = web_client(actors.village_director)
    for asked, chosen in (("home_visit", "home_visit"), ("letter", "phone"), ("", "phone")):
        form = client.get(_new_url(child, kind=asked)).context["form"]
        assert form["kind"].value() == chosen, asked


def test_a_bad_child_code_is_not_found(actors: Actors) -> None:
    client = web_client(actors.village_director)
    assert client.get(reverse("visits:contact_create")).status_code == 404
    assert client.get(reverse("visits:contact_create") + "?child=nope").status_code == 404


# --- reading, correcting, adding -------------------------------------------------------------


def test_the_detail_shows_the_contact_and_audits_the_read(actors: Actors, child: Child) -> None:
    contact = _record(actors, child, check_mood="concern", notes="情绪低落")
    services.addendum_add(actor=actors.town_supervisor, contact=contact, text="督导员回访")
    url = reverse("visits:contact_detail", args=[contact.public_id])
    html = web_client(actors.auditor).get(url).content.decode()
    assert "情绪低落" in html
    assert "督导员回访" in html
    assert "王小明" in html
    assert AuditEvent.objects.filter(
        action="contact.view", object_code=str(contact.public_id), actor=actors.auditor
    ).exists()
    # The auditor reads only: neither an edit link nor an addendum form.
    assert reverse("visits:contact_edit", args=[contact.public_id]) not in html
    assert reverse("visits:contact_addendum", args=[contact.public_id]) not in html


def test_the_author_gets_the_edit_link_for_48_hours_then_the_addendum(
    actors: Actors, child: Child
) -> None:
    contact = _record(actors, child)
    url = reverse("visits:contact_detail", args=[contact.public_id])
    edit = reverse("visits:contact_edit", args=[contact.public_id])
    add = reverse("visits:contact_addendum", args=[contact.public_id])
    director = web_client(actors.village_director)
    html = director.get(url).content.decode()
    assert edit in html
    assert add not in html
    # Someone else with the file in scope adds an addendum from the start.
    other = web_client(actors.town_supervisor).get(url).content.decode()
    assert edit not in other
    assert add in other
    _age(contact, 49)
    html = director.get(url).content.decode()
    assert edit not in html
    assert add in html


def test_the_author_corrects_the_contact_within_the_window(actors: Actors, child: Child) -> None:
    contact = _record(actors, child)
    client = web_client(actors.village_director)
    url = reverse("visits:contact_edit", args=[contact.public_id])
    form = client.get(url).content.decode()
    assert 'name="version" value="1"' in form
    assert 'name="idempotency_key"' not in form
    assert "_problem" not in form
    response = client.post(url, _post_data(kind="video", notes="改为视频", version="1"))
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.kind, contact.notes, contact.version) == ("video", "改为视频", 2)


def test_a_stale_edit_is_refused_with_what_changed(actors: Actors, child: Child) -> None:
    contact = _record(actors, child)
    services.contact_update(
        actor=actors.village_director, contact=contact, version=1, changes={"kind": "video"}
    )
    response = web_client(actors.village_director).post(
        reverse("visits:contact_edit", args=[contact.public_id]),
        _post_data(notes="我的修改", version="1"),
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert 'id="stale"' in html
    assert "视频" in html  # what the other save changed
    assert 'name="version" value="2"' in html
    assert "我的修改" in html
    contact.refresh_from_db()
    assert (contact.notes, contact.version) == ("", 2)


def test_after_48_hours_the_edit_is_closed(actors: Actors, child: Child) -> None:
    contact = _record(actors, child)
    _age(contact, 49)
    client = web_client(actors.village_director)
    url = reverse("visits:contact_edit", args=[contact.public_id])
    assert client.get(url).status_code == 302
    response = client.post(url, _post_data(notes="晚了", version="1"))
    assert response.status_code == 302
    assert response["Location"].endswith("#addenda")
    contact.refresh_from_db()
    assert contact.notes == ""


def test_only_the_author_edits(actors: Actors, child: Child) -> None:
    contact = _record(actors, child)
    url = reverse("visits:contact_edit", args=[contact.public_id])
    assert web_client(actors.town_supervisor).get(url).status_code == 403
    assert web_client(actors.county_admin).post(url, _post_data(version="1")).status_code == 403


def test_an_addendum_is_added_and_an_empty_one_refused(actors: Actors, child: Child) -> None:
    contact = _record(actors, child)
    _age(contact, 49)
    client = web_client(actors.village_director)
    url = reverse("visits:contact_addendum", args=[contact.public_id])
    assert client.post(url, {"text": "  "}).status_code == 200
    response = client.post(url, {"text": "家长已回电"})
    assert response.status_code == 302
    assert [a.text for a in contact.addenda.all()] == ["家长已回电"]


# --- the child's file ------------------------------------------------------------------------


def _file(actors: Actors, child: Child, user: str = "village_director") -> str:
    url = reverse("registry:child_detail", args=[child.public_id])
    return str(web_client(getattr(actors, user)).get(url).content.decode())


def test_the_file_lists_contacts_work_log_problems_and_risk(actors: Actors, child: Child) -> None:
    sibling = add_sibling(actors, child)
    # A home visit recorded from the sibling's file counts for this child too; the problem
    # found is this child's (named: by default it would be the sibling's).
    services.contact_record(
        actor=actors.village_director,
        household=child.household,
        children=[sibling],
        fields={
            "kind": "home_visit",
            "day": date(2024, 5, 20),
            **VISITED,
            "check_safety": "concern",
        },
        problems=[
            services.ProblemInput(
                checklist_item="check_safety",
                description="屋后水渠无护栏",
                severity="high",
                children=(child,),
            )
        ],
    )
    services.worklog_record(
        actor=actors.village_director,
        fields={"day": date(2024, 5, 25), "kind": "meeting", "title": "村两委例会"},
        children=[child],
    )
    html = _file(actors, child)
    contacts = html[html.index('id="contacts"') : html.index('id="risk"')]
    timeline = contacts[contacts.index('class="timeline"') :]
    assert "入户走访" in timeline
    assert "村两委例会" in timeline
    assert timeline.index("村两委例会") < timeline.index("入户走访")  # newest first
    assert f"{reverse('visits:contact_create')}?child={child.public_id}" in contacts
    risk = html[html.index('id="risk"') : html.index('id="problems"')]
    assert "tag-high" in risk
    assert "有1个高严重程度的问题尚未解决" in risk
    assert "父母均外出务工满12个月" in risk
    problems = html[html.index('id="problems"') : html.index('id="history"')]
    assert "屋后水渠无护栏" in problems


def test_the_file_shows_the_computed_level_beside_an_override(actors: Actors, child: Child) -> None:
    services.risk_override_set(
        actor=actors.town_supervisor,
        child=child,
        level="high",
        until=timezone.localdate() + timedelta(days=30),
        reason="家中有变故",
    )
    html = _file(actors, child)
    risk = html[html.index('id="risk"') : html.index('id="problems"')]
    assert "家中有变故" in risk
    assert "tag-high" in risk
    assert "计算" in risk


def test_read_only_roles_get_no_record_button(actors: Actors, child: Child) -> None:
    assert 'id="record-contact"' in _file(actors, child, "town_supervisor")
    assert 'id="record-contact"' not in _file(actors, child, "auditor")


def test_the_file_sections_take_a_constant_number_of_queries(actors: Actors, child: Child) -> None:
    url = reverse("registry:child_detail", args=[child.public_id])
    client = web_client(actors.village_director)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    _record(actors, child)
    base = count()
    for n in range(4):
        contact = _record(actors, child, day=date(2024, 5, 1 + n), check_health="concern")
        services.addendum_add(actor=actors.town_supervisor, contact=contact, text="补记")
        services.worklog_record(
            actor=actors.village_director,
            fields={"day": date(2024, 5, 2 + n), "kind": "activity", "title": f"活动{n}"},
            children=[child],
        )
        problems.problem_raise(
            actor=actors.village_director,
            child=child,
            fields={"category": "health", "description": f"问题{n}"},
        )
    assert count() == base
