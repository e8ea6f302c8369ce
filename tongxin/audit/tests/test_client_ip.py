"""The address the audit trail records: the peer's, or behind nginx (BEHIND_PROXY=1) the one
nginx saw and sent as X-Real-IP."""

from __future__ import annotations

from typing import Any

from django.test import RequestFactory

from tongxin.audit.services import client_ip


def _request(**meta: str) -> Any:
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1")
    request.META.update(meta)
    return request


def test_it_records_the_peer_address(settings: Any) -> None:
    settings.TONGXIN_BEHIND_PROXY = False
    assert client_ip(_request(HTTP_X_REAL_IP="203.0.113.9")) == "127.0.0.1"


def test_behind_nginx_it_records_the_address_nginx_saw(settings: Any) -> None:
    settings.TONGXIN_BEHIND_PROXY = True
    assert client_ip(_request(HTTP_X_REAL_IP="203.0.113.9")) == "203.0.113.9"
    assert client_ip(_request(HTTP_X_REAL_IP="2001:db8::1")) == "2001:db8::1"


def test_behind_nginx_a_header_that_is_no_address_is_ignored(settings: Any) -> None:
    settings.TONGXIN_BEHIND_PROXY = True
    assert client_ip(_request(HTTP_X_REAL_IP="<script>")) == "127.0.0.1"
    assert client_ip(_request()) == "127.0.0.1"
    assert client_ip(None) is None
