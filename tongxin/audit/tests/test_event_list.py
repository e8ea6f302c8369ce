"""The audit log page: the reader's own division, filters, the htmx fragment, constant queries."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tongxin.accounts.models import User
from tongxin.audit.models import AuditEvent
from tongxin.testing import Actors, web_client

URL = "/audit/"
TZ = ZoneInfo("Asia/Shanghai")


def _event(code: str, **fields: object) -> AuditEvent:
    values: dict[str, object] = {
        "action": "child.read",
        "object_type": "child",
        "object_code": code,
        "division_code": "620724100201",
        "actor_username": "village_director",
        "actor_role": "village_director",
        "at": datetime(2024, 6, 15, 10, 0, tzinfo=TZ),
    }
    values.update(fields)
    return AuditEvent.objects.create(**values)


def _codes(actor: User, **params: str) -> set[str]:
    response = web_client(actor).get(URL, params)
    assert response.status_code == 200
    return {e.object_code for e in response.context["page"]}


@pytest.fixture
def events(actors: Actors) -> None:
    _event("gaotai-village")
    _event("gaotai-county", division_code="620724000000", actor_username="county_admin")
    _event(
        "unknown-name",
        action="auth.login_failed",
        object_type="",
        division_code="",
        actor_username="",
        result="failed",
    )
    _event(
        "ganzhou",
        division_code="620702100000",
        actor_username="other_county_admin",
        at=datetime(2024, 6, 20, 10, 0, tzinfo=TZ),
    )
    _event(
        "gaotai-locked",
        action="auth.lockout",
        division_code="620724101201",
        result="locked",
        at=datetime(2024, 7, 1, 0, 30, tzinfo=TZ),
    )


def test_it_shows_a_county_admin_the_events_of_their_county(actors: Actors, events: None) -> None:
    assert _codes(actors.county_admin) == {
        "gaotai-village",
        "gaotai-county",
        "gaotai-locked",
        "unknown-name",
    }


def test_it_shows_an_auditor_the_same_county(actors: Actors, events: None) -> None:
    assert "gaotai-village" in _codes(actors.auditor)
    assert "ganzhou" not in _codes(actors.auditor)


def test_it_hides_one_countys_events_from_another(actors: Actors, events: None) -> None:
    assert _codes(actors.other_county_admin) == {"ganzhou", "unknown-name"}


def test_it_lists_newest_first(actors: Actors, events: None) -> None:
    page = web_client(actors.county_admin).get(URL).context["page"]
    assert next(iter(page)).object_code == "gaotai-locked"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"action": "auth."}, {"unknown-name", "gaotai-locked"}),
        ({"action": "auth.lockout"}, {"gaotai-locked"}),
        ({"user": "county_admin"}, {"gaotai-county"}),
        ({"user": "county"}, set()),
        ({"result": "failed"}, {"unknown-name"}),
        ({"result": "locked"}, {"gaotai-locked"}),
        (
            {"result": "nonsense"},
            {"gaotai-village", "gaotai-county", "unknown-name", "gaotai-locked"},
        ),
        ({"object": "gaotai-county"}, {"gaotai-county"}),
        ({"since": "2024-07-01"}, {"gaotai-locked"}),
        ({"until": "2024-06-30"}, {"gaotai-village", "gaotai-county", "unknown-name"}),
        (
            {"since": "2024-06-15", "until": "2024-06-15"},
            {"gaotai-village", "gaotai-county", "unknown-name"},
        ),
        ({"action": "child.", "user": "village_director"}, {"gaotai-village"}),
    ],
)
def test_it_filters(
    actors: Actors, events: None, params: dict[str, str], expected: set[str]
) -> None:
    assert _codes(actors.county_admin, **params) == expected


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        *(("since", bad) for bad in ("2024-13-45", "2024-02-30", "yesterday", "2024-6-1x")),
        *(("until", bad) for bad in ("2024-13-45", "2024-02-30", "yesterday", "2024-6-1x")),
        # A real date, but its midnight in Beijing lies before the first day UTC can express.
        ("since", "0001-01-01"),
    ],
)
def test_it_ignores_a_date_that_is_no_date(
    actors: Actors, events: None, field: str, bad: str
) -> None:
    assert len(_codes(actors.county_admin, **{field: bad})) == 4


def test_it_sends_htmx_only_the_results(actors: Actors, events: None) -> None:
    client = web_client(actors.county_admin)
    full = client.get(URL).content.decode()
    fragment = client.get(URL, {"action": "auth."}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" in full
    assert 'id="results"' in full
    # The fragment is the whole #results element, so it must replace it, not go inside it.
    assert 'hx-target="#results" hx-swap="outerHTML"' in full
    assert "<html" not in fragment
    assert "<form" not in fragment
    assert fragment.lstrip().startswith('<div id="results">')
    assert "auth.lockout" in fragment
    assert "child.read" not in fragment


def _queries(actors: Actors, count: int) -> int:
    for n in range(count):
        _event(f"child-{count}-{n}")
    client = web_client(actors.county_admin)
    client.get(URL)  # the first request of a session may do one-off work
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert response.status_code == 200
    return len(queries)


def test_it_lists_in_a_constant_number_of_queries(actors: Actors) -> None:
    few = _queries(actors, 5)
    many = _queries(actors, 60)
    assert few == many
    # Session, user, device, scope, count, page, the footer's division, the session's renewal,
    # the navigation's unread-notification count.
    assert few <= 11


@pytest.mark.parametrize("field", ["action", "user", "object", "result", "since"])
def test_it_survives_a_nul_character_in_a_filter(actors: Actors, events: None, field: str) -> None:
    # PostgreSQL refuses NUL in a query; a hand-edited address must not become a server error.
    with_nul = _codes(actors.county_admin, **{field: "auth\x00."})
    assert with_nul == _codes(actors.county_admin, **{field: "auth."})
