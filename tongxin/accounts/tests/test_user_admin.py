"""Managing accounts: county and system administrators, inside their own division only."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from tongxin.accounts import services
from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.audit.models import AuditEvent
from tongxin.geo.models import Division
from tongxin.testing import Actors, signed_in, web_client

CREATE_URL = "/accounts/users/new/"


def _new_user(**changes: str) -> dict[str, str]:
    return {
        "username": "li_ming",
        "name": "李明",
        "phone": "",
        "role": "village_director",
        "division": "620724100202",
        "organisation": "",
        **changes,
    }


def _detail_url(user: User) -> str:
    return reverse("accounts:user_detail", args=[user.public_id])


def test_it_lets_a_county_admin_create_a_user(actors: Actors) -> None:
    client = web_client(actors.county_admin)
    form = client.get(CREATE_URL)
    assert form.status_code == 200
    assert 'name="username"' in form.content.decode()

    response = client.post(CREATE_URL, _new_user())
    assert response.status_code == 200
    created = User.objects.get(username="li_ming")
    assert (created.role, created.division_id, created.name) == (
        "village_director",
        "620724100202",
        "李明",
    )
    password = response.context["password"]
    assert password in response.content.decode()
    assert created.check_password(password)
    # One-time: the person replaces it at the first sign-in, and it expires.
    assert created.must_change_password
    assert created.one_time_password_expires_at == response.context["expires_at"]

    event = AuditEvent.objects.get(action="user.create")
    assert (event.actor, event.actor_role) == (actors.county_admin, "county_admin")
    assert (event.object_type, event.object_code) == ("user", str(created.public_id))
    assert event.division_code == "620724100202"
    assert event.detail == {"role": "village_director"}

    # Shown once: the account's page does not show it again.
    detail = client.get(_detail_url(created))
    assert detail.status_code == 200
    assert password not in detail.content.decode()


def test_it_offers_no_password_field_and_ignores_one_posted(actors: Actors) -> None:
    client = web_client(actors.county_admin)
    assert 'name="password"' not in client.get(CREATE_URL).content.decode()
    response = client.post(CREATE_URL, _new_user(password="Ruoshui-River-58"))
    assert response.status_code == 200
    created = User.objects.get(username="li_ming")
    assert not created.check_password("Ruoshui-River-58")
    assert created.check_password(response.context["password"])


def test_it_refuses_a_taken_username_whatever_its_case(actors: Actors) -> None:
    client = web_client(actors.county_admin)
    response = client.post(CREATE_URL, _new_user(username="Village_Director"))
    assert response.context["form"].errors["username"]
    assert User.objects.filter(username__iexact="village_director").count() == 1


def test_it_refuses_a_role_on_a_division_of_the_wrong_level(actors: Actors) -> None:
    client = web_client(actors.county_admin)
    response = client.post(CREATE_URL, _new_user(role="town_supervisor"))
    assert response.context["form"].errors["division"]
    assert not User.objects.filter(username="li_ming").exists()


def test_it_refuses_a_user_in_another_county(actors: Actors) -> None:
    client = web_client(actors.county_admin)
    response = client.post(CREATE_URL, _new_user(role="town_supervisor", division="620702100000"))
    assert response.status_code == 200
    assert response.context["form"].errors["division"]
    assert not User.objects.filter(username="li_ming").exists()
    # The form offers only the admin's own divisions, and the service checks again.
    offered = {d.code for d in response.context["form"].fields["division"].queryset}
    assert "620702100000" not in offered
    assert "620724100202" in offered
    with pytest.raises(ValidationError) as exc:
        services.user_create(
            actor=actors.county_admin,
            username="li_ming",
            role=Role.TOWN_SUPERVISOR,
            division=Division.objects.get(code="620702100000"),
        )
    assert set(exc.value.message_dict) == {"division"}
    assert not AuditEvent.objects.filter(action="user.create").exists()


def test_it_audits_a_role_change_with_the_old_and_new_role(actors: Actors) -> None:
    target = actors.other_village_director
    client = web_client(actors.county_admin)
    response = client.post(
        _detail_url(target),
        {
            "name": target.name,
            "role": "town_supervisor",
            "division": "620724101000",
            "is_active": "on",
        },
    )
    assert (response.status_code, response["Location"]) == (302, _detail_url(target))
    target.refresh_from_db()
    assert (target.role, target.division_id) == ("town_supervisor", "620724101000")
    event = AuditEvent.objects.get(action="user.role_change")
    assert event.actor == actors.county_admin
    assert event.object_code == str(target.public_id)
    assert event.detail == {
        "old_role": "village_director",
        "new_role": "town_supervisor",
        "old_division": "620724100202",
        "new_division": "620724101000",
    }
    update = AuditEvent.objects.get(action="user.update")
    assert update.detail == {"fields": ["division", "role"]}


def test_it_records_nothing_when_nothing_changes(actors: Actors) -> None:
    target = actors.other_village_director
    client = web_client(actors.county_admin)
    client.post(
        _detail_url(target),
        {
            "name": target.name,
            "role": target.role,
            "division": target.division_id,
            "is_active": "on",
        },
    )
    assert not AuditEvent.objects.exists()


def test_it_deactivates_an_account(actors: Actors) -> None:
    target = actors.other_village_director
    client = web_client(actors.county_admin)
    client.post(_detail_url(target), {"role": target.role, "division": target.division_id})
    target.refresh_from_db()
    assert not target.is_active
    assert not signed_in(web_client(target))


def test_it_refuses_to_change_the_admins_own_role(actors: Actors) -> None:
    admin = actors.county_admin
    client = web_client(admin)
    response = client.post(
        _detail_url(admin), {"role": "auditor", "division": admin.division_id, "is_active": "on"}
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    admin.refresh_from_db()
    assert admin.role == "county_admin"


def test_it_refuses_to_touch_an_account_outside_the_admins_division(actors: Actors) -> None:
    with pytest.raises(PermissionDenied):
        services.user_update(
            actor=actors.other_county_admin, user=actors.village_director, name="x"
        )
    assert not AuditEvent.objects.exists()


def test_it_answers_403_to_an_auditor_on_the_create_page(actors: Actors) -> None:
    client = web_client(actors.auditor)
    assert client.get(CREATE_URL).status_code == 403
    assert client.post(CREATE_URL, _new_user()).status_code == 403
    assert not User.objects.filter(username="li_ming").exists()


def test_it_lets_a_system_admin_manage_users_but_not_read_files_or_audit(actors: Actors) -> None:
    admin = actors.system_admin
    client = web_client(admin)
    listing = client.get(reverse("accounts:user_list"))
    assert listing.status_code == 200
    assert "village_director" in listing.content.decode()
    response = client.post(CREATE_URL, _new_user())
    assert response.status_code == 200
    assert User.objects.filter(username="li_ming").exists()
    assert client.get("/audit/").status_code == 404
    assert admin.reads_child_files is False
    assert admin.reads_audit is False


def test_it_lists_only_users_in_the_admins_division(actors: Actors) -> None:
    listing = web_client(actors.other_county_admin).get(reverse("accounts:user_list"))
    usernames = {u.username for u in listing.context["page"]}
    assert usernames == {"other_county_admin"}


def test_it_filters_the_user_list(actors: Actors) -> None:
    client = web_client(actors.county_admin)
    page = client.get(reverse("accounts:user_list"), {"role": "village_director"}).context["page"]
    assert {u.username for u in page} == {
        "village_director",
        "other_village_director",
        "other_town_director",
    }
    page = client.get(reverse("accounts:user_list"), {"q": "audit"}).context["page"]
    assert {u.username for u in page} == {"auditor"}


def test_it_survives_a_nul_character_in_the_search(actors: Actors) -> None:
    response = web_client(actors.county_admin).get(reverse("accounts:user_list"), {"q": "a\x00"})
    assert response.status_code == 200
