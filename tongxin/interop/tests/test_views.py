"""The ledger pages: template download, upload → preview → apply → result, progress."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from tongxin.interop.models import BatchStatus, ImportBatch
from tongxin.interop.tests.conftest import build_ledger, upload
from tongxin.interop.tests.test_ledger_import import HEADERS, good_rows, messy_rows
from tongxin.registry.models import Child
from tongxin.testing import Actors, web_client

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Capture = Callable[..., Any]


def _file(data: bytes, name: str = "台账.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=XLSX)


def test_it_serves_the_template(actors: Actors) -> None:
    response = web_client(actors.village_director).get(reverse("ledger:template"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    sheet = load_workbook(BytesIO(response.content)).worksheets[0]
    assert sheet["B2"].value == "姓名"


@pytest.mark.usefixtures("villages")
def test_it_previews_applies_and_shows_the_result(
    actors: Actors, django_capture_on_commit_callbacks: Capture
) -> None:
    client = web_client(actors.county_admin)
    assert "Ledger import" in client.get(reverse("ledger:index"), HTTP_ACCEPT_LANGUAGE="en").text

    # The check is a task, queued when the request commits (run at once in tests).
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("ledger:upload"), {"file": _file(build_ledger(HEADERS, good_rows()))}
        )
        assert ImportBatch.objects.get().status == BatchStatus.CHECKING
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("ledger:batch", args=[batch.public_id])
    assert batch.status == BatchStatus.CHECKED

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "王小明" in page.text
    assert batch.sha256 in page.text
    assert 'action="{}"'.format(reverse("ledger:apply", args=[batch.public_id])) in page.text
    errors_only = client.get(response["Location"] + "?outcome=review")
    assert "郑小北" in errors_only.text
    assert "王小明" not in errors_only.text

    with django_capture_on_commit_callbacks(execute=True):
        applied = client.post(reverse("ledger:apply", args=[batch.public_id]))
    assert applied.status_code == 302
    batch.refresh_from_db()
    assert batch.status == BatchStatus.APPLIED
    assert Child.objects.count() == 5
    result = client.get(applied["Location"])
    assert result.status_code == 200
    assert 'action="{}"'.format(reverse("ledger:apply", args=[batch.public_id])) not in result.text

    again = client.post(reverse("ledger:apply", args=[batch.public_id]))  # a second click
    assert again.status_code == 302
    assert Child.objects.count() == 5


@pytest.mark.usefixtures("villages")
def test_it_shows_errors_and_offers_no_apply(
    actors: Actors, django_capture_on_commit_callbacks: Capture
) -> None:
    client = web_client(actors.county_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("ledger:upload"), {"file": _file(build_ledger(HEADERS, messy_rows()))}
        )
    page = client.get(response["Location"])
    assert "幸福村八组" in page.text
    assert reverse("ledger:apply", args=[ImportBatch.objects.get().public_id]) not in page.text


def test_it_shows_a_bad_file_on_the_upload_page(actors: Actors) -> None:
    response = web_client(actors.county_admin).post(
        reverse("ledger:upload"), {"file": _file(b"name,gender\n", "ledger.csv")}
    )
    assert response.status_code == 400
    assert not ImportBatch.objects.exists()


def test_it_hides_another_user_s_import(actors: Actors) -> None:
    batch = upload(actors.county_admin, build_ledger(HEADERS, good_rows()))
    url = reverse("ledger:batch", args=[batch.public_id])
    assert web_client(actors.town_supervisor).get(url).status_code == 404
    assert (
        web_client(actors.town_supervisor)
        .post(reverse("ledger:apply", args=[batch.public_id]))
        .status_code
        == 404
    )


@pytest.mark.usefixtures("villages")
def test_the_command_checks_and_applies_a_file(actors: Actors, tmp_path: Path) -> None:
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(build_ledger(HEADERS, messy_rows()))
    out = StringIO()
    with pytest.raises(CommandError, match="3 row"):
        call_command(
            "import_ledger",
            str(path),
            user="county_admin",
            apply=True,
            stdout=out,
            stderr=StringIO(),
        )
    assert "new 5" in out.getvalue()
    assert "幸福村八组" in out.getvalue()
    assert Child.objects.count() == 0

    path.write_bytes(build_ledger(HEADERS, good_rows()))
    out = StringIO()
    call_command(
        "import_ledger", str(path), user="county_admin", apply=True, stdout=out, stderr=StringIO()
    )
    assert "imported" in out.getvalue()
    assert Child.objects.count() == 5


def test_the_command_refuses_a_read_only_user(actors: Actors, tmp_path: Path) -> None:
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(build_ledger(HEADERS, good_rows()))
    with pytest.raises(CommandError, match="may not import"):
        call_command("import_ledger", str(path), user="auditor")


def test_it_stops_waiting_for_a_check_that_died(actors: Actors, today: Any) -> None:
    from datetime import timedelta

    batch = upload(actors.county_admin, build_ledger(HEADERS, good_rows()))
    assert batch.status == BatchStatus.CHECKING
    today.shift(timedelta(minutes=11))

    page = web_client(actors.county_admin).get(
        reverse("ledger:batch", args=[batch.public_id]), HTTP_ACCEPT_LANGUAGE="en"
    )

    batch.refresh_from_db()
    assert batch.status == BatchStatus.REFUSED
    assert "stopped before it finished" in batch.message
    assert 'http-equiv="refresh"' not in page.text


def _five_of_six_bad() -> list[list[object]]:
    rows = good_rows()
    assert len(rows) == 6
    for row in rows[1:]:
        row[HEADERS.index("现住址")] = "幸福村八组"  # no such village
    return rows


@pytest.mark.usefixtures("villages")
def test_the_status_counts_the_rows_with_errors_and_says_nothing_can_be_applied(
    actors: Actors, django_capture_on_commit_callbacks: Capture
) -> None:
    client = web_client(actors.county_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("ledger:upload"), {"file": _file(build_ledger(HEADERS, _five_of_six_bad()))}
        )
    batch = ImportBatch.objects.get()
    assert batch.status == BatchStatus.CHECKED
    assert batch.counts["error"] == 5

    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert (
        "检查完毕：6 行中有 5 行有错误。在文件中改正并重新上传之前，不能导入任何一行。" in page.text
    )
    assert "可以导入" not in page.text
    assert reverse("ledger:apply", args=[batch.public_id]) not in page.text
    assert page.text.count('class="form-error">错误</strong>') == 5  # every bad row is listed
    index = client.get(reverse("ledger:index"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "检查完毕：6 行中有 5 行有错误。" in index.text

    # Whole or nothing: the one good row is not applied either.
    client.post(reverse("ledger:apply", args=[batch.public_id]))
    assert Child.objects.count() == 0
    batch.refresh_from_db()
    assert batch.status == BatchStatus.CHECKED
