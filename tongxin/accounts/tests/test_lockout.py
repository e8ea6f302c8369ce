"""Five wrong passwords lock a name for 30 minutes, on the sign-in page and the API alike, and
the answers never tell a real account from a made-up name."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from tongxin.accounts import services
from tongxin.accounts.tests.support import sign_in
from tongxin.accounts.views import BAD_CREDENTIALS, LOCKED_OUT
from tongxin.audit.models import AuditEvent
from tongxin.testing import PASSWORD, Actors, signed_in

WRONG = "Wrong-Password-7"
UNKNOWN = "nobody_by_this_name"
START = datetime(2030, 3, 4, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def traveller() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(START, tick=False) as t:
        yield t


def _web_attempt(client: Client, username: str, password: str) -> tuple[int, str]:
    response = sign_in(client, username, password)
    if response.status_code == 302:
        return 302, response["Location"]
    return response.status_code, " ".join(response.context["form"].non_field_errors())


def _api_attempt(client: APIClient, username: str, password: str) -> tuple[int, str]:
    response = client.post(
        reverse("api:auth_token"), {"username": username, "password": password}, format="json"
    )
    return response.status_code, response.json().get("detail", "")


def _six_attempts(username: str, *, api: bool = False) -> list[tuple[int, str]]:
    """Five wrong passwords, then the right one."""
    if api:
        client = APIClient()
        return [_api_attempt(client, username, p) for p in [WRONG] * 5 + [PASSWORD]]
    web = Client()
    return [_web_attempt(web, username, p) for p in [WRONG] * 5 + [PASSWORD]]


def _expected(status_wrong: int) -> list[tuple[int, str]]:
    with translation.override("zh-hans"):
        return [(status_wrong, str(BAD_CREDENTIALS))] * 5 + [(429, str(LOCKED_OUT))]


def test_it_locks_an_account_after_five_wrong_passwords(
    actors: Actors, traveller: time_machine.Traveller
) -> None:
    assert _six_attempts("village_director") == _expected(200)
    # Another browser, another address: the name is locked, not the client.
    client = Client(REMOTE_ADDR="10.1.2.3")
    assert _web_attempt(client, "village_director", PASSWORD)[0] == 429
    assert not signed_in(client)


def test_it_answers_an_unknown_name_exactly_like_a_real_one(
    actors: Actors, traveller: time_machine.Traveller
) -> None:
    known = _six_attempts("village_director")
    unknown = _six_attempts(UNKNOWN)
    assert unknown == known
    assert len({message for _, message in known}) == 2


def test_it_audits_failures_and_the_lockout(
    actors: Actors, traveller: time_machine.Traveller
) -> None:
    _six_attempts("village_director")
    events = list(AuditEvent.objects.order_by("id"))
    # The fifth failure is the one that locks the name; the sixth is refused by the lock.
    assert [e.action for e in events] == ["auth.login_failed"] * 4 + ["auth.lockout"] * 2
    assert [e.result for e in events] == ["failed"] * 4 + ["locked"] * 2
    public_id = str(actors.village_director.public_id)
    assert {(e.object_type, e.object_code, e.division_code) for e in events} == {
        ("user", public_id, "620724100201")
    }
    assert all(e.actor is None and e.ip == "127.0.0.1" for e in events)


def test_it_keeps_an_unknown_name_out_of_the_audit_trail(
    actors: Actors, traveller: time_machine.Traveller
) -> None:
    _six_attempts(UNKNOWN)
    _six_attempts(UNKNOWN, api=True)
    events = list(AuditEvent.objects.order_by("id"))
    assert [e.action for e in events] == (["auth.login_failed"] * 4 + ["auth.lockout"] * 2) + [
        "auth.lockout"
    ] * 6
    for row in AuditEvent.objects.values():
        assert UNKNOWN not in repr(row)
        assert (row["object_code"], row["division_code"], row["actor_username"]) == ("", "", "")


def test_it_lets_the_account_in_again_after_thirty_minutes(
    actors: Actors, traveller: time_machine.Traveller
) -> None:
    _six_attempts("village_director")
    traveller.shift(timedelta(minutes=29))
    # Asked without an attempt: an attempt during the lockout would start the 30 minutes anew.
    assert services.sign_in_locked(RequestFactory().post("/accounts/login/"), "village_director")
    traveller.shift(timedelta(minutes=2))
    assert not services.sign_in_locked(
        RequestFactory().post("/accounts/login/"), "village_director"
    )
    client = Client()
    assert _web_attempt(client, "village_director", PASSWORD) == (302, "/")
    assert signed_in(client)


def test_it_forgets_failures_after_a_successful_sign_in(
    actors: Actors, traveller: time_machine.Traveller
) -> None:
    client = Client()
    for _ in range(4):
        _web_attempt(client, "village_director", WRONG)
    assert _web_attempt(client, "village_director", PASSWORD) == (302, "/")
    other = Client()
    for _ in range(4):
        assert _web_attempt(other, "village_director", WRONG)[0] == 200
    assert _web_attempt(other, "village_director", PASSWORD) == (302, "/")


def test_it_locks_the_api_the_same_way(actors: Actors, traveller: time_machine.Traveller) -> None:
    assert _six_attempts("village_director", api=True) == _expected(400)
    assert _six_attempts(UNKNOWN, api=True) == _expected(400)


def test_it_shares_the_count_between_the_page_and_the_api(
    actors: Actors, traveller: time_machine.Traveller
) -> None:
    web, api = Client(), APIClient()
    for _ in range(3):
        _web_attempt(web, "village_director", WRONG)
    for _ in range(2):
        _api_attempt(api, "village_director", WRONG)
    assert _api_attempt(api, "village_director", PASSWORD)[0] == 429
    assert _web_attempt(web, "village_director", PASSWORD)[0] == 429
