"""A password someone else gave (a new account, a reset) works for one sign-in, which leads
straight to setting one's own; it expires; the person's own password can be changed at any
time, and a new password ends every other session and every API token."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tongxin.accounts import credentials, services
from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.accounts.tests.support import sign_in
from tongxin.accounts.views import BAD_CREDENTIALS
from tongxin.audit.models import AuditEvent
from tongxin.geo.models import Division
from tongxin.testing import PASSWORD, Actors, api_client, signed_in, web_client

PASSWORD_URL = "/accounts/password/"
OWN = "Qilian-Snow-2718"


def _new_director(actors: Actors) -> tuple[User, str]:
    created = services.user_create(
        actor=actors.county_admin,
        username="li_ming",
        role=Role.VILLAGE_DIRECTOR,
        division=Division.objects.get(code="620724100202"),
        name="李明",
    )
    return created.user, created.password


def test_it_serves_the_page_at_its_address() -> None:
    assert reverse("accounts:password") == PASSWORD_URL


def test_a_new_account_signs_in_once_with_its_one_time_password_and_sets_its_own(
    actors: Actors,
) -> None:
    user, given = _new_director(actors)
    client = Client()
    response = sign_in(client, "li_ming", given)
    assert response["Location"] == PASSWORD_URL
    # Nothing else opens until it is done.
    for url in ("/", "/children/", "/accounts/2fa/", "/accounts/tokens/", "/visits/"):
        held = client.get(url)
        assert (held.status_code, held["Location"]) == (302, PASSWORD_URL), url
    page = client.get(PASSWORD_URL)
    assert page.status_code == 200
    assert "current_password" not in page.context["form"].fields  # they just typed it

    response = client.post(PASSWORD_URL, {"new_password1": OWN, "new_password2": OWN})
    assert (response.status_code, response["Location"]) == (302, "/")
    assert signed_in(client)
    user.refresh_from_db()
    assert user.check_password(OWN)
    assert not user.must_change_password
    assert user.one_time_password_expires_at is None
    event = AuditEvent.objects.get(action="user.password_change")
    assert (event.actor, event.detail) == (user, {"one_time": True, "tokens": 0})
    # The one-time password works no more.
    assert sign_in(Client(), "li_ming", given).status_code == 200


def test_the_api_refuses_a_token_to_an_account_holding_a_one_time_password(
    actors: Actors,
) -> None:
    _user, given = _new_director(actors)
    response = APIClient().post(
        reverse("api:auth_token"), {"username": "li_ming", "password": given}, format="json"
    )
    assert response.status_code == 403
    assert not AuthToken.objects.filter(user__username="li_ming").exists()


@pytest.mark.parametrize(
    ("first", "second", "field"),
    [
        ("given", "given", "new_password1"),  # the one-time password again
        ("short", "short", "new_password1"),
        (OWN, "Qilian-Snow-2719", "new_password2"),
        ("", "", "new_password1"),
    ],
)
def test_it_refuses_a_password_that_will_not_do(
    actors: Actors, first: str, second: str, field: str
) -> None:
    user, given = _new_director(actors)
    client = Client(headers={"accept-language": "en"})
    sign_in(client, "li_ming", given)
    first, second = (given if p == "given" else p for p in (first, second))
    response = client.post(PASSWORD_URL, {"new_password1": first, "new_password2": second})
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    user.refresh_from_db()
    assert user.must_change_password
    assert client.get("/")["Location"] == PASSWORD_URL


def test_a_one_time_password_expires(actors: Actors, settings: Any) -> None:
    settings.TONGXIN_ONE_TIME_PASSWORD_HOURS = 72
    user, given = _new_director(actors)
    expires = user.one_time_password_expires_at
    assert expires is not None
    assert timedelta(hours=71, minutes=59) < expires - timezone.now() <= timedelta(hours=72)
    client = Client()
    with time_machine.travel(expires - timedelta(minutes=1), tick=False):
        assert sign_in(client, "li_ming", given)["Location"] == PASSWORD_URL
    with time_machine.travel(expires + timedelta(seconds=1), tick=False):
        # The session begun with it ends too.
        assert client.get(PASSWORD_URL)["Location"].startswith("/accounts/login/")
        response = sign_in(Client(), "li_ming", given)
        assert response.status_code == 200
        assert list(response.context["form"].non_field_errors()) == [str(BAD_CREDENTIALS)]


def test_an_administrator_gives_a_new_one_time_password_and_ends_the_old_ways_in(
    actors: Actors,
) -> None:
    person = actors.village_director
    session = web_client(person)
    phone = api_client(person)
    assert phone.get(reverse("api:me")).status_code == 200
    admin = web_client(actors.system_admin)

    url = reverse("accounts:user_security", args=[person.public_id])
    response = admin.post(url, {"action": "reset_password"})
    assert response.status_code == 200
    given = response.context["password"]
    assert given in response.content.decode()
    person.refresh_from_db()
    assert person.must_change_password
    assert not person.check_password(PASSWORD)
    # The open session and the phone's token end; the old password opens nothing.
    assert not signed_in(session)
    assert phone.get(reverse("api:me")).status_code == 401
    assert sign_in(Client(), "village_director").status_code == 200
    assert sign_in(Client(), "village_director", given)["Location"] == PASSWORD_URL
    event = AuditEvent.objects.get(action="user.password_reset")
    assert (event.actor, event.object_code) == (actors.system_admin, str(person.public_id))
    assert event.detail == {"tokens": 1}
    assert given not in repr(list(AuditEvent.objects.values()))


def test_no_one_resets_their_own_password_as_an_administrator(actors: Actors) -> None:
    with pytest.raises(ValidationError):
        credentials.password_reset(actor=actors.county_admin, user=actors.county_admin)


def test_a_person_changes_their_own_password_with_the_current_one(actors: Actors) -> None:
    person = actors.village_director
    other_session = web_client(person)
    phone = api_client(person)
    client = Client(headers={"accept-language": "en"})
    sign_in(client, "village_director")
    page = client.get(PASSWORD_URL)
    assert "current_password" in page.context["form"].fields

    wrong = {"current_password": "Not-it-42x", "new_password1": OWN, "new_password2": OWN}
    response = client.post(PASSWORD_URL, wrong)
    assert response.status_code == 400
    assert response.context["form"].errors["current_password"]

    right = {"current_password": PASSWORD, "new_password1": OWN, "new_password2": OWN}
    assert client.post(PASSWORD_URL, right)["Location"] == "/"
    assert signed_in(client)  # this session goes on
    assert not signed_in(other_session)  # every other one ends
    assert phone.get(reverse("api:me")).status_code == 401
    event = AuditEvent.objects.get(action="user.password_change")
    assert event.detail == {"one_time": False, "tokens": 1}


def test_demo_accounts_keep_the_password_printed_for_them(actors: Actors) -> None:
    from tongxin.demo import demo_load

    report = demo_load()
    for account, password in report.accounts:
        user = User.objects.get(username=account.username)
        assert not user.must_change_password, account.username
        assert not user.role_grants.exists()
        assert user.role == account.role
        assert password is not None
    village = {a.username: p for a, p in report.accounts}["demo_village"]
    assert sign_in(Client(), "demo_village", village or "")["Location"] == "/"
