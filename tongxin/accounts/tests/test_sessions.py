"""Sessions die after 30 idle minutes: a request pushes the end back, at most once a minute
(not a database write on every page view)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client

from tongxin.accounts.tests.support import sign_in
from tongxin.testing import Actors, signed_in

START = datetime(2030, 3, 4, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_it_configures_a_thirty_minute_idle_timeout() -> None:
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is False
    assert "tongxin.accounts.middleware.SessionRenewalMiddleware" in settings.MIDDLEWARE
    assert settings.SESSION_ENGINE == "tongxin.accounts.sessions"
    assert settings.SESSION_COOKIE_HTTPONLY is True


def _expiry(client: Client) -> datetime:
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_it_renews_the_session_on_every_request(actors: Actors) -> None:
    client = Client()
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(client, "village_director")
        assert _expiry(client) == START + timedelta(minutes=30)
        for minutes in (20, 40, 60):
            traveller.shift(timedelta(minutes=20))
            assert signed_in(client)
            assert _expiry(client) == START + timedelta(minutes=minutes + 30)


def test_it_renews_a_session_at_most_once_a_minute(actors: Actors) -> None:
    client = Client()
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(client, "village_director")
        assert signed_in(client)
        traveller.shift(timedelta(seconds=59))
        assert signed_in(client)
        assert _expiry(client) == START + timedelta(minutes=30)
        traveller.shift(timedelta(seconds=1))
        assert signed_in(client)
        assert _expiry(client) == START + timedelta(minutes=31)


def test_it_writes_nothing_for_a_page_within_the_minute(actors: Actors) -> None:
    client = Client()
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(client, "village_director")
        traveller.shift(timedelta(seconds=30))
        before = Session.objects.get(session_key=client.session.session_key).session_data
        response = client.get("/")
        assert response.status_code == 200
        assert settings.SESSION_COOKIE_NAME not in response.cookies
        assert Session.objects.get(session_key=client.session.session_key).session_data == before


def test_it_makes_no_session_for_a_cookie_naming_none(db: None) -> None:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32
    assert not signed_in(client)
    assert not Session.objects.exists()


def test_it_signs_out_a_session_idle_for_thirty_one_minutes(actors: Actors) -> None:
    client = Client()
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(client, "village_director")
        traveller.shift(timedelta(minutes=29))
        assert signed_in(client)
        traveller.shift(timedelta(minutes=31))
        assert not signed_in(client)


def test_it_does_not_authenticate_an_expired_session_row(actors: Actors) -> None:
    client = Client()
    sign_in(client, "village_director")
    key = client.session.session_key
    Session.objects.filter(session_key=key).update(
        expire_date=datetime.now(tz=ZoneInfo("UTC")) - timedelta(seconds=1)
    )
    assert not signed_in(client)
