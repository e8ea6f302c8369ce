"""The ledger's check and apply as background tasks, through the database and ``db_worker`` as
production runs them: queued when the request commits, run by the worker, progress and waiting
shown on the page, failures marked on the batch in Chinese, files deleted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.tasks import TaskResultStatus
from django.tasks.signals import task_started
from django.test import Client
from django.urls import reverse
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from tongxin.audit.models import AuditEvent, Result
from tongxin.interop import services
from tongxin.interop.models import BatchStatus, ImportBatch
from tongxin.interop.tests.conftest import build_ledger
from tongxin.interop.tests.test_hostile_files import _bomb
from tongxin.interop.tests.test_ledger_import import HEADERS, good_rows
from tongxin.registry.models import Child
from tongxin.testing import Actors, web_client

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Capture = Callable[..., Any]
WAITING = "排队等候中"  # Waiting its turn
STOPPED_ON_AN_ERROR = "导入因意外错误中断，数据未作任何改动。"


@pytest.fixture(autouse=True)
def _database_queue(settings: Any) -> None:
    """The production backend: a task waits in the database for the worker."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _post_upload(client: Client, capture: Capture, data: bytes) -> ImportBatch:
    """Upload through the page; the request's transaction commits at the end of the block."""
    with capture(execute=True) as callbacks:
        response = client.post(
            reverse("ledger:upload"),
            {"file": SimpleUploadedFile("台账.xlsx", data, content_type=XLSX)},
        )
        assert response.status_code == 302
        # Nothing is queued before the commit: a worker could not see the batch yet.
        assert not DBTaskResult.objects.exists()
    assert len(callbacks) == 1
    return ImportBatch.objects.get()


@pytest.mark.usefixtures("villages")
def test_the_worker_checks_and_applies_an_upload(
    actors: Actors, django_capture_on_commit_callbacks: Capture, run_worker: Callable[[], None]
) -> None:
    client = web_client(actors.county_admin)
    batch = _post_upload(
        client, django_capture_on_commit_callbacks, build_ledger(HEADERS, good_rows())
    )

    task = DBTaskResult.objects.get()
    assert task.status == TaskResultStatus.READY
    assert task.task_path == "tongxin.interop.tasks.ledger_check"
    assert task.args_kwargs == {"args": [batch.pk], "kwargs": {}}  # an id, never the data
    assert batch.status == BatchStatus.CHECKING
    assert batch.task_id == str(task.id)
    page = client.get(reverse("ledger:batch", args=[batch.public_id]))
    assert WAITING in page.text
    assert 'http-equiv="refresh"' in page.text

    run_worker()

    batch.refresh_from_db()
    assert batch.status == BatchStatus.CHECKED
    assert batch.counts["new"] == 5
    task.refresh_from_db()
    assert task.status == TaskResultStatus.SUCCESSFUL
    preview = AuditEvent.objects.get(action="ledger.preview")
    assert preview.result == Result.OK
    assert preview.detail == {"sha256": batch.sha256, "size": batch.size, "counts": batch.counts}
    assert batch.path.exists()  # waiting for the apply

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("ledger:apply", args=[batch.public_id]))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == BatchStatus.APPLYING
    assert Child.objects.count() == 0
    apply_task = DBTaskResult.objects.get(task_path="tongxin.interop.tasks.ledger_apply")
    assert apply_task.args_kwargs == {"args": [batch.pk, "127.0.0.1"], "kwargs": {}}

    run_worker()

    batch.refresh_from_db()
    assert batch.status == BatchStatus.APPLIED
    assert Child.objects.count() == 5
    assert not batch.path.exists()
    applied = AuditEvent.objects.get(action="ledger.apply")
    assert applied.result == Result.OK
    assert applied.ip == "127.0.0.1"  # the address that asked, though the worker wrote it
    assert applied.detail == {"sha256": batch.sha256, "size": batch.size, "counts": batch.counts}


@pytest.mark.usefixtures("villages")
def test_the_page_shows_the_progress_while_the_worker_checks(
    actors: Actors, django_capture_on_commit_callbacks: Capture, run_worker: Callable[[], None]
) -> None:
    client = web_client(actors.county_admin)
    batch = _post_upload(
        client, django_capture_on_commit_callbacks, build_ledger(HEADERS, good_rows())
    )
    url = reverse("ledger:batch", args=[batch.public_id])
    seen: dict[str, str] = {}

    def look(**kwargs: Any) -> None:  # the worker has claimed the task and is about to run it
        batch.progress_path.write_text("checking 2000 6")
        seen["page"] = client.get(url).text
        seen["poll"] = client.get(url + "?poll=1", HTTP_HX_REQUEST="true").text

    task_started.connect(look)
    try:
        run_worker()
    finally:
        task_started.disconnect(look)

    assert "2000" in seen["page"]
    assert WAITING not in seen["page"]
    assert 'http-equiv="refresh"' in seen["page"]
    assert "<progress" in seen["poll"]
    done = client.get(url + "?poll=1", HTTP_HX_REQUEST="true")
    assert done.status_code == 204
    assert done["HX-Refresh"] == "true"
    assert not batch.progress_path.exists()


def test_a_check_waiting_in_the_queue_is_not_taken_for_dead(
    actors: Actors, django_capture_on_commit_callbacks: Capture, today: Any
) -> None:
    client = web_client(actors.county_admin)
    batch = _post_upload(
        client, django_capture_on_commit_callbacks, build_ledger(HEADERS, good_rows())
    )
    today.shift(timedelta(hours=2))  # the worker is busy with a province's ledger

    page = web_client(actors.county_admin).get(reverse("ledger:batch", args=[batch.public_id]))

    batch.refresh_from_db()
    assert batch.status == BatchStatus.CHECKING
    assert WAITING in page.text
    assert batch.path.exists()


def test_a_check_whose_worker_was_killed_stops_waiting(
    actors: Actors, django_capture_on_commit_callbacks: Capture, today: Any
) -> None:
    client = web_client(actors.county_admin)
    batch = _post_upload(
        client, django_capture_on_commit_callbacks, build_ledger(HEADERS, good_rows())
    )
    # Claimed, then the worker was killed (SIGKILL): the task stays "running", no progress.
    DBTaskResult.objects.update(status=TaskResultStatus.RUNNING)
    page = client.get(reverse("ledger:batch", args=[batch.public_id]))
    batch.refresh_from_db()
    assert batch.status == BatchStatus.CHECKING  # not yet: it may still be starting

    today.shift(timedelta(minutes=11))
    page = web_client(actors.county_admin).get(
        reverse("ledger:batch", args=[batch.public_id]), HTTP_ACCEPT_LANGUAGE="en"
    )

    batch.refresh_from_db()
    assert batch.status == BatchStatus.REFUSED
    assert "stopped before it finished" in batch.message
    assert 'http-equiv="refresh"' not in page.text
    assert not batch.path.exists()


@pytest.mark.parametrize("job", ["check", "apply"])
@pytest.mark.usefixtures("villages")
def test_a_task_that_fails_marks_its_batch_failed_in_chinese(
    actors: Actors,
    django_capture_on_commit_callbacks: Capture,
    run_worker: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    job: str,
) -> None:
    client = web_client(actors.county_admin)
    batch = _post_upload(
        client, django_capture_on_commit_callbacks, build_ledger(HEADERS, good_rows())
    )
    if job == "apply":
        run_worker()
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("ledger:apply", args=[batch.public_id]))

    def boom(**kwargs: Any) -> Any:
        raise RuntimeError("王小明 620724201203050012")  # what an unexpected error might quote

    monkeypatch.setattr(services, "ledger_import", boom)
    run_worker()

    batch.refresh_from_db()
    assert batch.status == (BatchStatus.REFUSED if job == "check" else BatchStatus.FAILED)
    assert batch.message == STOPPED_ON_AN_ERROR
    assert not batch.path.exists()
    assert not batch.progress_path.exists()
    assert Child.objects.count() == 0
    task = DBTaskResult.objects.get(task_path=f"tongxin.interop.tasks.ledger_{job}")
    assert task.status == TaskResultStatus.FAILED
    assert task.exception_class_path == "tongxin.core.jobs.JobFailed"
    assert "王小明" not in task.traceback  # the queue's table keeps no text from the file
    assert "620724201203050012" not in task.traceback
    # The log names the batch and the error's type, not its text.
    (logged,) = [r for r in caplog.records if r.name == "tongxin.interop.services"]
    assert f"batch {batch.pk} failed: RuntimeError at " in logged.getMessage()
    assert logged.exc_info is None
    assert "王小明" not in caplog.text
    assert "620724201203050012" not in caplog.text


def test_a_file_changed_while_queued_is_refused_by_the_worker_and_deleted(
    actors: Actors,
    ledger_dir: Any,
    django_capture_on_commit_callbacks: Capture,
    run_worker: Callable[[], None],
) -> None:
    client = web_client(actors.county_admin)
    batch = _post_upload(
        client, django_capture_on_commit_callbacks, build_ledger(HEADERS, good_rows())
    )
    batch.path.write_bytes(_bomb())  # swapped on the disk after the upload's inspection

    run_worker()

    batch.refresh_from_db()
    assert batch.status == BatchStatus.REFUSED
    assert "压缩炸弹" in batch.message  # a zip bomb
    assert list(ledger_dir.iterdir()) == []
    refused = AuditEvent.objects.get(action="ledger.preview")
    assert refused.result == Result.FAILED
    assert set(refused.detail) == {"sha256", "size", "reason"}


@pytest.mark.usefixtures("villages")
def test_an_apply_whose_file_changed_in_the_queue_changes_nothing(
    actors: Actors,
    ledger_dir: Any,
    django_capture_on_commit_callbacks: Capture,
    run_worker: Callable[[], None],
) -> None:
    client = web_client(actors.county_admin)
    batch = _post_upload(
        client, django_capture_on_commit_callbacks, build_ledger(HEADERS, good_rows())
    )
    run_worker()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("ledger:apply", args=[batch.public_id]))
    rows = good_rows()
    rows[0][1] = "王大明"
    batch.path.write_bytes(build_ledger(HEADERS, rows))

    run_worker()

    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED
    assert batch.message == "上传的文件已不是检查过的那份，请重新上传。"
    assert Child.objects.count() == 0
    assert list(ledger_dir.iterdir()) == []
    assert AuditEvent.objects.get(action="ledger.apply").result == Result.FAILED


def test_a_check_the_queue_refuses_says_so(
    actors: Actors,
    ledger_dir: Any,
    django_capture_on_commit_callbacks: Capture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: Any) -> Any:
        raise RuntimeError("the database is gone")

    monkeypatch.setattr(DatabaseBackend, "enqueue", refuse)
    client = web_client(actors.county_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("ledger:upload"),
            {
                "file": SimpleUploadedFile(
                    "台账.xlsx", build_ledger(HEADERS, good_rows()), content_type=XLSX
                )
            },
        )

    batch = ImportBatch.objects.get()
    assert batch.status == BatchStatus.REFUSED
    assert batch.message == STOPPED_ON_AN_ERROR
    assert list(ledger_dir.iterdir()) == []
    assert STOPPED_ON_AN_ERROR in client.get(response["Location"]).text


@pytest.mark.usefixtures("villages")
def test_a_worker_stopped_in_the_middle_of_a_check_says_so(
    actors: Actors,
    django_capture_on_commit_callbacks: Capture,
    run_worker: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = web_client(actors.county_admin)
    batch = _post_upload(
        client, django_capture_on_commit_callbacks, build_ledger(HEADERS, good_rows())
    )

    def stop(**kwargs: Any) -> Any:
        raise SystemExit(1)  # what db_worker raises on a second Ctrl-C or SIGTERM

    monkeypatch.setattr(services, "ledger_import", stop)
    run_worker()

    batch.refresh_from_db()
    assert batch.status == BatchStatus.REFUSED
    assert batch.message == "处理未完成就中断了（可能是服务器重启），数据未作任何改动。"
    assert not batch.path.exists()
    assert DBTaskResult.objects.get().status == TaskResultStatus.FAILED
