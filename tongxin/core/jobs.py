"""Background jobs (后台任务): work too long for a request, run by Django's tasks framework.

In production a task waits in a database table (django-tasks-db, ``settings.TASKS``) until
``manage.py db_worker`` runs it; ``make run`` starts that worker beside the web server. The
ledger import (``interop/tasks.py``) is the pattern to follow:

1. A service records the work on a row of its own app, with a state the page shows ("being
   checked"), in the request's transaction, and audits as usual.
2. ``enqueue_on_commit`` hands the task to the queue once that transaction commits: a worker
   never starts on a row it cannot see yet, and a request that rolls back leaves no task. The
   task gets the row's id, never the data or a person's name (the queue is a table anyone with
   the database can read).
3. The task runs the same services as the request would, keeps its progress where the page can
   read it, and whatever goes wrong marks the row failed with a message in Chinese.
4. The page polls (htmx, or a meta refresh without JavaScript) and asks ``task_status`` whether
   the task still waits its turn, so that a long queue is not taken for a worker that died.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.tasks import (
    DEFAULT_TASK_BACKEND_ALIAS,
    Task,
    TaskResult,
    TaskResultStatus,
    task_backends,
)
from django.tasks.exceptions import TaskResultDoesNotExist

logger = logging.getLogger(__name__)


class JobFailed(Exception):
    """A task stopped on an unexpected error (logged); the row it worked on says so. Raised
    without the error's text: the queue keeps it in a table, and the text could quote data."""


def enqueue_on_commit(
    task: Task[Any, Any],
    *args: Any,
    on_enqueued: Callable[[TaskResult[Any, Any]], None] | None = None,
    on_failure: Callable[[], None] | None = None,
) -> None:
    """Enqueue ``task(*args)`` when the current transaction commits (at once outside one).
    ``on_enqueued`` receives the result (its id, to ask ``task_status`` later); ``on_failure``
    runs when the queue refused it, so that the row waiting for it can say so instead of
    waiting for ever. The arguments must be JSON: ids, not objects."""

    def send() -> None:
        try:
            result = task.enqueue(*args)
        except Exception:
            logger.exception("could not enqueue %s", task.name)
            if on_failure is not None:
                on_failure()
            return
        if on_enqueued is not None:
            on_enqueued(result)

    transaction.on_commit(send)


def task_status(
    result_id: str, backend: str = DEFAULT_TASK_BACKEND_ALIAS
) -> TaskResultStatus | None:
    """The status of a task enqueued earlier (waiting, running, finished); None when the
    backend cannot tell: it keeps no results (the immediate backend), or no longer has this
    one."""
    queue = task_backends[backend]
    if not result_id or not queue.supports_get_result:
        return None
    try:
        return queue.get_result(result_id).status
    except TaskResultDoesNotExist:
        return None
