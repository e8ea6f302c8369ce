"""The look-up that opens a transfer request (issue 12): each is audited with the masked number
and its outcome, never the number; a user may look up only so many an hour (counted from the
audit trail, so across workers), then is told when to try again (429)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import RequestFactory
from django.utils import timezone

from tongxin.audit.models import AuditEvent, Result
from tongxin.lib import idcard
from tongxin.registry import transfers
from tongxin.registry.models import Child
from tongxin.registry.tests.conftest import make_family
from tongxin.registry.views.duplicates import offer_transfer
from tongxin.testing import Actors, web_client

EAST = "620724100201"  # 东村, 城关镇: the village director's
SOUTH = "620724101201"  # 南村, 宣化镇: where the file is
BORN = date(2013, 8, 8)
CREATE = "/children/transfer-requests/new/"
NOW = datetime(2024, 6, 30, 9, 0, tzinfo=timezone.get_fixed_timezone(8 * 60))


@pytest.fixture(autouse=True)
def now() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as t:
        yield t


@pytest.fixture(autouse=True)
def _limit(settings: Any) -> None:
    settings.TONGXIN_TRANSFER_LOOKUPS_PER_HOUR = 3


def _number(seed: int) -> str:
    return idcard.generate(random.Random(seed), region="620724", birth_date=BORN, gender="female")


@pytest.fixture
def elsewhere(actors: Actors) -> tuple[Child, str]:
    number = _number(31)
    return make_family(
        actors, name="赵丽娜", village=SOUTH, birth_date=BORN, id_number=number
    ), number


def locate(client: Any, number: str) -> Any:
    return client.post(CREATE, {"step": "locate", "id_number": number})


def lookups(result: str = Result.OK) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="child.locate", result=result).order_by("id"))


def test_each_lookup_is_audited_with_the_masked_number_and_outcome(
    actors: Actors, elsewhere: tuple[Child, str]
) -> None:
    _child, number = elsewhere
    client = web_client(actors.village_director)
    assert locate(client, number).status_code == 302
    unknown = _number(99)
    assert locate(client, unknown).status_code == 400
    found, missing = lookups()
    assert found.detail == {"outcome": "elsewhere", "id_number": idcard.mask(number)}
    assert missing.detail == {"outcome": "none", "id_number": idcard.mask(unknown)}
    for event in (found, missing):
        assert event.actor == actors.village_director
        text = json.dumps(event.detail) + event.object_code
        assert number not in text
        assert unknown not in text


def test_the_answer_names_no_child_village_or_town(
    actors: Actors, elsewhere: tuple[Child, str]
) -> None:
    child, number = elsewhere
    client = web_client(actors.village_director)
    locate(client, number)
    body = client.get(CREATE).text
    for secret in (number, child.name, "南村", "宣化镇", str(child.public_id), "2013-08-08"):
        assert secret not in body, secret
    assert idcard.mask(number) in body


def test_past_the_limit_it_says_when_to_try_again_with_429(
    actors: Actors, elsewhere: tuple[Child, str], now: time_machine.Traveller
) -> None:
    _child, number = elsewhere
    client = web_client(actors.village_director)
    for seed in (1, 2):
        locate(client, _number(seed))
    now.shift(timedelta(minutes=20))
    locate(client, number)
    client.get(CREATE + "?restart=1")
    response = locate(client, number)
    assert response.status_code == 429
    [message] = response.context["locate_form"].errors["id_number"]
    retry = NOW + timedelta(hours=1)
    assert message == str(transfers.LookupLimitReached(limit=3, retry_at=retry))
    assert f"{timezone.localtime(retry):%H:%M}" in message
    assert len(lookups()) == 3
    [denied] = lookups(Result.DENIED)
    assert denied.detail == {"id_number": idcard.mask(number), "why": "limit"}
    # Another director has their own hour.
    assert locate(web_client(actors.other_village_director), number).status_code == 302
    # An hour after the first look-up, one more is allowed.
    now.shift(timedelta(minutes=41))
    assert locate(client, number).status_code == 302


def test_the_limit_is_read_from_the_audit_trail_whatever_process_wrote_it(
    actors: Actors, elsewhere: tuple[Child, str]
) -> None:
    _child, number = elsewhere
    for seed in (1, 2, 3):
        transfers.id_number_locate(actor=actors.village_director, id_number=_number(seed))
    with pytest.raises(transfers.LookupLimitReached):
        transfers.id_number_locate(actor=actors.village_director, id_number=number)


def test_the_registration_form_offers_no_transfer_past_the_limit(
    actors: Actors, elsewhere: tuple[Child, str]
) -> None:
    _child, number = elsewhere
    for seed in (1, 2, 3):
        transfers.id_number_locate(actor=actors.village_director, id_number=_number(seed))
    request = RequestFactory().post("/children/new/")
    SessionMiddleware(lambda r: None).process_request(request)  # type: ignore[arg-type]
    request.user = actors.village_director
    assert offer_transfer(request, number) == ""
