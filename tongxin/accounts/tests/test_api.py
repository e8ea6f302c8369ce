"""The API's sign-in (token) and ``/api/v1/me``."""

from __future__ import annotations

from django.db import connection
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox import crypto
from knox.models import AuthToken
from rest_framework.test import APIClient

from tongxin.accounts.tests.support import code_for, wrong_code_for
from tongxin.audit.models import AuditEvent
from tongxin.testing import PASSWORD, Actors, api_client

TOKEN_URL = "/api/v1/auth/token"
ME_URL = "/api/v1/me"
OTP_REQUIRED = "A valid code from your authenticator app is required (otp)."


def _token(username: str, **extra: str) -> tuple[int, dict[str, str]]:
    response = APIClient().post(
        TOKEN_URL, {"username": username, "password": PASSWORD, **extra}, format="json"
    )
    return response.status_code, response.json()


def _me(token: str) -> tuple[int, dict[str, object]]:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get(ME_URL)
    return response.status_code, response.json()


def test_it_serves_the_urls_named_in_the_docs() -> None:
    assert reverse("api:auth_token") == TOKEN_URL
    assert reverse("api:me") == ME_URL


def test_it_exchanges_a_password_for_a_token(actors: Actors) -> None:
    status, body = _token("village_director")
    assert status == 200
    assert set(body) == {"token", "expiry"}
    assert _me(body["token"]) == (
        200,
        {
            "id": str(actors.village_director.public_id),
            "username": "village_director",
            "name": "village director",
            "role": "village_director",
            "role_label": str(actors.village_director.get_role_display()),
            "division": {"code": "620724100201", "name": "东村", "level": "village"},
            "organisation": None,
        },
    )
    event = AuditEvent.objects.get(action="auth.login")
    assert (event.actor, event.detail) == (actors.village_director, {"channel": "api"})


def test_it_names_the_organisation_of_a_department_officer(actors: Actors) -> None:
    body = api_client(actors.department_officer).get(ME_URL).json()
    assert body["organisation"] == {
        "name": "高台县公安局",
        "kind": "department",
        "department": "police",
    }
    assert body["division"] == {"code": "620724000000", "name": "高台县", "level": "county"}


def test_it_answers_401_without_a_token(actors: Actors) -> None:
    assert APIClient().get(ME_URL).status_code == 401


def test_it_answers_401_to_a_made_up_token(actors: Actors) -> None:
    assert _me("0" * 64)[0] == 401


def test_it_answers_401_to_a_deactivated_user(actors: Actors) -> None:
    _, body = _token("village_director")
    actors.village_director.is_active = False
    actors.village_director.save(update_fields=["is_active"])
    assert _me(body["token"])[0] == 401


def test_it_asks_an_administrator_for_the_code(actors: Actors) -> None:
    status, body = _token("county_admin")
    assert status == 400
    with translation.override("zh-hans"):
        assert body == {"detail": gettext(OTP_REQUIRED)}
    assert not AuthToken.objects.filter(user=actors.county_admin).exists()
    event = AuditEvent.objects.get(action="auth.second_factor_failed")
    assert (event.actor, event.detail) == (actors.county_admin, {"channel": "api"})


def test_it_refuses_an_administrator_with_a_wrong_code(actors: Actors) -> None:
    device = TOTPDevice.objects.get(user=actors.county_admin)
    status, _ = _token("county_admin", otp=wrong_code_for(device))
    assert status == 400
    assert not AuthToken.objects.filter(user=actors.county_admin).exists()


def test_it_gives_an_administrator_a_token_with_a_valid_code(actors: Actors) -> None:
    device = TOTPDevice.objects.get(user=actors.county_admin)
    status, body = _token("county_admin", otp=code_for(device))
    assert status == 200
    status, me = _me(body["token"])
    assert (status, me["role"]) == (200, "county_admin")


def test_it_refuses_a_malformed_request(actors: Actors) -> None:
    response = APIClient().post(TOKEN_URL, {"username": "village_director"}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()


def test_it_stores_tokens_hashed(actors: Actors) -> None:
    _, body = _token("village_director")
    token = body["token"]
    stored = AuthToken.objects.get(user=actors.village_director)
    assert stored.digest == crypto.hash_token(token)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {AuthToken._meta.db_table}")  # noqa: S608
        rows = cursor.fetchall()
    assert rows
    assert not any(token in str(value) for row in rows for value in row)
