"""A guardianship intervention (监护干预) in a real browser at a phone's size (360×640): the
county officer records a temporary guardianship (临时监护) with a placement on a child's file,
with the decision's scan; tries to end it without an assessment and is refused with a clear
message; records the assessment; ends it. The file's section follows. Every page fits 360 px.
Screenshots go to test-artifacts/ (not committed)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tongxin.e2e import DemoServer, demo_server
from tongxin.protection.tests.e2e_support import call, check_page, height, on_screen, phone

pytestmark = pytest.mark.e2e

PLACED_WITH = "外祖父母（城关镇东关村三组）"  # synthetic
DECIDED_BY = "高台县民政局"
DOCUMENT_NUMBER = "高民临监〔2026〕3号"
ASSESSOR = "高台县未成年人救助保护中心 李社工"
SUMMARY = "父亲已戒酒并完成家庭教育指导，居住条件改善，能够重新履行监护职责。"
END_REASON = "经评估，父亲能够重新履行监护职责，孩子回到父亲身边生活。"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("e2e-interventions")) as s:
        yield s


def test_a_county_officer_records_and_ends_a_temporary_guardianship(
    browser: Any, server: DemoServer, tmp_path: Path
) -> None:
    world = call(server, "intervention_world")
    file_url = f"{server.url}/children/{world['child']}/"
    today = timezone.localdate()
    scan = tmp_path / "决定书.pdf"
    scan.write_bytes(b"%PDF-1.4\n" + b"0" * 2000)  # a scan of the decision (synthetic)

    page, failures = phone(browser, server, "demo_county")

    # The child's file: no intervention yet; record one from the file's section.
    page.goto(file_url)
    section = page.locator("#interventions")
    assert "未记录监护干预" in section.inner_text()
    check_page(page, "interventions-file-before", fits_only=True)
    section.locator("a[href$='/interventions/new/']").click()
    page.wait_for_load_state()
    assert height(page, "select[name=kind]") >= 40
    check_page(page, "interventions-form")

    # A temporary guardianship without its placement is refused, the field named.
    page.select_option("select[name=kind]", "temporary_guardianship")
    page.fill("input[name=decided_on]", (today - timedelta(days=3)).isoformat())
    page.fill("input[name=decision_maker]", DECIDED_BY)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    refusal = page.locator("label:has(select[name=placement]) .field-error")
    assert "请选择临时监护期间儿童的安置方式" in refusal.inner_text()
    assert on_screen(page, "label:has(select[name=placement])")
    check_page(page, "interventions-form-refused")
    assert call(server, "intervention_state", child=world["child"]) == {"interventions": []}

    page.select_option("select[name=placement]", "kin_care")
    page.fill("input[name=placed_with]", PLACED_WITH)
    page.fill("input[name=document_number]", DOCUMENT_NUMBER)
    page.fill("input[name=ends_on]", (today + timedelta(days=90)).isoformat())
    page.set_input_files("input[name=documents]", str(scan))
    check_page(page, "interventions-form-filled")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "/reports/interventions/" in page.url
    detail_url = page.url
    assert page.locator("h1").inner_text().strip() == "临时监护"
    assert page.locator("#intervention-state").inner_text().strip() == "有效"
    facts = page.locator("#intervention").inner_text()
    assert "委托亲属抚养" in facts
    assert PLACED_WITH in facts
    assert DOCUMENT_NUMBER in facts
    assert page.locator("#documents a").count() == 1
    assert "尚未记录评估" in page.locator("#assessments").inner_text()
    check_page(page, "interventions-recorded")

    # The scan opens (a look that is audited).
    document = page.request.get(
        server.url + (page.locator("#documents a").get_attribute("href") or "")
    )
    assert document.status == 200
    assert document.body().startswith(b"%PDF")

    [recorded] = call(server, "intervention_state", child=world["child"])["interventions"]
    assert recorded["kind"] == "temporary_guardianship"
    assert recorded["placement"] == "kin_care"
    assert recorded["placed_with"] == PLACED_WITH
    assert recorded["recorded_by"] == "demo_county"
    assert recorded["documents"] == [{"kind": "pdf", "size": scan.stat().st_size, "stored": True}]
    assert detail_url.endswith(f"/reports/interventions/{recorded['code']}/")

    # Ending it without an assessment: refused, and the page says why.
    page.click("#end-intervention")
    page.wait_for_load_state()
    assert "须经评估" in page.locator("main .flash").inner_text()
    check_page(page, "interventions-end-form")
    page.fill("input[name=ended_on]", today.isoformat())
    page.fill("textarea[name=reason]", END_REASON)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    error = page.locator(".form-error")
    assert error.is_visible()
    assert "临时监护结束前必须先记录评估" in error.inner_text()
    assert on_screen(page, ".form-error")  # the phone lands on it
    check_page(page, "interventions-end-refused")
    [still] = call(server, "intervention_state", child=world["child"])["interventions"]
    assert still["ended_on"] is None
    assert still["ends"] == []

    # The assessment, then the end.
    page.goto(detail_url)
    page.click("p.actions a[href$='/assess/']")
    page.wait_for_load_state()
    page.fill("input[name=assessed_on]", today.isoformat())
    page.fill("input[name=assessor]", ASSESSOR)
    page.select_option("select[name=conclusion]", "return_to_guardian")
    page.fill("textarea[name=summary]", SUMMARY)
    check_page(page, "interventions-assessment-form")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.url == detail_url
    assert SUMMARY in page.locator("#assessments").inner_text()
    check_page(page, "interventions-assessed")
    page.click("#end-intervention")
    page.wait_for_load_state()
    assert page.locator("main .flash[role=note]").count() == 0  # an assessment is on record
    page.fill("input[name=ended_on]", today.isoformat())
    page.fill("textarea[name=reason]", END_REASON)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.url == detail_url
    assert page.locator("#intervention-state").inner_text().strip() == "已结束"
    assert END_REASON in page.locator("#intervention").inner_text()
    assert page.locator("#end-intervention").count() == 0
    check_page(page, "interventions-ended")

    [ended] = call(server, "intervention_state", child=world["child"])["interventions"]
    assert ended["ended_on"] == today.isoformat()
    assert ended["end_reason"] == END_REASON
    assert ended["ended_by"] == "demo_county"
    assert ended["assessments"] == [{"conclusion": "return_to_guardian", "assessor": ASSESSOR}]
    assert len(ended["ends"]) == 1

    # The file's section: one on record, none in force.
    page.goto(file_url)
    text = page.locator("#interventions").inner_text()
    assert "已记录 1 项干预" in text
    assert "0 项正在执行" in text
    check_page(page, "interventions-file-after", fits_only=True)
    assert not failures, failures
    page.context.close()
