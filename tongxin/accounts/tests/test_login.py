"""The sign-in page and the password step, for every stock role."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from tongxin.accounts.tests.support import code_for, sign_in
from tongxin.accounts.views import BAD_CREDENTIALS
from tongxin.audit.models import AuditEvent
from tongxin.testing import STOCK_ACTORS, Actors, signed_in

SECOND_FACTOR_ACTORS = {"county_admin", "system_admin", "security_admin", "other_county_admin"}
SECOND_FACTOR_URL = "/accounts/2fa/"


def test_it_sends_anonymous_visitors_to_sign_in(client: Client, actors: Actors) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "accounts/login.html" in [t.name for t in response.templates]
    assert not signed_in(client)


def test_it_renders_the_login_page_in_chinese_by_default(client: Client, actors: Actors) -> None:
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert '<form method="post"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'name="username"' in html
    assert 'type="password" name="password"' in html
    with translation.override("zh-hans"):
        assert gettext("Sign in") in html


def test_it_renders_english_when_the_browser_asks(actors: Actors) -> None:
    response = Client(headers={"accept-language": "en"}).get("/accounts/login/")
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Sign in" in html


@pytest.mark.parametrize("key", sorted(STOCK_ACTORS))
def test_it_signs_each_stock_role_in_through_the_form(
    client: Client, actors: Actors, key: str
) -> None:
    user = getattr(actors, key)
    response = sign_in(client, key)
    assert response.status_code == 302
    assert AuditEvent.objects.filter(actor=user, action="auth.login").count() == 1
    if key not in SECOND_FACTOR_ACTORS:
        assert response["Location"] == "/"
        assert signed_in(client)
        return

    # Password alone is not enough: every page sends them back to the second step.
    assert response["Location"] == SECOND_FACTOR_URL
    for url in ("/", reverse("accounts:user_list"), "/audit/"):
        held = client.get(url)
        assert (held.status_code, held["Location"]) == (302, SECOND_FACTOR_URL)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    assert not AuditEvent.objects.filter(action="auth.second_factor").exists()
    response = client.post(SECOND_FACTOR_URL, {"token": code_for(device)})
    assert (response.status_code, response["Location"]) == (302, "/")
    assert signed_in(client)
    assert AuditEvent.objects.get(action="auth.second_factor").actor == user


def test_it_refuses_a_wrong_password(client: Client, actors: Actors) -> None:
    response = sign_in(client, "village_director", "Not-the-password-1")
    assert response.status_code == 200
    assert list(response.context["form"].non_field_errors()) == [str(BAD_CREDENTIALS)]
    assert not signed_in(client)
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.object_code == str(actors.village_director.public_id)
    assert event.result == "failed"


def test_it_refuses_an_inactive_account(client: Client, actors: Actors) -> None:
    actors.village_director.is_active = False
    actors.village_director.save(update_fields=["is_active"])
    response = sign_in(client, "village_director")
    assert response.status_code == 200
    assert list(response.context["form"].non_field_errors()) == [str(BAD_CREDENTIALS)]


def test_it_follows_next_after_sign_in(client: Client, actors: Actors) -> None:
    response = sign_in(client, "village_director", next="/divisions/")
    assert response["Location"] == "/divisions/"


def test_it_ignores_a_next_pointing_elsewhere(client: Client, actors: Actors) -> None:
    response = sign_in(client, "village_director", next="https://evil.example/")
    assert response["Location"] == "/"


def test_it_keeps_next_through_the_second_step(client: Client, actors: Actors) -> None:
    response = sign_in(client, "county_admin", next="/audit/")
    assert response["Location"] == "/accounts/2fa/?next=%2Faudit%2F"
    device = TOTPDevice.objects.get(user=actors.county_admin)
    response = client.post(response["Location"], {"token": code_for(device)})
    assert response["Location"] == "/audit/"


def test_it_redirects_a_signed_in_user_away_from_the_login_page(actors: Actors) -> None:
    client = Client()
    sign_in(client, "village_director")
    assert client.get("/accounts/login/")["Location"] == "/"


def test_it_signs_out_and_audits_it(client: Client, actors: Actors) -> None:
    sign_in(client, "village_director")
    response = client.post(reverse("logout"))
    assert response["Location"] == reverse("login")
    assert not signed_in(client)
    assert AuditEvent.objects.filter(actor=actors.village_director, action="auth.logout").exists()
