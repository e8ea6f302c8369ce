"""Error pages in Chinese: 400, 403 (and a refused form token), 404 with the site's navigation,
500 standing alone (no database, no context processors)."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client

from tongxin.testing import Actors, web_client


def _page(response: Any) -> str:
    assert response["Content-Type"].startswith("text/html")
    return str(response.content.decode())


def _has_navigation(html: str) -> bool:
    return 'class="nav-links"' in html and "/accounts/logout/" in html


def test_it_answers_a_wrong_address_in_chinese_with_the_navigation(actors: Actors) -> None:
    response = web_client(actors.county_admin).get("/no-such-page/")
    assert response.status_code == 404
    html = _page(response)
    assert '<html lang="zh-hans">' in html
    assert "页面不存在" in html
    assert "Not Found" not in html
    assert _has_navigation(html)


def test_it_answers_a_wrong_address_in_chinese_to_anonymous_users(db: None) -> None:
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in _page(response)


def test_it_refuses_a_read_only_role_in_chinese_with_the_navigation(actors: Actors) -> None:
    response = web_client(actors.auditor).get("/accounts/users/new/")
    assert response.status_code == 403
    html = _page(response)
    assert "无权操作" in html
    assert "Forbidden" not in html
    assert _has_navigation(html)


def test_it_explains_a_refused_form_token_in_chinese(actors: Actors) -> None:
    client = web_client(actors.village_director)
    client.handler.enforce_csrf_checks = True
    response = client.post("/accounts/logout/")
    assert response.status_code == 403
    html = _page(response)
    assert "表单已失效" in html
    assert "CSRF" not in html
    assert _has_navigation(html)


def test_it_answers_a_bad_request_in_chinese_with_the_navigation(actors: Actors) -> None:
    # More fields than Django accepts in one request: a SuspiciousOperation, answered 400.
    params = {f"f{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = web_client(actors.county_admin).get("/audit/", params)
    assert response.status_code == 400
    html = _page(response)
    assert "请求有误" in html
    assert _has_navigation(html)


def test_it_answers_a_foreign_host_with_the_chinese_400(db: None) -> None:
    response = Client(HTTP_HOST="tongxin.evil.example").get("/")
    assert response.status_code == 400
    assert "请求有误" in _page(response)


def test_it_draws_the_500_page_without_a_database_or_a_request() -> None:
    # No `db` fixture: any query would fail the test; no request: no context processor runs.
    html = render_to_string("500.html")
    assert "服务器出错" in html
    assert 'href="/"' in html


@pytest.mark.urls("tongxin.tests.failing_urls")
def test_it_answers_a_server_error_with_the_chinese_500(actors: Actors) -> None:
    client = web_client(actors.county_admin)
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    html = _page(response)
    assert "服务器出错" in html
    assert "Server Error" not in html


def test_make_run_serves_like_production() -> None:
    """`make run`: DEBUG off (Chinese error pages, not Django's technical ones), static files
    collected (hashed and compressed) before the server starts."""
    make = shutil.which("make")
    assert make is not None
    plan = subprocess.run(
        [make, "-n", "-B", "run"], cwd=settings.BASE_DIR, capture_output=True, text=True
    ).stdout
    collect = plan.index("collectstatic")
    serve = next(line for line in plan.splitlines() if "runserver" in line)
    assert "DEBUG=0" in serve
    work = next(line for line in plan.splitlines() if "db_worker" in line)
    assert "DEBUG=0" in work  # the background worker runs beside it, the same way
    assert "DEBUG=1" not in plan
    assert collect < plan.index("runserver")
