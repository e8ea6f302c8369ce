"""The second step (TOTP) for county and system administrators: verify, refuse, enrol, and
the demo exemption."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tongxin.accounts import services
from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.accounts.tests.support import code_for, sign_in, wrong_code_for
from tongxin.audit.models import AuditEvent
from tongxin.geo.models import Division
from tongxin.testing import Actors, signed_in

SECOND_FACTOR_URL = "/accounts/2fa/"


def test_it_refuses_a_wrong_code_and_audits_it(client: Client, actors: Actors) -> None:
    sign_in(client, "county_admin")
    device = TOTPDevice.objects.get(user=actors.county_admin)
    response = client.post(SECOND_FACTOR_URL, {"token": wrong_code_for(device)})
    assert response.status_code == 200
    assert response.context["form"].errors["token"]
    assert client.get("/")["Location"] == SECOND_FACTOR_URL
    event = AuditEvent.objects.get(action="auth.second_factor_failed")
    assert (event.actor, event.result) == (actors.county_admin, "failed")
    assert event.detail == {"channel": "web"}


def test_it_refuses_a_code_that_is_not_six_digits(client: Client, actors: Actors) -> None:
    sign_in(client, "county_admin")
    response = client.post(SECOND_FACTOR_URL, {"token": "12ab56"})
    assert response.status_code == 200
    assert response.context["form"].errors["token"]
    assert client.get("/")["Location"] == SECOND_FACTOR_URL


def test_it_refuses_a_code_used_twice(actors: Actors) -> None:
    device = TOTPDevice.objects.get(user=actors.county_admin)
    code = code_for(device)
    first, second = Client(), Client()
    sign_in(first, "county_admin")
    assert first.post(SECOND_FACTOR_URL, {"token": code})["Location"] == "/"
    sign_in(second, "county_admin")
    assert second.post(SECOND_FACTOR_URL, {"token": code}).status_code == 200
    assert second.get("/")["Location"] == SECOND_FACTOR_URL


def test_it_enrols_an_administrator_without_an_authenticator(
    client: Client, actors: Actors
) -> None:
    admin = actors.county_admin
    TOTPDevice.objects.filter(user=admin).delete()
    assert sign_in(client, "county_admin")["Location"] == SECOND_FACTOR_URL

    response = client.get(SECOND_FACTOR_URL)
    assert response.status_code == 200
    assert response.context["enrolling"] is True
    device = TOTPDevice.objects.get(user=admin, confirmed=False)
    html = response.content.decode()
    assert 'src="data:image/svg+xml' in html
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    assert secret in html
    # Reloading the page shows the same key: the app the user just scanned stays valid.
    assert client.get(SECOND_FACTOR_URL).context["secret"] == secret

    response = client.post(SECOND_FACTOR_URL, {"token": code_for(device)})
    assert (response.status_code, response["Location"]) == (302, "/")
    device.refresh_from_db()
    assert device.confirmed
    assert signed_in(client)
    event = AuditEvent.objects.get(action="auth.second_factor_enrolled")
    assert (event.actor, event.object_code) == (admin, str(admin.public_id))


def test_it_does_not_enrol_on_a_wrong_code(client: Client, actors: Actors) -> None:
    TOTPDevice.objects.filter(user=actors.county_admin).delete()
    sign_in(client, "county_admin")
    client.get(SECOND_FACTOR_URL)
    device = TOTPDevice.objects.get(user=actors.county_admin)
    response = client.post(SECOND_FACTOR_URL, {"token": wrong_code_for(device)})
    assert response.status_code == 200
    assert response.context["enrolling"] is True
    device.refresh_from_db()
    assert not device.confirmed
    assert not AuditEvent.objects.filter(action="auth.second_factor_enrolled").exists()


def test_it_sends_roles_without_a_second_factor_home(client: Client, actors: Actors) -> None:
    sign_in(client, "village_director")
    assert client.get(SECOND_FACTOR_URL)["Location"] == "/"
    assert not TOTPDevice.objects.filter(user=actors.village_director).exists()


def test_it_sends_a_verified_administrator_on(client: Client, actors: Actors) -> None:
    sign_in(client, "county_admin")
    device = TOTPDevice.objects.get(user=actors.county_admin)
    client.post(SECOND_FACTOR_URL, {"token": code_for(device)})
    assert client.get(SECOND_FACTOR_URL)["Location"] == "/"


def _demo_county_admin() -> User:
    return services.user_create(
        actor=None,
        username="demo_admin",
        role=Role.COUNTY_ADMIN,
        division=Division.objects.get(code="620724000000"),
        password="Demo-Password-42",
        is_demo=True,
    ).user


@pytest.mark.parametrize(("demo_on", "lands_on"), [(True, "/"), (False, SECOND_FACTOR_URL)])
def test_it_exempts_demo_administrators_only_on_a_demo_installation(
    client: Client, actors: Actors, settings: Any, demo_on: bool, lands_on: str
) -> None:
    settings.TONGXIN_DEMO = demo_on
    _demo_county_admin()
    response = sign_in(client, "demo_admin", "Demo-Password-42")
    assert response["Location"] == lands_on
    home = client.get("/")
    if demo_on:
        assert signed_in(client)
    else:
        assert home["Location"] == SECOND_FACTOR_URL


def test_it_never_exempts_a_real_administrator(
    client: Client, actors: Actors, settings: Any
) -> None:
    settings.TONGXIN_DEMO = True
    assert sign_in(client, "county_admin")["Location"] == SECOND_FACTOR_URL
    assert client.get("/")["Location"] == SECOND_FACTOR_URL


def test_it_lets_a_held_administrator_sign_out(client: Client, actors: Actors) -> None:
    sign_in(client, "county_admin")
    response = client.post("/accounts/logout/")
    assert response["Location"] == "/accounts/login/"
    assert not signed_in(client)
