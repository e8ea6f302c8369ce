"""What the API accepts as a body (issue 10): JSON nested 100,000 levels deep was a 500
(RecursionError), even on the anonymous token request; now any body the parser refuses is a
400 in Chinese, a body above the size limit 413, and the API's parsers are ours everywhere."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import override_settings
from django.urls import reverse
from rest_framework.settings import api_settings

from tongxin.core import api_input
from tongxin.core.api_input import MAX_JSON_DEPTH, json_depth
from tongxin.testing import Actors, api_client

DEEP = "[" * 100_000 + "]" * 100_000


def _post(client: Any, url: str, body: str | bytes, content_type: str = "application/json") -> Any:
    return client.post(url, body, content_type=content_type)


def _nested(depth: int) -> str:
    return '{"a":' * (depth - 1) + "[]" + "}" * (depth - 1)


@pytest.mark.parametrize("body", [DEEP, '{"a":' * 100_000 + "1" + "}" * 100_000])
def test_the_anonymous_token_request_refuses_deep_json_with_a_400(db: None, body: str) -> None:
    response = _post(api_client(None), reverse("api:auth_token"), body)
    assert response.status_code == 400
    assert "嵌套" in response.json()["detail"]


@pytest.mark.parametrize("url", ["api:contact_create", "api:classify", "api:report_collection"])
def test_signed_in_endpoints_refuse_deep_json_with_a_400(actors: Actors, url: str) -> None:
    response = _post(api_client(actors.county_admin), reverse(url), DEEP)
    assert response.status_code == 400
    assert "嵌套" in response.json()["detail"]


def test_the_nesting_limit_is_exact(actors: Actors) -> None:
    client = api_client(actors.county_admin)
    url = reverse("api:classify")
    # Within the limit the body is parsed (and then refused by the serializer, naming fields).
    within = _post(client, url, _nested(MAX_JSON_DEPTH))
    assert within.status_code == 400
    assert "detail" not in within.json()
    beyond = _post(client, url, _nested(MAX_JSON_DEPTH + 1))
    assert beyond.status_code == 400
    assert "嵌套" in beyond.json()["detail"]


@pytest.mark.parametrize(
    ("value", "depth"),
    [(1, 0), ([], 1), ({}, 1), ([[1]], 2), ({"a": [{"b": []}]}, 4), ([1, [2, [3, [4]]]], 4)],
)
def test_json_depth(value: Any, depth: int) -> None:
    assert json_depth(value) == depth


@pytest.mark.parametrize(
    "body",
    [
        b'{"username": ',
        b'{"username": NaN}',
        b'{"username": Infinity}',
        b'{"username": ' + b"9" * 5000 + b"}",  # int() refuses more than 4,300 digits
        b"\xff\xfe\x00",
    ],
)
def test_malformed_json_is_a_400_in_chinese(db: None, body: bytes) -> None:
    response = _post(api_client(None), reverse("api:auth_token"), body)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "JSON" in detail or "请求正文" in detail
    assert any("\u4e00" <= ch <= "\u9fff" for ch in detail)


def test_a_compressing_charset_is_refused(db: None) -> None:
    response = _post(
        api_client(None),
        reverse("api:auth_token"),
        b"x",
        content_type="application/json; charset=bz2_codec",
    )
    assert response.status_code == 400


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_json_body_above_the_limit_is_a_413(db: None) -> None:
    body = json.dumps({"username": "x" * 2000, "password": "y"})
    response = _post(api_client(None), reverse("api:auth_token"), body)
    assert response.status_code == 413
    assert "请求过大" in response.json()["detail"]


@override_settings(TONGXIN_API_MAX_MULTIPART_BYTES=10_000)
def test_a_multipart_body_above_the_limit_is_a_413_before_it_is_read(actors: Actors) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = api_client(actors.reporter)
    scan = SimpleUploadedFile("scan.pdf", b"%PDF-1.4\n" + b"0" * 20_000, "application/pdf")
    response = client.post(
        reverse("api:report_collection"),
        {"urgency": "urgent", "harms": ["neglect"], "facts": "x", "attachments": scan},
        format="multipart",
    )
    assert response.status_code == 413


def test_every_api_parser_is_ours() -> None:
    from tongxin.protection import api as protection_api

    parsers: list[Any] = list(api_settings.DEFAULT_PARSER_CLASSES)
    assert parsers == [api_input.JSONParser]
    assert all(p.__module__ == "tongxin.core.api_input" for p in protection_api.PARSERS)
