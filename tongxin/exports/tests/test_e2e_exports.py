"""A county officer on a 360×640 phone exports the county's whole list of children, longer than
the inline limit (lowered to 100 rows for this server): the link asks to confirm, the worker
writes the file while the page waits, then the page offers it and the download holds every
active child. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tongxin.e2e import DemoServer, assert_fits, demo_server, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("e2e-exports"), TONGXIN_EXPORT_INLINE_ROWS="100") as s:
        yield s


def test_a_long_list_is_written_in_the_background_on_a_phone(
    browser: Any, server: DemoServer, tmp_path: Path
) -> None:
    context = browser.new_context(
        viewport={"width": 360, "height": 640}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url + "/")
    page.fill("input[name=username]", "demo_county")
    page.fill("input[name=password]", server.passwords["demo_county"])
    page.click("button[type=submit]")
    page.wait_for_load_state()

    page.goto(server.url + "/children/")
    page.click("text=导出 Excel（身份证号码脱敏）")
    page.wait_for_load_state()
    said = re.search(r"名单共 (\d+) 行：文件将在后台生成", page.content())
    assert said, page.content()
    assert_fits(page)
    screenshot(page, "export-confirm-360")

    page.click("button:has-text('生成文件')")
    page.wait_for_load_state()
    assert "/exports/" in page.url
    link = page.locator("a:has-text('下载')")
    link.wait_for(timeout=60_000)  # the page polls until the worker has written the file
    assert "可以下载" in page.locator("#status").inner_text()
    assert_fits(page)
    screenshot(page, "export-ready-360")

    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "children.xlsx"
    download.value.save_as(saved)
    sheet = load_workbook(saved, read_only=True).active
    assert sheet is not None
    rows = sum(1 for _ in sheet.iter_rows(min_row=2, values_only=True))
    assert rows == int(said[1]) > 100
    assert not errors, errors
    context.close()
