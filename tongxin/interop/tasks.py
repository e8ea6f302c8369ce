"""The ledger import's background tasks (Django's tasks framework: ``manage.py db_worker`` runs
them; ``core/jobs.py`` describes the pattern). The page queues the check of an upload and the
apply of a checked ledger once its request's transaction commits, then shows their progress
until they end. ``manage.py import_ledger`` runs the same services in the foreground."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.tasks import Task, task

from tongxin.accounts.models import User
from tongxin.audit.services import client_ip
from tongxin.core import jobs
from tongxin.interop import services
from tongxin.interop.models import ImportBatch


@task
def ledger_check(batch_id: int) -> None:
    """Check every row of an uploaded ledger: the preview (``ledger.preview``)."""
    services.batch_run(batch_id, "check")


@task
def ledger_apply(batch_id: int, ip: str | None = None) -> None:
    """Import a checked ledger, all or nothing (``ledger.apply``, with the address that asked)."""
    services.batch_run(batch_id, "apply", ip)


def check_later(batch: ImportBatch) -> None:
    """Queue the check of a ledger just uploaded."""
    _queue(batch, "check", ledger_check, batch.pk)


def apply_later(*, actor: User, batch: ImportBatch, request: HttpRequest) -> None:
    """Queue the import of a checked ledger (``services.ApplyRefused`` if it may not be
    applied now)."""
    services.batch_apply_queue(actor=actor, batch=batch)
    _queue(batch, "apply", ledger_apply, batch.pk, client_ip(request))


def _queue(batch: ImportBatch, job: services.Job, work: Task[Any, None], *args: Any) -> None:
    jobs.enqueue_on_commit(
        work,
        *args,
        on_enqueued=lambda result: services.batch_queued(batch, result.id),
        on_failure=lambda: services.batch_stopped(batch.pk, job),
    )
