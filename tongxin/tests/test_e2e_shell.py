"""The shell in a real browser at a phone's width (360×640): sign-in, each role's home page,
the language switch. Screenshots go to test-artifacts/ (not committed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tongxin.e2e import ARTIFACTS, DemoServer, assert_fits, demo_server, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("e2e-var")) as s:
        yield s


def _phone(browser: Any) -> Any:
    return browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN")


def _sign_in(page: Any, server: DemoServer, username: str) -> None:
    page.goto(server.url + "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", server.passwords[username])
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.parametrize(
    "username",
    ["demo_village", "demo_town", "demo_county", "demo_police", "demo_school", "demo_auditor"],
)
def test_it_signs_each_role_in_to_its_home_at_360px(
    browser: Any, server: DemoServer, username: str
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    context = _phone(browser)
    page = context.new_page()
    page.goto(server.url + "/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert_fits(page)
    _sign_in(page, server, username)
    assert page.url.rstrip("/") == server.url
    assert page.locator("main h1").count() == 1
    assert page.locator("article.panel").count() >= 1
    assert_fits(page)
    screenshot(page, f"home-{username}-360")
    context.close()


def test_it_switches_to_english_and_back(browser: Any, server: DemoServer) -> None:
    context = _phone(browser)
    page = context.new_page()
    _sign_in(page, server, "demo_village")
    page.click("footer button[value=en]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("main h1").inner_text() == "My work"
    page.click("footer button[value=zh-hans]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    context.close()


def test_it_refuses_a_wrong_password_in_chinese(browser: Any, server: DemoServer) -> None:
    context = _phone(browser)
    page = context.new_page()
    page.goto(server.url + "/")
    page.fill("input[name=username]", "demo_town")
    page.fill("input[name=password]", "not-the-password-1A")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "用户名或密码错误" in page.locator(".form-error").inner_text()
    context.close()
