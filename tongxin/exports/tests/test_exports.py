"""Large exports written by the worker (issue 11): a list longer than the inline limit is
confirmed, queued when the request commits, written in the background, offered on its page to
the user who asked and nobody else, and deleted a day later. A failure says so in Chinese and
leaves no file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.tasks import TaskResultStatus
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook

from tongxin.audit.models import AuditEvent
from tongxin.exports import services
from tongxin.exports.models import ExportRun, ExportStatus
from tongxin.registry.tests.test_export import body
from tongxin.registry.tests.test_list_view import TODAY, World, build_world
from tongxin.testing import Actors, web_client

Capture = Callable[..., Any]
EXPORT = reverse("registry:child_export")
NAMES = ["张三", "李四", "王五"]


@pytest.fixture(autouse=True)
def today() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(TODAY, tick=False) as t:
        yield t


@pytest.fixture(autouse=True)
def _small_limit(settings: Any, tmp_path: Path) -> None:
    """Any list longer than one row goes to the worker; files wait in a folder of the test's."""
    settings.TONGXIN_EXPORT_INLINE_ROWS = 1
    settings.TONGXIN_EXPORTS_DIR = str(tmp_path / "exports")


@pytest.fixture
def world(actors: Actors) -> World:
    return build_world(actors)


def _names(content: bytes) -> list[str]:
    sheet = load_workbook(BytesIO(content), read_only=True).active
    assert sheet is not None
    return sorted(str(row[1]) for row in sheet.iter_rows(min_row=2, values_only=True))


def _ask(client: Any, capture: Capture, query: str = "", *, execute: bool = True) -> ExportRun:
    """Confirm and queue the export of the list; the task runs when the request commits."""
    with capture(execute=execute):
        response = client.post(EXPORT + query)
    assert response.status_code == 302
    run = ExportRun.objects.get()
    assert response["Location"] == reverse("exports:export_detail", args=[run.public_id])
    return run


@pytest.mark.usefixtures("world")
def test_a_long_list_is_written_by_the_worker_and_offered_to_whoever_asked(
    actors: Actors, django_capture_on_commit_callbacks: Capture
) -> None:
    client = web_client(actors.county_admin)
    confirm = client.get(EXPORT)
    assert confirm.status_code == 200
    assert confirm["Content-Type"].startswith("text/html")
    assert "共 3 行" in confirm.text
    assert 'method="post"' in confirm.text
    assert not ExportRun.objects.exists()  # a GET asks nothing of the worker

    run = _ask(client, django_capture_on_commit_callbacks, "?search=&status=active")

    run.refresh_from_db()
    assert run.status == ExportStatus.DONE
    assert run.rows == 3
    assert run.params == {}  # the query is not kept once the file is written
    page = client.get(reverse("exports:export_detail", args=[run.public_id]))
    assert "可以下载" in page.text
    file_url = reverse("exports:export_file", args=[run.public_id])
    assert file_url in page.text
    download = client.get(file_url)
    assert download.status_code == 200
    assert "no-store" in download["Cache-Control"]
    assert _names(body(download)) == NAMES
    written = AuditEvent.objects.get(action="child.export")
    assert written.actor == actors.county_admin
    assert written.detail["rows"] == 3
    assert written.ip == "127.0.0.1"  # the address that asked, though the worker wrote it
    assert AuditEvent.objects.filter(action="export.download", actor=actors.county_admin).exists()

    for other in (actors.town_supervisor, actors.other_county_admin, actors.auditor):
        assert web_client(other).get(page.request["PATH_INFO"]).status_code == 404
        assert web_client(other).get(file_url).status_code == 404


@pytest.mark.usefixtures("world")
def test_a_short_list_is_still_written_while_the_user_waits(actors: Actors, settings: Any) -> None:
    settings.TONGXIN_EXPORT_INLINE_ROWS = 3
    response = web_client(actors.county_admin).get(EXPORT)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert _names(body(response)) == NAMES
    assert not ExportRun.objects.exists()


@pytest.mark.usefixtures("world")
def test_the_worker_exports_the_list_the_user_filtered(
    actors: Actors, django_capture_on_commit_callbacks: Capture
) -> None:
    client = web_client(actors.county_admin)
    run = _ask(client, django_capture_on_commit_callbacks, "?division=620724100202")
    run.refresh_from_db()
    response = client.get(reverse("exports:export_file", args=[run.public_id]))
    assert _names(body(response)) == ["李四"]


@pytest.mark.usefixtures("world")
def test_a_bad_filter_queues_nothing(
    actors: Actors, django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = web_client(actors.county_admin).post(EXPORT + "?age_from=²")
    assert response.status_code == 400
    assert not ExportRun.objects.exists()


@pytest.mark.usefixtures("world")
def test_an_export_that_fails_says_so_in_chinese_and_leaves_no_file(
    actors: Actors,
    django_capture_on_commit_callbacks: Capture,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("张三 620724…")  # an error's text can quote data

    exporter = services.EXPORTERS["children"]
    monkeypatch.setitem(
        services.EXPORTERS, "children", services.Exporter("children", exporter.title, broken)
    )
    client = web_client(actors.county_admin)
    run = _ask(client, django_capture_on_commit_callbacks)

    run.refresh_from_db()
    assert run.status == ExportStatus.FAILED
    assert run.message == "导出因意外错误中断，请重新导出。"
    assert run.params == {}
    assert not run.path.exists()
    assert not run.path.with_suffix(".part").exists()
    page = client.get(reverse("exports:export_detail", args=[run.public_id]))
    assert run.message in page.text
    # The log names the export and the error's type, not its text.
    (logged,) = [r for r in caplog.records if r.name == "tongxin.exports.services"]
    assert f"export {run.pk} (children) failed: RuntimeError at " in logged.getMessage()
    assert logged.exc_info is None
    assert "张三" not in caplog.text
    assert "张三" not in page.text
    assert client.get(reverse("exports:export_file", args=[run.public_id])).status_code == 404


@pytest.mark.usefixtures("world")
def test_a_file_is_deleted_a_day_after_it_was_written(
    actors: Actors, django_capture_on_commit_callbacks: Capture, today: time_machine.Traveller
) -> None:
    client = web_client(actors.county_admin)
    run = _ask(client, django_capture_on_commit_callbacks)
    run.refresh_from_db()
    assert run.path.exists()

    today.shift(services.KEEP + timedelta(minutes=1))
    client = web_client(actors.county_admin)  # signed in again: the session has ended
    page = client.get(reverse("exports:export_detail", args=[run.public_id]))

    assert "已删除" in page.text
    assert not run.path.exists()
    assert client.get(reverse("exports:export_file", args=[run.public_id])).status_code == 404


@pytest.mark.usefixtures("world")
def test_the_page_waits_for_the_worker_then_offers_the_file(
    actors: Actors,
    settings: Any,
    django_capture_on_commit_callbacks: Capture,
    run_worker: Callable[[], None],
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    client = web_client(actors.county_admin)
    run = _ask(client, django_capture_on_commit_callbacks)
    url = reverse("exports:export_detail", args=[run.public_id])

    waiting = client.get(url)
    assert "排队等候中" in waiting.text
    assert 'http-equiv="refresh"' in waiting.text  # without JavaScript, too
    poll = client.get(url + "?poll=1", HTTP_HX_REQUEST="true")
    assert poll.status_code == 200
    assert 'id="progress"' in poll.text
    assert "HX-Request" in poll["Vary"]

    run_worker()

    done = client.get(url + "?poll=1", HTTP_HX_REQUEST="true")
    assert done.status_code == 204
    assert done["HX-Refresh"] == "true"
    run.refresh_from_db()
    assert run.status == ExportStatus.DONE
    assert run.path.exists()


@pytest.mark.usefixtures("world")
def test_an_export_whose_worker_was_killed_stops_waiting(
    actors: Actors,
    settings: Any,
    django_capture_on_commit_callbacks: Capture,
    today: time_machine.Traveller,
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    client = web_client(actors.county_admin)
    run = _ask(client, django_capture_on_commit_callbacks)
    url = reverse("exports:export_detail", args=[run.public_id])
    # Claimed, then the worker was killed (SIGKILL): the task stays "running".
    DBTaskResult.objects.update(status=TaskResultStatus.RUNNING)
    client.get(url)
    run.refresh_from_db()
    assert run.status == ExportStatus.WRITING  # not yet: it may still be writing

    today.shift(services.STALE + timedelta(minutes=1))
    page = web_client(actors.county_admin).get(url)

    run.refresh_from_db()
    assert run.status == ExportStatus.FAILED
    assert run.message in page.text
    assert 'http-equiv="refresh"' not in page.text
