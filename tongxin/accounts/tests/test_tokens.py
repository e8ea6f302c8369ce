"""API tokens: at most REST_KNOX's TOKEN_LIMIT_PER_USER in force per account; the owner sees and
revokes them (a page, and DELETE /api/v1/auth/token for the one a request carries); a security
administrator revokes another account's; a new password, a disabled account or a new role ends
them all."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tongxin.accounts import credentials, services
from tongxin.accounts.roles import Role
from tongxin.audit.models import AuditEvent
from tongxin.geo.models import Division
from tongxin.testing import PASSWORD, Actors, web_client

TOKEN_URL = "/api/v1/auth/token"
ME_URL = "/api/v1/me"
START = datetime(2030, 3, 4, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _ask(username: str = "village_director") -> tuple[int, dict[str, str]]:
    response = APIClient().post(
        TOKEN_URL, {"username": username, "password": PASSWORD}, format="json"
    )
    return response.status_code, response.json()


def _carrying(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_it_refuses_a_token_past_the_limit_until_one_ends(actors: Actors) -> None:
    director = actors.village_director
    for _ in range(20):
        AuthToken.objects.create(director)
    status, body = _ask()
    assert status == 403
    assert "20" in body["detail"]
    assert AuthToken.objects.filter(user=director).count() == 20
    # Expired tokens do not count.
    oldest = AuthToken.objects.filter(user=director).order_by("created").first()
    assert oldest is not None
    AuthToken.objects.filter(pk=oldest.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    assert _ask()[0] == 200


def test_delete_revokes_the_token_the_request_carries(actors: Actors) -> None:
    _, first = _ask()
    _, second = _ask()
    client = _carrying(first["token"])
    response = client.delete(TOKEN_URL)
    assert (response.status_code, response.content) == (204, b"")
    assert client.get(ME_URL).status_code == 401
    assert _carrying(second["token"]).get(ME_URL).status_code == 200
    event = AuditEvent.objects.get(action="auth.token_revoke")
    assert (event.actor, event.detail["channel"], event.detail["tokens"]) == (
        actors.village_director,
        "api",
        1,
    )
    assert first["token"] not in json.dumps(event.detail)
    assert APIClient().delete(TOKEN_URL).status_code == 401


def test_a_stale_token_in_the_header_does_not_refuse_a_new_one(actors: Actors) -> None:
    response = _carrying("0" * 64).post(
        TOKEN_URL, {"username": "village_director", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200


def test_the_page_lists_ones_own_tokens_and_revokes_them(actors: Actors) -> None:
    director = actors.village_director
    with time_machine.travel(START, tick=False) as traveller:
        _, phone = _ask()
        _ask()  # a laptop's, never used
        traveller.shift(timedelta(minutes=5))
        assert _carrying(phone["token"]).get(ME_URL).status_code == 200
        AuthToken.objects.create(actors.town_supervisor)  # someone else's
        client = web_client(director)
        rows = client.get(reverse("accounts:token_list")).context["tokens"]
    assert len(rows) == 2
    assert {row.last_used for row in rows} == {None, START + timedelta(minutes=5)}
    assert all(row.created == START for row in rows)
    phone_ref = next(row.ref for row in rows if row.last_used is not None)

    # Another account's token is not named by one's own page.
    theirs = credentials.token_ref(AuthToken.objects.get(user=actors.town_supervisor))
    client.post(reverse("accounts:token_list"), {"token": theirs})
    assert AuthToken.objects.filter(user=actors.town_supervisor).count() == 1

    client.post(reverse("accounts:token_list"), {"token": phone_ref})
    assert AuthToken.objects.filter(user=director).count() == 1
    assert _carrying(phone["token"]).get(ME_URL).status_code == 401
    client.post(reverse("accounts:token_list"), {"token": "all"})
    assert not AuthToken.objects.filter(user=director).exists()
    assert AuditEvent.objects.filter(action="auth.token_revoke").count() == 2


def test_the_page_refuses_a_made_up_reference(actors: Actors) -> None:
    AuthToken.objects.create(actors.village_director)
    client = web_client(actors.village_director)
    for ref in ("", "x", "a" * 15, "'; DROP TABLE", "A" * 16, "\x00" * 16):
        response = client.post(reverse("accounts:token_list"), {"token": ref})
        assert response.status_code == 400, ref
    assert AuthToken.objects.filter(user=actors.village_director).count() == 1


def test_a_security_administrator_revokes_another_accounts_tokens(actors: Actors) -> None:
    director = actors.village_director
    AuthToken.objects.create(director)
    AuthToken.objects.create(director)
    url = reverse("accounts:user_security", args=[director.public_id])
    page = web_client(actors.security_admin).get(
        reverse("accounts:user_detail", args=[director.public_id])
    )
    assert len(page.context["tokens"]) == 2
    refused = web_client(actors.system_admin).post(url, {"action": "revoke_tokens", "token": "all"})
    assert refused.status_code == 403
    ref = page.context["tokens"][0].ref
    web_client(actors.security_admin).post(url, {"action": "revoke_tokens", "token": ref})
    assert AuthToken.objects.filter(user=director).count() == 1
    web_client(actors.security_admin).post(url, {"action": "revoke_tokens", "token": "all"})
    assert not AuthToken.objects.filter(user=director).exists()
    assert (
        AuditEvent.objects.filter(action="auth.token_revoke", actor=actors.security_admin).count()
        == 2
    )


def test_disabling_an_account_or_changing_its_role_ends_its_tokens(actors: Actors) -> None:
    director, other = actors.village_director, actors.other_village_director
    AuthToken.objects.create(director)
    AuthToken.objects.create(other)
    services.user_update(actor=actors.county_admin, user=director, is_active=False)
    assert not AuthToken.objects.filter(user=director).exists()
    services.user_update(
        actor=actors.county_admin,
        user=other,
        role=Role.TOWN_SUPERVISOR,
        division=Division.objects.get(code="620724100000"),
    )
    assert not AuthToken.objects.filter(user=other).exists()
    assert AuditEvent.objects.filter(action="user.update", detail__tokens=1).count() == 2


def test_the_schema_documents_the_revocation(db: None) -> None:
    schema = json.loads(Client().get(reverse("schema"), {"format": "json"}).content)
    token = schema["paths"][TOKEN_URL]
    assert "204" in token["delete"]["responses"]
    assert "401" in token["delete"]["responses"]
    assert "403" in token["post"]["responses"]
    assert "401" not in token["post"]["responses"]
