"""``/healthz``: whether this installation can do its work, for a monitor (docs/deploy.md).

Anyone may ask, without signing in, so it answers about the machinery only: the database
answers, the background worker keeps up with its queue (a task that waits longer than
``TONGXIN_HEALTH_TASK_MINUTES`` means no worker runs), the disk under ``TONGXIN_VAR_DIR`` keeps
``TONGXIN_HEALTH_FREE_MB`` free. No count of anything a person is in. 200 when all is well,
503 (with what failed) when not.
"""

from __future__ import annotations

import shutil
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Case, When
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_tasks_db.models import DBTaskResult, get_date_max

OK = "ok"
FAIL = "fail"


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return FAIL
    return OK


def _tasks(now: datetime) -> dict[str, object]:
    """The wait of the task that has waited longest for a worker, in whole seconds. A task
    deferred to a later time waits from then."""
    since = Case(When(run_after=get_date_max(), then="enqueued_at"), default="run_after")
    oldest = (
        DBTaskResult.objects.ready()
        .annotate(since=since)
        .order_by("since")
        .values_list("since", flat=True)
        .first()
    )
    waited = 0 if oldest is None else max(0, int((now - oldest).total_seconds()))
    limit = settings.TONGXIN_HEALTH_TASK_MINUTES * 60
    return {"status": OK if waited <= limit else FAIL, "oldest_wait_seconds": waited}


def _disk() -> dict[str, object]:
    free_mb = shutil.disk_usage(settings.VAR_DIR).free // (1024 * 1024)
    return {
        "status": OK if free_mb >= settings.TONGXIN_HEALTH_FREE_MB else FAIL,
        "free_mb": free_mb,
    }


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    database = _database()
    tasks: dict[str, object] = {"status": FAIL}
    if database == OK:
        try:
            tasks = _tasks(timezone.now())
        except DatabaseError:
            database = FAIL
    disk = _disk()
    healthy = database == OK and tasks["status"] == OK and disk["status"] == OK
    return JsonResponse(
        {"status": OK if healthy else FAIL, "database": database, "tasks": tasks, "disk": disk},
        status=200 if healthy else 503,
    )
