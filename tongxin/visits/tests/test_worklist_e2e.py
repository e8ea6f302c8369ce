"""The worklist on a 360×640 phone, in headless Chromium, on the demo: a village director opens
it from the navigation, filters it, taps "record a contact" on the most urgent line, records a
phone call and comes back to the worklist. Nothing may scroll sideways. Screenshots go to
test-artifacts/ (not committed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tongxin.e2e import (
    DemoServer,
    assert_fits,
    click_menu,
    demo_server,
    screenshot,
)

pytestmark = pytest.mark.e2e

WIDTH, HEIGHT = 360, 640


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("e2e-worklist")) as s:
        yield s


def _shot(page: Any, name: str) -> None:
    screenshot(page, f"worklist-{name}-360")


def test_a_director_works_through_the_worklist(browser: Any, server: DemoServer) -> None:
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    # Script errors (a CSP refusal included); a missing resource shows in ``missing`` (the
    # browser's own favicon request, which the app does not serve, is not one).
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    missing: list[str] = []
    page.on(
        "response",
        lambda r: missing.append(r.url) if r.status >= 400 and "favicon" not in r.url else None,
    )
    page.goto(server.url + "/")
    page.fill("input[name=username]", "demo_village")
    page.fill("input[name=password]", server.passwords["demo_village"])
    page.click("button[type=submit]")
    page.wait_for_load_state()

    click_menu(page, "nav a[href='/visits/worklist/']")
    page.wait_for_load_state()
    lines = page.locator("#worklist li.work-line")
    assert lines.count() > 0
    assert_fits(page)
    _shot(page, "list")

    # The status chips filter the list (a plain link, so it works without JavaScript too).
    page.click(".status-counts a.status-done")
    page.wait_for_load_state()
    assert (
        page.locator("#worklist li.work-line").count()
        == page.locator("#worklist li.status-done").count()
    )

    # The most urgent open line: record a phone call, and land back on the worklist.
    page.goto(server.url + "/visits/worklist/")
    count = page.locator("#worklist li.work-line").count()
    first = page.locator("#worklist li.work-line a.record").first
    name = first.locator("xpath=ancestor::li").locator(".who a").first.inner_text()
    first.click()
    page.wait_for_load_state()
    assert "/visits/contacts/new/" in page.url
    assert_fits(page)
    page.click("label:has(> input[name=kind][value=phone])")
    # A contact names whom it reached and what was checked (an empty one is refused).
    page.click("label:has(> input[name=met_caregiver])")
    page.click("label:has(> input[name=all_good])")
    page.click("form#contact-form button[type=submit]")
    page.wait_for_load_state()
    assert page.url.split("?")[0].endswith("/visits/worklist/")
    assert page.locator(".flash").count() >= 1
    # The child is still on the list (a line per obligation), now with today's contact.
    assert page.locator("#worklist li.work-line").count() == count
    assert page.locator("#worklist li.work-line", has_text=name).count() >= 1
    assert_fits(page)
    _shot(page, "after")
    assert not errors, errors
    assert not missing, missing
    context.close()
