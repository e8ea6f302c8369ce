"""A focused fuzz (issue 10; schemathesis is not a dependency): every API operation that reads
query parameters, and the list page and export of children, walked with hostile values. None
may answer 500; a refusal is a 4xx in JSON (API) naming what is wrong."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tongxin.registry.models import Child
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors, api_client, web_client

# '²' passes str.isdigit() and fails int(); '٣' is read by int(); 5,000 digits make int() raise.
HOSTILE = ["²", "-1", "9" * 30, "", "AAA", "1e9", "\x00", "٣", "６", "9" * 5000, "<b>", "%"]

# The API's operations that read query parameters ({public_id}: a child's file).
LIST_OPERATIONS = [
    "/api/v1/benefits/programmes",
    "/api/v1/children",
    "/api/v1/children/{public_id}/contacts",
    "/api/v1/compliance",
    "/api/v1/reports",
    "/api/v1/reports/stats",
    "/api/v1/worklist",
]
# Who walks them: a county officer reaches every list, a village director the village's.
WALKERS = ("county_admin", "village_director")


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(Client().get(reverse("schema"), {"format": "json"}).content)
    return schema


def _query_parameters(schema: dict[str, Any], path: str) -> list[str]:
    operation = schema["paths"][path]["get"]
    return [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]


def test_the_walk_covers_every_operation_with_query_parameters(db: None) -> None:
    schema = _schema()
    with_query = sorted(
        p for p in schema["paths"] if "get" in schema["paths"][p] and _query_parameters(schema, p)
    )
    assert with_query == sorted(LIST_OPERATIONS)


def _child(actors: Actors) -> Child:
    return make_family(actors)


@pytest.mark.parametrize("walker", WALKERS)
@pytest.mark.parametrize("path", LIST_OPERATIONS)
def test_hostile_query_values_never_answer_500(actors: Actors, path: str, walker: str) -> None:
    child = _child(actors)
    url = path.replace("{public_id}", str(child.public_id))
    names = [*_query_parameters(_schema(), path), "no_such_parameter"]
    client = api_client(getattr(actors, walker))
    failures = []
    for name in names:
        for value in HOSTILE:
            response = client.get(url, {name: value})
            if response.status_code >= 500 or not response["Content-Type"].startswith(
                "application/json"
            ):
                failures.append(f"{name}={value[:12]!r}: {response.status_code}")
            elif response.status_code == 400:
                # The answer names a parameter (this one, or a required one left out).
                body = response.json()
                assert set(body) & {*names, "detail"}, (name, value[:12], body)
    # Every parameter hostile at once.
    response = client.get(url, dict.fromkeys(names, "²"))
    if response.status_code >= 500:
        failures.append(f"all: {response.status_code}")
    assert not failures, failures


@pytest.mark.parametrize("view", ["registry:child_list", "registry:child_export"])
def test_the_list_page_and_its_export_never_answer_500(actors: Actors, view: str) -> None:
    _child(actors)
    client = web_client(actors.county_admin)
    names = [
        "age_from",
        "age_to",
        "age",
        "status",
        "category",
        "risk",
        "enrolment",
        "division",
        "q",
        "page",
        "full_ids",
        "idq",
    ]
    failures = []
    for name in names:
        for value in HOSTILE:
            response = client.get(reverse(view), {name: value})
            if response.status_code >= 500:
                failures.append(f"{name}={value[:12]!r}: {response.status_code}")
    assert not failures, failures


@pytest.mark.parametrize(
    ("url", "params", "named"),
    [
        ("/api/v1/compliance", {"period": "２０２４-Q2", "division": "620724000000"}, "period"),
        ("/api/v1/reports/stats", {"period": "٢٠٢٤", "division": "620724000000"}, "period"),
    ],
)
def test_periods_are_read_in_ascii_digits_only(
    actors: Actors, url: str, params: dict[str, str], named: str
) -> None:
    response = api_client(actors.county_admin).get(url, params)
    assert response.status_code == 400
    assert named in response.json()
