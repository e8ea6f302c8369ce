"""A town supervisor on a 360×640 phone, in headless Chromium, on the demo: opens a child's risk
page, lowers the level with a reason, and reads the history (the level in force over time, the
override with its reason and who set it). Nothing may scroll sideways. Screenshots go to
test-artifacts/ (not committed)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from tongxin.e2e import DemoServer, assert_fits, demo_server, screenshot

pytestmark = pytest.mark.e2e

WIDTH, HEIGHT = 360, 640


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("e2e-risk")) as s:
        yield s


def test_a_supervisor_overrides_and_reads_the_history(browser: Any, server: DemoServer) -> None:
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url + "/")
    page.fill("input[name=username]", "demo_town")
    page.fill("input[name=password]", server.passwords["demo_town"])
    page.click("button[type=submit]")
    page.wait_for_load_state()

    page.goto(server.url + "/children/")
    page.click(".child-list td.name a >> nth=0")
    page.wait_for_load_state()
    code = re.search(r"/children/([0-9a-f-]{36})/", page.url)
    assert code is not None
    page.goto(f"{server.url}/visits/children/{code[1]}/risk/")
    assert page.locator("#risk-history li").count() >= 1  # the demo's levels, computed
    assert_fits(page)

    until = (date.today() + timedelta(days=30)).isoformat()
    page.select_option("select[name=level]", "low")
    page.fill("input[name=until]", until)
    page.fill("textarea[name=reason]", "父亲已返乡，家中照料情况良好")
    page.click("form.narrow-form button[type=submit]")
    page.wait_for_load_state()
    latest = page.locator("#risk-history li").first.inner_text()
    assert "低" in latest
    assert "父亲已返乡" in latest
    assert "父亲已返乡" in page.locator("#risk-overrides").inner_text()
    assert_fits(page)
    screenshot(page, "risk-history-360")
    assert not errors, errors
    context.close()
