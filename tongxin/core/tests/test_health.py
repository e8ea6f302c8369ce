"""``/healthz``: 200 when the database answers, the worker keeps up and the disk has room; 503
with what failed when not. Anyone may ask; it says nothing about the people in the system."""

from __future__ import annotations

import json
from collections import namedtuple
from datetime import timedelta
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from tongxin.testing import Actors, web_client

Usage = namedtuple("Usage", "total used free")


def _ask(client: Client | None = None) -> tuple[int, dict[str, Any]]:
    response = (client or Client()).get("/healthz")
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    return response.status_code, json.loads(response.content)


def _task(*, waited: timedelta, status: str = "READY", deferred: bool = False) -> None:
    """A task queued ``waited`` ago (``deferred``: due to run ``waited`` ago)."""
    since = timezone.now() - waited
    task = DBTaskResult.objects.create(
        task_path="tongxin.exports.tasks.export_write",
        args_kwargs={"args": [1], "kwargs": {}},
        backend_name="default",
        queue_name="default",
        status=status,
        run_after=since if deferred else get_date_max(),
    )
    if not deferred:
        DBTaskResult.objects.filter(pk=task.pk).update(enqueued_at=since)


@pytest.mark.django_db
class TestHealth:
    def test_it_answers_200_when_all_is_well(self) -> None:
        status, body = _ask()
        assert status == 200
        assert body["status"] == "ok"
        assert body["database"] == "ok"
        assert body["tasks"] == {"status": "ok", "oldest_wait_seconds": 0}
        assert body["disk"]["status"] == "ok"
        assert set(body) == {"status", "database", "tasks", "disk"}

    def test_it_answers_a_signed_in_user_awaiting_a_step_too(self, actors: Actors) -> None:
        """The sign-in steps (a password to set) do not hold the monitor's address."""
        actors.village_director.must_change_password = True
        actors.village_director.save(update_fields=["must_change_password"])
        status, _ = _ask(web_client(actors.village_director))
        assert status == 200

    def test_a_task_waiting_a_little_is_well(self) -> None:
        _task(waited=timedelta(minutes=2))
        status, body = _ask()
        assert status == 200
        assert 110 <= body["tasks"]["oldest_wait_seconds"] <= 130

    def test_it_answers_503_when_a_task_waits_past_the_limit(self, settings: Any) -> None:
        settings.TONGXIN_HEALTH_TASK_MINUTES = 15
        _task(waited=timedelta(minutes=2))
        _task(waited=timedelta(minutes=20))
        status, body = _ask()
        assert status == 503
        assert body["status"] == "fail"
        assert body["tasks"]["status"] == "fail"
        assert body["tasks"]["oldest_wait_seconds"] >= 20 * 60
        assert body["database"] == "ok"

    def test_a_deferred_task_waits_from_its_time(self) -> None:
        _task(waited=timedelta(minutes=1), deferred=True)
        status, body = _ask()
        assert status == 200
        assert 50 <= body["tasks"]["oldest_wait_seconds"] <= 70

    def test_tasks_that_ran_or_run_do_not_count(self) -> None:
        _task(waited=timedelta(hours=3), status="SUCCESSFUL")
        _task(waited=timedelta(hours=3), status="RUNNING")
        status, _ = _ask()
        assert status == 200

    def test_it_answers_503_when_the_disk_fills(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(
            "tongxin.core.health.shutil.disk_usage",
            lambda path: Usage(10 * 2**30, 10 * 2**30 - 100 * 2**20, 100 * 2**20),
        )
        status, body = _ask()
        assert status == 503
        assert body["disk"] == {"status": "fail", "free_mb": 100}

    def test_it_answers_503_when_the_database_does_not(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise OperationalError("connection refused")

        monkeypatch.setattr("tongxin.core.health.connection.cursor", refuse)
        status, body = _ask()
        assert status == 503
        assert body["database"] == "fail"
        assert body["tasks"]["status"] == "fail"

    def test_it_answers_get_and_head_only(self) -> None:
        assert Client().post("/healthz").status_code == 405
        assert Client().head("/healthz").status_code == 200
