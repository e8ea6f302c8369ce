"""Transfer requests: a child registered outside the user's area is asked for, not shown; the
county officer whose area covers both villages decides."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date

import pytest
import time_machine
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from tongxin.audit.models import AuditEvent
from tongxin.geo.models import Division
from tongxin.lib import crypto, idcard
from tongxin.registry import services, transfers
from tongxin.registry.models import Child, TransferRequest, TransferStatus
from tongxin.registry.tests.conftest import make_family
from tongxin.registry.views.duplicates import OFFER_KEY, offer_transfer
from tongxin.testing import Actors, web_client

EAST = "620724100201"  # 东村, 城关镇: the village director's
SOUTH = "620724101201"  # 南村, 宣化镇: where the file is
BORN = date(2013, 8, 8)
CREATE = "/children/transfer-requests/new/"


@pytest.fixture(autouse=True)
def today() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(date(2024, 6, 30), tick=False) as t:
        yield t


@pytest.fixture
def number() -> str:
    return idcard.generate(random.Random(31), region="620724", birth_date=BORN, gender="female")


@pytest.fixture
def elsewhere(actors: Actors, number: str) -> Child:
    """A file in 南村 (another town), with a sibling."""
    child = make_family(actors, name="赵丽娜", village=SOUTH, birth_date=BORN, id_number=number)
    services.child_register(
        actor=actors.county_admin,
        household=child.household,
        fields={
            "name": "赵丽华",
            "gender": "female",
            "birth_date": date(2016, 1, 1),
            "id_missing_reason": "not_registered",
        },
    )
    return child


def _request(actors: Actors, elsewhere: Child, number: str) -> TransferRequest:
    return transfers.transfer_request_create(
        actor=actors.village_director,
        lookup=crypto.lookup_hash(number),
        to_village=Division.objects.get(code=EAST),
        reason="全家搬到东村居住",
    )


def test_it_files_a_request_end_to_end(actors: Actors, elsewhere: Child, number: str) -> None:
    director = actors.village_director
    # Registering the child again in 东村: the file is elsewhere, and that is all one learns.
    household = services.household_create(
        actor=director, village=Division.objects.get(code=EAST), fields={"address": "三组"}
    )
    with pytest.raises(services.DuplicateIdNumber) as duplicate:
        services.child_register(
            actor=director,
            household=household,
            fields={"name": "赵丽娜", "gender": "female", "birth_date": BORN},
            id_number=number,
        )
    assert duplicate.value.child is None

    client = web_client(director)
    located = client.post(CREATE, {"step": "locate", "id_number": number})
    assert located.status_code == 302
    page = client.get(CREATE)
    body = page.content.decode()
    assert page.status_code == 200
    with translation.override("zh-hans"):
        message = translation.gettext("This child is already registered elsewhere.")
        approved = str(TransferStatus.APPROVED.label)
    assert message in body
    assert idcard.mask(number) in body
    for secret in (number, "南村", "宣化镇", str(elsewhere.public_id), "2013-08-08"):
        assert secret not in body, secret
    assert "赵丽娜" not in body  # the name the director typed is not echoed from the file

    sent = client.post(CREATE, {"step": "request", "to_village": EAST, "reason": "全家搬来"})
    assert sent.status_code == 302
    transfer = TransferRequest.objects.get()
    assert sent["Location"] == reverse(
        "registry:transfer_request_detail", args=[transfer.public_id]
    )
    assert (transfer.child_id, transfer.to_village_id, transfer.from_village_id) == (
        elsewhere.pk,
        EAST,
        SOUTH,
    )
    assert transfer.requested_by == director
    mine = client.get(sent["Location"]).content.decode()
    assert transfer.get_status_display() in mine
    for secret in ("南村", str(elsewhere.public_id), elsewhere.name):
        assert secret not in mine, secret
    assert client.get(CREATE).context["offer"] is None  # the offer is used up

    # The county officer sees the file and approves: the family moves.
    admin = web_client(actors.county_admin)
    seen = admin.get(sent["Location"]).content.decode()
    assert elsewhere.name in seen
    assert "南村" in seen
    decided = admin.post(
        reverse("registry:transfer_request_decide", args=[transfer.public_id]),
        {"decision": "approve", "reason": ""},
    )
    assert decided.status_code == 302
    transfer.refresh_from_db()
    elsewhere.refresh_from_db()
    assert transfer.status == TransferStatus.APPROVED
    assert transfer.decided_by == actors.county_admin
    assert elsewhere.village_id == elsewhere.household.village_id == EAST
    assert set(elsewhere.household.children.values_list("village_id", flat=True)) == {EAST}
    assert Child.objects.visible_to(director).filter(pk=elsewhere.pk).exists()
    assert not Child.objects.visible_to(actors.other_town_director).filter(pk=elsewhere.pk).exists()
    outcome = client.get(sent["Location"]).content.decode()
    assert approved in outcome

    actions = list(AuditEvent.objects.values_list("action", "division_code"))
    assert ("child.transfer_request", SOUTH) in actions
    assert ("child.transfer_request", EAST) in actions
    assert ("child.transfer_request_decide", EAST) in actions
    assert ("household.transfer", SOUTH) in actions
    assert ("household.transfer", EAST) in actions
    assert ("child.locate", EAST) in actions


def test_it_refuses_with_a_reason_the_requester_sees(
    actors: Actors, elsewhere: Child, number: str
) -> None:
    transfer = _request(actors, elsewhere, number)
    with pytest.raises(ValidationError):
        transfers.transfer_request_decide(
            actor=actors.county_admin, transfer=transfer, approve=False, reason=" "
        )
    transfers.transfer_request_decide(
        actor=actors.county_admin, transfer=transfer, approve=False, reason="该户未迁入东村"
    )
    transfer.refresh_from_db()
    elsewhere.refresh_from_db()
    assert transfer.status == TransferStatus.REFUSED
    assert elsewhere.village_id == SOUTH
    page = web_client(actors.village_director).get(
        reverse("registry:transfer_request_detail", args=[transfer.public_id])
    )
    assert "该户未迁入东村" in page.content.decode()
    with pytest.raises(ValidationError):
        transfers.transfer_request_decide(
            actor=actors.county_admin, transfer=transfer, approve=True
        )


def test_it_does_not_file_the_same_request_twice(
    actors: Actors, elsewhere: Child, number: str
) -> None:
    first = _request(actors, elsewhere, number)
    assert _request(actors, elsewhere, number) == first
    assert TransferRequest.objects.count() == 1


def test_it_says_nothing_new_about_numbers_in_scope_or_unknown(actors: Actors, number: str) -> None:
    own = make_family(actors, name="钱多多", village=EAST, birth_date=BORN, id_number=number)
    client = web_client(actors.village_director)
    response = client.post(CREATE, {"step": "locate", "id_number": number})
    assert response.status_code == 400
    # Only what the director typed, kept in its field; nothing from the file.
    assert response.content.decode().count(number) == 1
    assert response.context["mine_url"] in (
        "",
        reverse("registry:child_detail", args=[own.public_id]),
    )
    with pytest.raises(ValidationError):
        transfers.transfer_request_create(
            actor=actors.village_director,
            lookup=crypto.lookup_hash(number),
            to_village=Division.objects.get(code=EAST),
            reason="x",
        )
    unknown = idcard.generate(random.Random(99), region="620724", birth_date=BORN, gender="male")
    response = client.post(CREATE, {"step": "locate", "id_number": unknown})
    assert response.status_code == 400
    assert "id_number" in response.context["locate_form"].errors
    assert client.post(CREATE, {"step": "locate", "id_number": "123"}).status_code == 400


def test_it_asks_for_a_village_in_the_requesters_area(
    actors: Actors, elsewhere: Child, number: str
) -> None:
    with pytest.raises(ValidationError):
        transfers.transfer_request_create(
            actor=actors.village_director,
            lookup=crypto.lookup_hash(number),
            to_village=Division.objects.get(code="620724100202"),  # 西村: not theirs
            reason="x",
        )
    with pytest.raises(PermissionDenied):
        transfers.transfer_request_create(
            actor=actors.auditor,
            lookup=crypto.lookup_hash(number),
            to_village=Division.objects.get(code=EAST),
            reason="x",
        )


def test_it_lets_only_a_county_officer_covering_both_villages_decide(
    actors: Actors, elsewhere: Child, number: str
) -> None:
    transfer = _request(actors, elsewhere, number)
    for key in ("village_director", "town_supervisor", "auditor", "other_county_admin"):
        with pytest.raises(PermissionDenied):
            transfers.transfer_request_decide(
                actor=getattr(actors, key), transfer=transfer, approve=True, reason="x"
            )
    url = reverse("registry:transfer_request_decide", args=[transfer.public_id])
    data = {"decision": "approve", "reason": "x"}
    assert web_client(actors.village_director).post(url, data).status_code == 403
    assert web_client(actors.town_supervisor).post(url, data).status_code == 403
    assert web_client(actors.auditor).post(url, data).status_code == 403
    for key in ("other_village_director", "other_town_director", "department_officer"):
        assert web_client(getattr(actors, key)).post(url, data).status_code == 404, key
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.PENDING


def test_it_shows_each_side_only_what_it_may_see(
    actors: Actors, elsewhere: Child, number: str
) -> None:
    transfer = _request(actors, elsewhere, number)
    detail = reverse("registry:transfer_request_detail", args=[transfer.public_id])
    listing = reverse("registry:transfer_request_list")
    for key in ("village_director", "town_supervisor"):
        client = web_client(getattr(actors, key))
        for url in (detail, listing):
            body = client.get(url).content.decode()
            assert elsewhere.name not in body, (key, url)
            assert "南村" not in body, (key, url)
        assert [t for t, _d in client.get(listing).context["rows"]] == [transfer]
    for key in ("county_admin", "auditor"):
        body = web_client(getattr(actors, key)).get(listing).content.decode()
        assert elsewhere.name in body, key
    for key in ("other_village_director", "other_town_director", "other_county_admin"):
        client = web_client(getattr(actors, key))
        assert client.get(detail).status_code == 404, key
        assert list(client.get(listing).context["rows"]) == [], key
    for key in ("department_officer", "reporter", "system_admin"):
        client = web_client(getattr(actors, key))
        assert client.get(detail).status_code == 404, key
        assert client.get(listing).status_code == 404, key
        assert client.get(CREATE).status_code == 404, key
    assert web_client(actors.auditor).get(CREATE).status_code == 403
    assert web_client(actors.auditor).post(CREATE, {"step": "locate"}).status_code == 403


def test_it_offers_a_transfer_to_the_registration_form(
    actors: Actors, elsewhere: Child, number: str
) -> None:
    request = RequestFactory().post("/children/new/")
    SessionMiddleware(lambda r: None).process_request(request)  # type: ignore[arg-type]
    request.user = actors.village_director
    assert offer_transfer(request, number) == CREATE
    assert request.session[OFFER_KEY] == {
        "lookup": crypto.lookup_hash(number),
        "masked": idcard.mask(number),
    }
    request.user = actors.county_admin  # the file is in the county admin's area: no offer
    assert offer_transfer(request, number) == ""


def test_it_lists_requests_in_a_constant_number_of_queries(actors: Actors) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = web_client(actors.county_admin)
    url = reverse("registry:transfer_request_list")

    def file_request(seed: int) -> None:
        born = date(2012, 1, seed)
        number = idcard.generate(
            random.Random(seed), region="620724", birth_date=born, gender="male"
        )
        make_family(actors, name=f"周{seed}", village=SOUTH, birth_date=born, id_number=number)
        transfers.transfer_request_create(
            actor=actors.village_director,
            lookup=crypto.lookup_hash(number),
            to_village=Division.objects.get(code=EAST),
            reason="搬家",
        )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    file_request(1)
    few = queries()
    for seed in (2, 3, 4):
        file_request(seed)
    assert queries() == few
