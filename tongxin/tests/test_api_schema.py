"""The OpenAPI document is valid OpenAPI 3, lists every endpoint, and the docs page needs no CDN."""

from __future__ import annotations

import json
import re
from typing import Any

from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from drf_spectacular.validation import validate_schema

from tongxin.testing import Actors


def test_it_serves_a_valid_openapi_3_document(db: None) -> None:
    response = Client().get(reverse("schema"), {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # type: ignore[no-untyped-call]  # raises on any violation
    assert {"/api/v1/auth/token", "/api/v1/me"} <= set(schema["paths"])


def test_it_generates_the_schema_without_warnings(tmp_path: object) -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_it_serves_the_docs_page_from_our_own_static_files(db: None) -> None:
    response = Client().get(reverse("api_docs"))
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, "the docs page loads no assets?"
    assert all(not s.startswith(("http:", "https:", "//")) for s in sources), sources


def test_it_answers_401_without_a_token_and_the_user_with_one(actors: Actors) -> None:
    from tongxin.testing import api_client

    assert api_client(None).get(reverse("api:me")).status_code == 401
    me = api_client(actors.village_director).get(reverse("api:me")).json()
    assert me["username"] == "village_director"
    assert me["role"] == "village_director"
    assert me["division"] == {"code": "620724100201", "name": "东村", "level": "village"}


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_every_operation_that_needs_a_token_documents_401(db: None) -> None:
    schema = json.loads(Client().get(reverse("schema"), {"format": "json"}).content)
    needing = [(m, p, op) for m, p, op in _operations(schema) if {} not in op.get("security", [{}])]
    assert len(needing) > 30  # the walk reached the API
    missing = [f"{m} {p}" for m, p, op in needing if "401" not in op["responses"]]
    assert not missing, missing
    token = schema["paths"]["/api/v1/auth/token"]["post"]
    assert "401" not in token["responses"]  # anyone may ask for a token


def test_every_operation_that_reads_input_documents_400(db: None) -> None:
    schema = json.loads(Client().get(reverse("schema"), {"format": "json"}).content)
    missing = [
        f"{m} {p}"
        for m, p, op in _operations(schema)
        if (
            "requestBody" in op
            or any(q["in"] == "query" and q["name"] != "page" for q in op.get("parameters", []))
        )
        and "400" not in op["responses"]
    ]
    assert not missing, missing
    reports = schema["paths"]["/api/v1/reports"]["get"]["responses"]
    assert reports["400"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ValidationErrors"
    )
