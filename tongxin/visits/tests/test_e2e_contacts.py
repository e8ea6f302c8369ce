"""A village director on a 360×640 phone, in headless Chromium, through the real UI: signs in,
opens a child's file, records a monthly phone call (a checklist concern becomes a problem
found, the phone's location added) and a home visit. Nothing may scroll sideways. Screenshots
go to test-artifacts/ (not committed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tongxin.e2e import (
    DemoServer,
    assert_fits,
    demo_server,
    screenshot,
)
from tongxin.visits.models import CHECKLIST_FIELDS

pytestmark = pytest.mark.e2e

WIDTH, HEIGHT = 360, 640
# The phone's position (高台县城), given to the page through the browser's geolocation.
POSITION = {"latitude": 39.376543, "longitude": 99.812345}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("e2e-contacts")) as s:
        yield s


# How many links to a brother's or sister's file the family section of a file holds.
SIBLING_LINKS = """Array.from(document.querySelectorAll('#family a')).filter(
    a => /^\\/children\\/[0-9a-f-]{36}\\/$/.test(a.pathname)).length"""


def _shot(page: Any, name: str) -> None:
    """The whole page at 360 px, and its first screen. The whole page is taken in a window as
    tall as the page, so that the form's sticky Save bar is drawn at the bottom, where a phone
    shows it once scrolled there (a full-page capture would draw it over the middle)."""
    screenshot(page, f"contacts-{name}-screen-360", full_page=False)
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": WIDTH, "height": height})
    screenshot(page, f"contacts-{name}-360")
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})


def _choose(page: Any, name: str, value: str) -> None:
    """Tap a big radio button (its label: the input itself is visually hidden)."""
    page.click(f"label:has(> input[name={name}][value={value}])")
    assert page.is_checked(f"input[name={name}][value={value}]")


def _tick(page: Any, name: str) -> None:
    page.click(f"label:has(> input[name={name}])")
    assert page.is_checked(f"input[name={name}]")


def test_a_director_records_a_phone_call_and_a_home_visit(browser: Any, server: DemoServer) -> None:
    context = browser.new_context(
        viewport={"width": WIDTH, "height": HEIGHT},
        locale="zh-CN",
        geolocation=POSITION,
        permissions=["geolocation"],
    )
    page = context.new_page()
    errors: list[str] = []
    # Script errors (a CSP refusal included); a missing page resource shows in ``missing``
    # (the browser's own favicon request, which the app does not serve, is not one).
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    page.goto(server.url + "/")
    page.fill("input[name=username]", "demo_village")
    page.fill("input[name=password]", server.passwords["demo_village"])
    page.click("button[type=submit]")
    page.wait_for_load_state()

    # A child of the director's village, from the list of children.
    page.goto(server.url + "/children/")
    page.click(".child-list td.name a >> nth=0")
    page.wait_for_load_state()
    file_url = page.url
    before = page.locator("#contacts li.contact").count()
    assert_fits(page)

    # The monthly phone call: one screen, phone preselected, today's date.
    page.click("#record-contact")
    page.wait_for_load_state()
    assert page.is_checked("input[name=kind][value=phone]")
    assert page.input_value("input[name=day]")
    assert_fits(page)
    assert page.locator("details.problem:visible").count() == 0  # shown only for a concern
    _shot(page, "form")
    _tick(page, "met_caregiver")
    _choose(page, "check_living", "good")
    _choose(page, "check_parents_weekly", "good")
    _choose(page, "check_safety", "concern")
    problem = page.locator(".check-row[data-item=check_safety] details.problem")
    assert problem.is_visible()
    page.fill("textarea[name=check_safety_problem]", "屋后水渠无护栏，孩子放学后常去玩")
    page.fill("textarea[name=check_safety_solution]", "联系村委会加装护栏，叮嘱祖母看护")
    page.select_option("select[name=check_safety_severity]", "high")
    page.fill("textarea[name=notes]", "与祖母通话，孩子近况良好。")
    page.click("#locate")
    # Waited for through a locator: a script given as a string is refused by the CSP.
    page.locator("#location-status", has_text="39.376543").wait_for()
    assert page.input_value("input[name=latitude]") == "39.376543"
    assert_fits(page)
    form_height = page.evaluate("document.documentElement.scrollHeight")
    _shot(page, "phone-filled")
    page.click("form#contact-form button[type=submit]")
    page.wait_for_load_state()
    assert page.url.split("#")[0] == file_url.split("#")[0]
    assert page.locator(".flash").count() >= 1
    assert page.locator("#contacts li.contact").count() == before + 1
    assert "屋后水渠无护栏" in page.locator("#problems").inner_text()
    assert_fits(page)
    _shot(page, "file-after-phone")

    # The quarterly home visit, in a family with several children: it names them all and
    # counts for each.
    page.goto(server.url + "/children/")
    files = page.eval_on_selector_all(".child-list td.name a", "els => els.map(a => a.href)")
    for url in files[:40]:
        page.goto(url)
        if page.evaluate(SIBLING_LINKS) > 0:
            break
    else:
        pytest.fail("no family with several children in the director's first 40 files")
    page.click("#record-contact")
    page.wait_for_load_state()
    _choose(page, "kind", "home_visit")
    assert page.locator(".siblings-note").is_visible()
    assert page.locator(".siblings-note strong").count() >= 2
    assert page.locator(".also").is_hidden()
    _tick(page, "met_child")
    _choose(page, "check_living", "good")
    _choose(page, "check_safety", "good")
    assert_fits(page)
    _shot(page, "home-visit")
    page.click("form#contact-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".flash").count() >= 1
    assert_fits(page)
    _shot(page, "file-after-visit")

    # The visit as recorded: every child of the family credited; the author may still edit.
    page.click("#contacts li.contact a >> nth=0")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("入户走访")
    assert page.locator("dd a[href^='/children/']").count() >= 2
    assert page.locator("a[href$='/edit/']").count() == 1
    assert_fits(page)
    _shot(page, "detail")
    assert not errors, errors
    assert not missing, missing
    context.close()
    print(f"contact form: {form_height} px tall at {WIDTH} px wide")


# Every control of the contact form inside the form's box (and so inside the phone's width):
# [name, right edge, the form's right edge] of those that stick out. A date or time input's
# own minimum width once pushed the time 9 px past the form, cut off at 360 px.
STICKING_OUT = """() => {
    const form = document.getElementById('contact-form').getBoundingClientRect();
    return Array.from(document.querySelectorAll('#contact-form input, #contact-form select,'
        + ' #contact-form textarea, #contact-form button, #contact-form label'))
      .filter(e => e.offsetParent !== null)
      .map(e => [e.name || e.htmlFor || e.tagName, e.getBoundingClientRect().right, form.right])
      .filter(([, right, edge]) => right > edge + 0.5);
}"""


def _form_fits(page: Any) -> None:
    assert_fits(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    assert page.evaluate(STICKING_OUT) == []


def test_a_routine_monthly_call_is_one_form_and_four_taps_from_home(
    browser: Any, server: DemoServer
) -> None:
    """From the home page's "monthly contacts due": 记录联系, the caregiver reached, 全部良好,
    保存. Saved untouched, the form is refused saying who is missing."""
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    # Script errors (a CSP refusal included); the browser's own favicon request is not one.
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.goto(server.url + "/")
    page.fill("input[name=username]", "demo_village")
    page.fill("input[name=password]", server.passwords["demo_village"])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    due = page.locator("#panel-contacts_due a.record-contact")
    assert due.count() >= 1
    assert_fits(page)
    screenshot(page, "contacts-home-panels-360", full_page=False)

    # Saved untouched: refused on the "who was met" fieldset, nothing else lost.
    due.first.click()
    page.wait_for_load_state()
    _form_fits(page)
    _shot(page, "routine-empty")
    page.fill("textarea[name=notes]", "电话无人接听")
    page.click("form#contact-form button[type=submit]")
    page.wait_for_load_state()
    refused = page.locator(".met-fields .field-error")
    assert refused.is_visible()
    assert "联系到了谁" in refused.inner_text()
    assert page.input_value("textarea[name=notes]") == "电话无人接听"
    _form_fits(page)
    _shot(page, "routine-refused")
    # A home visit says what it lacks item by item: the child seen or why not, the two checks.
    _choose(page, "kind", "home_visit")
    _tick(page, "met_caregiver")
    page.click("form#contact-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".not-seen-reason .field-error").is_visible()
    for item in ("check_living", "check_safety"):
        assert page.locator(f".check-row[data-item={item}] .field-error").is_visible(), item
    assert page.is_checked("input[name=kind][value=home_visit]")
    _form_fits(page)
    _shot(page, "home-visit-refused")

    # The honest routine call, counted from the home page.
    page.goto(server.url + "/")
    taps = 0

    def tap(selector: str) -> None:
        """A tap on what the phone shows without scrolling: one screen."""
        nonlocal taps
        box = page.locator(selector).first.bounding_box()
        assert box is not None, selector
        assert page.evaluate("window.scrollY") == 0, selector
        assert box["y"] >= 0, (selector, box)
        assert box["y"] + box["height"] <= HEIGHT, (selector, box)
        page.click(selector)
        taps += 1

    record = page.locator("#panel-contacts_due a.record-contact").first
    child = parse_qs(urlsplit(record.get_attribute("href") or "").query)["child"][0]
    tap("#panel-contacts_due a.record-contact >> nth=0")
    page.wait_for_load_state()
    assert page.is_checked("input[name=kind][value=phone]")
    assert page.input_value("input[name=day]")
    tap("label:has(> input[name=met_caregiver])")
    tap("label:has(> input[name=all_good])")
    for item in CHECKLIST_FIELDS:
        assert page.is_checked(f"input[name={item}][value=good]"), item
    # The list folds away: the rest of the call fits on the phone's screen.
    assert not page.locator("details.check-items").evaluate("d => d.open")
    _form_fits(page)
    save = page.locator("form#contact-form button[type=submit]").bounding_box()
    assert save is not None
    _shot(page, "routine-all-good")
    # An item can still be changed: the list opens and the choice stays.
    page.click("details.check-items > summary")
    _choose(page, "check_mood", "concern")
    assert not page.is_checked("input[name=all_good]")
    _choose(page, "check_mood", "good")
    page.evaluate("window.scrollTo(0, 0)")
    tap("form#contact-form button[type=submit]")
    page.wait_for_load_state()
    assert page.url.rstrip("/") == server.url
    assert page.locator(".flash").count() >= 1
    assert taps <= 5, taps
    assert not errors, errors

    # What was saved, read back through the API.
    token = page.request.post(
        server.url + "/api/v1/auth/token",
        data={"username": "demo_village", "password": server.passwords["demo_village"]},
    ).json()["token"]
    contacts = page.request.get(
        f"{server.url}/api/v1/children/{child}/contacts",
        headers={"Authorization": f"Token {token}"},
    ).json()["results"]
    latest = contacts[0]
    assert (latest["kind"], latest["met_caregiver"], latest["notes"]) == ("phone", True, "")
    assert {latest[item] for item in CHECKLIST_FIELDS} == {"good"}
    context.close()
    print(f"routine call: {taps} taps; Save at {save['y']:.0f}–{save['y'] + save['height']:.0f} px")
