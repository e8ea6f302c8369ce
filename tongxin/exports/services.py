"""Exports written in the background (后台导出).

An app registers what it exports (``register_exporter``, from its ``AppConfig.ready()``): a
kind, a title, and a function that writes the file for a user and a query, audits it as the app
audits its own exports, and returns the file. When the file is too large to write while the user
waits (``inline``), the app's view calls ``export_queue`` and sends the user to the export's
page: the worker writes the file (``export_write``), the page shows that it waits or is being
written, then offers the file, to the user who asked and nobody else, for a day."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.tasks import TaskResultStatus
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from tongxin.accounts.models import User
from tongxin.audit.services import audit_record, client_ip
from tongxin.core import jobs
from tongxin.core.logging import exception_summary
from tongxin.core.xlsx import ExportedFile
from tongxin.exports.models import ExportRun, ExportStatus, exports_dir

logger = logging.getLogger(__name__)

# A written file is kept this long for its download, then deleted.
KEEP = timedelta(days=1)
# A file still being written after this long, whose task the queue no longer knows, was left
# by a worker that stopped.
STALE = timedelta(minutes=30)

Write = Callable[[User, Mapping[str, str], str | None], ExportedFile]


class ExportRefused(Exception):
    """An exporter's refusal the user can act on (a limit reached): its message, in Chinese, is
    what the export's page says. No file is written."""


@dataclass(frozen=True)
class Exporter:
    """What an app exports: ``write(actor, params, ip)`` writes the file of the query
    ``params`` for ``actor`` (audited with the address ``ip`` that asked)."""

    kind: str
    title: str | Promise
    write: Write


EXPORTERS: dict[str, Exporter] = {}


def register_exporter(kind: str, *, title: str | Promise, write: Write) -> None:
    """Make ``kind`` an export the worker can write (called from an app's ``ready()``)."""
    EXPORTERS[kind] = Exporter(kind, title, write)


def inline_rows() -> int:
    """The most rows an export writes while the user waits; a larger one goes to the worker."""
    return int(settings.TONGXIN_EXPORT_INLINE_ROWS)


def title_of(run: ExportRun) -> str:
    exporter = EXPORTERS.get(run.kind)
    return str(exporter.title) if exporter else run.kind


def export_queue(
    *, actor: User, kind: str, params: Mapping[str, str], request: HttpRequest | None = None
) -> ExportRun:
    """Ask the worker to write the ``kind`` export of the query ``params`` for ``actor``; the
    export's row, which its page follows. Files past their day are deleted first."""
    if kind not in EXPORTERS:
        raise ValueError(f"no exporter {kind!r}")
    expired_purge()
    run = ExportRun.objects.create(
        kind=kind,
        requested_by=actor,
        ip=client_ip(request) if request is not None else None,
        params=dict(params),
    )
    # Imported here: the task module imports this one.
    from tongxin.exports import tasks

    jobs.enqueue_on_commit(
        tasks.export_write,
        run.pk,
        on_enqueued=lambda result: _queued(run, result.id),
        on_failure=lambda: export_stopped(run.pk),
    )
    return run


def _queued(run: ExportRun, task_id: str) -> None:
    ExportRun.objects.filter(pk=run.pk).update(task_id=task_id)
    run.task_id = task_id


def export_write(run_id: int) -> None:
    """Write the file of an export, in the worker. Whatever goes wrong marks it failed, in
    Chinese, and leaves no file."""
    run = ExportRun.objects.select_related("requested_by").filter(pk=run_id).first()
    if run is None or run.status != ExportStatus.WRITING:
        logger.warning("export %s skipped: not waiting to be written", run_id)
        return
    exporter = EXPORTERS.get(run.kind)
    try:
        if exporter is None:
            raise LookupError(f"no exporter {run.kind!r}")
        exported = exporter.write(run.requested_by, run.params, run.ip)
        try:
            _keep(run, exported)
        finally:
            exported.file.close()
    except ExportRefused as refused:
        export_stopped(run_id, message=str(refused))
        return
    except Exception as exc:
        # The type and where, never the text: it could quote a row.
        logger.error("export %s (%s) failed: %s", run_id, run.kind, exception_summary(exc))
        export_stopped(run_id)
        # The task fails too, without the error's text (the queue keeps it in a table).
        raise jobs.JobFailed(f"export {run_id}: {type(exc).__name__}") from None
    except BaseException:  # the worker was stopped in the middle (SystemExit)
        export_stopped(run_id, message=_("The export stopped before its file was written."))
        raise


def _keep(run: ExportRun, exported: ExportedFile) -> None:
    """Move the written file where it waits (whole, or not at all), then mark the run done."""
    folder = exports_dir()
    folder.mkdir(parents=True, exist_ok=True)
    partial = run.path.with_suffix(".part")
    with partial.open("wb") as out:
        shutil.copyfileobj(exported.file, out)
    os.replace(partial, run.path)
    with transaction.atomic():
        updated = ExportRun.objects.filter(pk=run.pk, status=ExportStatus.WRITING).update(
            status=ExportStatus.DONE,
            rows=exported.rows,
            filename=exported.filename,
            finished_at=timezone.now(),
            params={},
        )
    if not updated:  # marked failed meanwhile (taken for stopped): no file without its row
        run.path.unlink(missing_ok=True)


def export_stopped(run_id: int, *, message: str = "") -> None:
    """An export that could not finish (an error, a task the queue refused, a worker
    stopped): failed, with no file."""
    ExportRun.objects.filter(pk=run_id, status=ExportStatus.WRITING).update(
        status=ExportStatus.FAILED,
        message=message or _("The export stopped on an unexpected error. Ask for it again."),
        params={},
        finished_at=timezone.now(),
    )
    for run in ExportRun.objects.filter(pk=run_id):
        run.path.unlink(missing_ok=True)
        run.path.with_suffix(".part").unlink(missing_ok=True)


def waiting(run: ExportRun) -> bool:
    """Whether the export waits its turn in the queue (the worker is busy, or not running)."""
    return run.busy and jobs.task_status(run.task_id) == TaskResultStatus.READY


def interrupted(run: ExportRun) -> bool:
    """An export left "being written" by a task that ended (the worker was killed under it),
    or one the queue no longer knows after ``STALE``: marked failed, so the page stops
    waiting. One that waits its turn is not interrupted, however long it waits."""
    if not run.busy:
        return False
    status = jobs.task_status(run.task_id)
    if status == TaskResultStatus.READY:
        return False
    ended = status in (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED)
    if not ended and timezone.now() - run.requested_at < STALE:
        return False
    export_stopped(run.pk, message=_("The export stopped before its file was written."))
    run.refresh_from_db()
    return run.status == ExportStatus.FAILED


def expired_purge(now: Any = None) -> int:
    """Delete the files written more than ``KEEP`` ago; their rows stay, marked deleted. The
    number of files deleted."""
    cutoff = (now or timezone.now()) - KEEP
    old = ExportRun.objects.filter(status=ExportStatus.DONE, finished_at__lt=cutoff)
    count = 0
    for run in old:
        run.path.unlink(missing_ok=True)
        count += 1
    old.update(status=ExportStatus.EXPIRED)
    return count


def expired(run: ExportRun) -> bool:
    """Whether a written export is past its day (its file deleted now if so)."""
    if (
        run.status == ExportStatus.DONE
        and run.finished_at
        and (timezone.now() - run.finished_at >= KEEP)
    ):
        expired_purge()
        run.refresh_from_db()
    return run.status == ExportStatus.EXPIRED


def export_downloaded(*, actor: User, run: ExportRun, request: HttpRequest) -> None:
    """Audit the download of a written export (the export itself was audited when written)."""
    audit_record(
        actor=actor,
        action="export.download",
        object_type="export",
        object_code=str(run.public_id),
        division_code=actor.division_id or "",
        request=request,
        detail={"kind": run.kind, "rows": run.rows},
    )
