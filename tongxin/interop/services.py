"""Importing a ledger (台账): upload, dry-run preview, apply.

1. ``batch_upload`` refuses a bad file at once (size, type, password, empty, missing column,
   a zip bomb, a sheet too large, one the reading worker cannot read within its limits:
   ``BadFile``; nothing is kept) or stores it under ``var/ledger/`` with its SHA-256.
2. ``batch_preview`` reads every row and records what importing it would do (new, update,
   unchanged, review, error with the reasons, and the categories); audited ``ledger.preview``.
3. ``batch_apply`` re-checks the file's SHA-256, reads it again and writes everything in one
   transaction with its audit entry ``ledger.apply``, or nothing: an error row, a file changed
   since the preview, or data changed meanwhile so that the outcome differs, each leave the
   registry as it was.

From the ledger page, the check and the apply are background tasks (``interop/tasks.py``, run by
``manage.py db_worker``) that write their progress to a small file beside the ledger;
``manage.py import_ledger`` runs the same services in the foreground. Either way the workbook is
read by a reader process (``xlsx.open_ledger``), so a file that exhausts memory fails its own
import only. Counts and the SHA-256 go into the audit, never a name or a number from the file.

A stored file is deleted as soon as it can no longer be applied: refused, checked with errors,
applied, failed, interrupted; and a checked file nobody applied is deleted after
``TONGXIN_LEDGER_KEEP_DAYS`` (7) days (``expired_purge``: at every upload, when its page is
opened, and daily by ``manage.py purge_ledgers``). Full ID numbers do not wait on disk for ever.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Literal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.tasks import TaskResultStatus
from django.utils import timezone
from django.utils.translation import gettext as _

from tongxin.accounts.models import User
from tongxin.audit.models import Result
from tongxin.audit.services import audit_object, audit_record, client_ip
from tongxin.core import jobs
from tongxin.core.logging import exception_summary
from tongxin.geo.models import Division, Level, code_prefix
from tongxin.interop import cells
from tongxin.interop.cells import CellError as CellError
from tongxin.interop.headers import NOT_STORED
from tongxin.interop.headers import Columns as Columns
from tongxin.interop.mapping import RowReader
from tongxin.interop.models import BatchStatus, ImportBatch, ledger_dir
from tongxin.interop.villages import VillageMatcher
from tongxin.interop.xlsx import BadFile as BadFile
from tongxin.interop.xlsx import Ledger as Ledger
from tongxin.interop.xlsx import check_size as check_size
from tongxin.interop.xlsx import max_bytes as max_bytes
from tongxin.interop.xlsx import open_ledger
from tongxin.registry.ledger import LedgerRejected, LedgerRow, Outcome, RowResult, ledger_import

logger = logging.getLogger(__name__)

# The preview keeps every error and review row up to the first cap, other rows up to the second.
KEEP_PROBLEMS = 5000
KEEP_OTHERS = 2000
_CHUNK = 1024 * 1024


class ApplyRefused(Exception):
    """Applying was refused or failed; nothing was changed. The message says why."""


def may_import(user: User) -> bool:
    return user.keeps_child_files and user.division_id is not None


# --- upload ----------------------------------------------------------------------------------


def _store(source: Iterable[bytes], target: Path, limit: int | None) -> tuple[str, int]:
    """Copy ``source`` to ``target`` (mode 0600): (sha256, size)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with target.open("wb") as out:
        target.chmod(0o600)
        for chunk in source:
            digest.update(chunk)
            size += len(chunk)
            if size > (max_bytes() if limit is None else limit):
                break
            out.write(chunk)
    return digest.hexdigest(), size


def file_chunks(f: IO[bytes]) -> Iterator[bytes]:
    while chunk := f.read(_CHUNK):
        yield chunk


def batch_upload(
    *,
    actor: User,
    name: str,
    size: int,
    chunks: Iterable[bytes],
    request: HttpRequest | None = None,
    size_limit: int | None = None,
) -> ImportBatch:
    """Store an uploaded ledger and check that it can be read (header, required columns).
    A bad file raises ``BadFile``, is not kept, and is audited as a failed preview.
    ``size_limit``: other than the upload limit (``manage.py import_ledger`` has none)."""
    if actor.is_read_only or not may_import(actor):
        raise PermissionDenied
    expired_purge()
    batch = ImportBatch(
        created_by=actor, file_name=Path(name).name[:200], size=size, sha256="", as_of=None
    )
    try:
        check_size(size, size_limit)  # before anything is copied
        batch.sha256, batch.size = _store(chunks, batch.path, size_limit)
        ledger = open_ledger(batch.path, size_limit)
    except BadFile as exc:
        batch.path.unlink(missing_ok=True)
        ip = client_ip(request)
        _batch_audit(actor, "ledger.preview", batch, ip, result=Result.FAILED, reason=str(exc))
        raise
    except BaseException:
        batch.path.unlink(missing_ok=True)
        raise
    try:
        batch.sheet = ledger.sheet_name[:100]
        batch.rows_total = ledger.total_rows
        batch.columns = _columns(ledger)
    finally:
        ledger.close()
    batch.save()
    return batch


def _columns(ledger: Ledger) -> dict[str, list[str]]:
    header = ledger.header
    return {
        "read": [header.labels[k] for k in header.columns if k != "seq" and k not in NOT_STORED],
        "not_stored": [header.labels[k] for k in header.columns if k in NOT_STORED],
        "ignored": header.ignored,
    }


# --- reading the rows ------------------------------------------------------------------------


def _matcher_for(actor: User) -> VillageMatcher:
    """The divisions a 现居住地 is matched against: the whole county (so that a village of
    another town is recognised, and refused as outside the user's division), or the user's
    whole division when it is wider than a county."""
    division = Division.objects.get(code=actor.division_id)
    if division.level in (Level.PROVINCE, Level.CITY):
        return VillageMatcher.for_prefix(division.prefix)
    return VillageMatcher.for_prefix(code_prefix(division.code, Level.COUNTY))


def _ledger_rows(ledger: Ledger, actor: User) -> Iterator[LedgerRow]:
    reader = RowReader(ledger.header, _matcher_for(actor))
    for line, values in ledger.rows():
        row = reader.read(line, values)
        if row is not None:
            yield row


def _accepted(batch: ImportBatch) -> int:
    """The size limit the file passed at upload (the command's uploads have none)."""
    return max(batch.size, max_bytes())


def _result_dict(r: RowResult) -> dict[str, Any]:
    return {
        "line": r.line,
        "outcome": str(r.outcome),
        "name": r.name,
        "village": r.village,
        "id": r.id_masked,
        "messages": r.messages,
        "warnings": r.warnings,
        "changes": r.changes,
        "categories": [list(c) for c in r.categories],
    }


class _Keeper:
    """Collects the rows the preview shows, within the caps."""

    def __init__(self) -> None:
        self.problems: list[dict[str, Any]] = []
        self.others: list[dict[str, Any]] = []

    def __call__(self, r: RowResult) -> None:
        if r.outcome in (Outcome.ERROR, Outcome.REVIEW):
            if len(self.problems) < KEEP_PROBLEMS:
                self.problems.append(_result_dict(r))
        elif len(self.others) < KEEP_OTHERS:
            self.others.append(_result_dict(r))

    def rows(self) -> list[dict[str, Any]]:
        return sorted([*self.problems, *self.others], key=lambda row: row["line"])


type Progress = Callable[[int], None]


def _progress_writer(batch: ImportBatch, phase: str, also: Progress | None) -> Progress:
    """Progress goes to a file, not the database: an apply holds its transaction (and on SQLite
    the write lock) until the end, so no row of it could be seen before then."""
    path = batch.progress_path
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(done: int) -> None:
        path.write_text(f"{phase} {done} {batch.rows_total or ''}".strip())
        if also is not None:
            also(done)

    return write


def progress(batch: ImportBatch) -> tuple[int, int | None, float] | None:
    """(rows done, rows in the file if known, seconds since the last report) of a running
    check or import; None when none runs."""
    try:
        text = batch.progress_path.read_text().split()
        age = time.time() - batch.progress_path.stat().st_mtime
    except (OSError, ValueError):
        return None
    if len(text) < 2 or not _count(text[1]):
        return None
    total = int(text[2]) if len(text) > 2 and _count(text[2]) else None
    return int(text[1]), total, age


def _count(text: str) -> bool:
    # ASCII digits only (str.isdigit takes "²", which int refuses), and few of them.
    return text.isascii() and text.isdigit() and len(text) <= 12


STALE_SECONDS = 600


def keep_days() -> int:
    """How many days a checked ledger waits for its import before its file is deleted."""
    return int(settings.TONGXIN_LEDGER_KEEP_DAYS)


def expired_purge(now: datetime | None = None) -> int:
    """Delete the files of checked ledgers older than ``keep_days`` (the batch says so and can
    no longer be applied), and any file in the ledger folder older than that which no batch
    waits for. Audited as ``ledger.expire`` with the count; the number of files deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=keep_days())
    message = _(
        "The file waited %(days)d days without being imported and was deleted: upload it again."
    ) % {"days": keep_days()}
    deleted = 0
    with transaction.atomic():
        old = list(
            ImportBatch.objects.select_for_update().filter(
                status=BatchStatus.CHECKED, created_at__lt=cutoff
            )
        )
        if old:
            ImportBatch.objects.filter(pk__in=[b.pk for b in old]).update(
                status=BatchStatus.EXPIRED, message=message
            )
        for batch in old:
            batch.progress_path.unlink(missing_ok=True)
            if batch.path.exists():
                batch.path.unlink()
                deleted += 1
        live = {
            str(public_id)
            for public_id in ImportBatch.objects.filter(
                status__in=(BatchStatus.CHECKING, BatchStatus.CHECKED, BatchStatus.APPLYING)
            ).values_list("public_id", flat=True)
        }
        folder = ledger_dir()
        strays = sorted(folder.glob("*")) if folder.is_dir() else []
        for path in strays:
            if (
                path.is_file()
                and path.stem not in live
                and path.stat().st_mtime < cutoff.timestamp()
            ):
                path.unlink(missing_ok=True)
                deleted += 1 if path.suffix == ".xlsx" else 0
        if deleted:
            audit_record(
                actor=None,
                action="ledger.expire",
                object_type="import_batch",
                detail={"files": deleted, "batches": len(old), "days": keep_days()},
            )
    return deleted


def _stopped_message() -> str:
    return _("The work stopped before it finished (the server restarted?): nothing was changed.")


def waiting(batch: ImportBatch) -> bool:
    """Whether the batch's check or import is queued, not started: the worker is busy with
    other work (or not running)."""
    return batch.busy and jobs.task_status(batch.task_id) == TaskResultStatus.READY


def interrupted(batch: ImportBatch) -> bool:
    """A check or import that stopped without a word (the worker was killed under it): marked
    failed, so the page stops waiting. Its transaction, if any, was rolled back. One that waits
    its turn in the queue is not interrupted, however long it waits."""
    if not batch.busy:
        return False
    status = jobs.task_status(batch.task_id)
    if status == TaskResultStatus.READY:
        return False
    if status not in (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED):
        # Running, or the queue cannot tell: judged by the progress it reports.
        running = progress(batch)
        started = (timezone.now() - batch.created_at).total_seconds()
        if running is not None and running[2] < STALE_SECONDS:
            return False
        if running is None and started < STALE_SECONDS:
            return False
    # Else its task ended and left the batch busy: the worker stopped in the middle of it.
    failed = BatchStatus.FAILED if batch.status == BatchStatus.APPLYING else BatchStatus.REFUSED
    message = _stopped_message()
    if not ImportBatch.objects.filter(pk=batch.pk, status=batch.status).update(
        status=failed, message=message
    ):
        batch.refresh_from_db()  # it finished meanwhile
        return False
    batch.status, batch.message = failed, message
    batch.progress_path.unlink(missing_ok=True)
    batch.path.unlink(missing_ok=True)
    return True


# --- preview ---------------------------------------------------------------------------------


def batch_preview(
    batch: ImportBatch, *, as_of: date | None = None, on_progress: Progress | None = None
) -> ImportBatch:
    """Read every row and record what importing it would do. Nothing is written to the
    registry. Audited as ``ledger.preview`` with the SHA-256 and the counts."""
    actor = batch.created_by
    as_of = as_of or timezone.localdate()
    keeper = _Keeper()
    write_progress = _progress_writer(batch, "checking", on_progress)
    write_progress(0)
    try:
        # The zip was inspected at upload: these are the same bytes (the upload's SHA-256).
        ledger = open_ledger(
            batch.path, _accepted(batch), inspected=_sha256(batch.path) == batch.sha256
        )
        try:
            counts = ledger_import(
                actor=actor,
                rows=_ledger_rows(ledger, actor),
                as_of=as_of,
                apply=False,
                on_result=keeper,
                on_batch=write_progress,
            )
        finally:
            ledger.close()
    except BadFile as exc:
        batch.status, batch.message = BatchStatus.REFUSED, str(exc)
        batch.path.unlink(missing_ok=True)
        batch.save(update_fields=["status", "message"])
        _batch_audit(actor, "ledger.preview", batch, None, result=Result.FAILED, reason=str(exc))
        return batch
    finally:
        batch.progress_path.unlink(missing_ok=True)
    batch.counts, batch.results, batch.as_of = counts, keeper.rows(), as_of
    if counts["total"] == 0:
        batch.status = BatchStatus.REFUSED
        batch.message = _("The ledger has a header but no rows of children.")
        batch.path.unlink(missing_ok=True)
    else:
        batch.status = BatchStatus.CHECKED
        if counts.get(Outcome.ERROR):  # it can never be applied: a corrected file comes next
            batch.path.unlink(missing_ok=True)
    batch.save(update_fields=["counts", "results", "as_of", "status", "message"])
    _batch_audit(actor, "ledger.preview", batch, None, counts=counts)
    return batch


# --- apply -----------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in file_chunks(f):
            digest.update(chunk)
    return digest.hexdigest()


def apply_check(*, actor: User, batch: ImportBatch) -> None:
    """Whether the batch may be applied now; ``ApplyRefused`` with the reason if not."""
    if actor.is_read_only or not may_import(actor) or batch.created_by_id != actor.pk:
        raise PermissionDenied
    if batch.status != BatchStatus.CHECKED:
        raise ApplyRefused(
            _("This import is not ready to be applied (%(status)s).")
            % {"status": batch.get_status_display()}
        )
    if batch.counts.get(Outcome.ERROR):
        raise ApplyRefused(
            _("The ledger has %(count)d row(s) with errors: correct them and upload it again.")
            % {"count": batch.counts[Outcome.ERROR]}
        )
    if not batch.path.exists() or _sha256(batch.path) != batch.sha256:
        raise ApplyRefused(
            _("The uploaded file is no longer the one that was checked: upload it again.")
        )


def batch_apply(
    *,
    actor: User,
    batch: ImportBatch,
    request: HttpRequest | None = None,
    on_progress: Progress | None = None,
) -> ImportBatch:
    """Write the checked ledger into the registry, all or nothing, now (``import_ledger``)."""
    batch_apply_queue(actor=actor, batch=batch)
    return _apply(batch, client_ip(request), on_progress)


def batch_apply_queue(*, actor: User, batch: ImportBatch) -> None:
    """Mark the checked ledger as being imported, for the apply that follows (a task, from the
    page); ``ApplyRefused`` with the reason if it may not be applied now."""
    apply_check(actor=actor, batch=batch)
    ImportBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.APPLYING, task_id="")
    batch.status, batch.task_id = BatchStatus.APPLYING, ""


def _apply(batch: ImportBatch, ip: str | None, on_progress: Progress | None = None) -> ImportBatch:
    actor = batch.created_by
    write_progress = _progress_writer(batch, "applying", on_progress)
    write_progress(0)
    try:
        with transaction.atomic():
            # The file may have waited in the queue since apply_check: the same bytes again?
            if not batch.path.exists() or _sha256(batch.path) != batch.sha256:
                raise ApplyRefused(
                    _("The uploaded file is no longer the one that was checked: upload it again.")
                )
            # Inspected at upload: these are the same bytes.
            ledger = open_ledger(batch.path, _accepted(batch), inspected=True)
            try:
                counts = ledger_import(
                    actor=actor,
                    rows=_ledger_rows(ledger, actor),
                    as_of=timezone.localdate(),
                    apply=True,
                    change_reason=f"ledger {batch.public_id}",
                    on_batch=write_progress,
                )
            finally:
                ledger.close()
            if counts != batch.counts:
                raise ApplyRefused(
                    _(
                        "The registry changed since the check (%(before)s → %(now)s): nothing "
                        "was imported. Check the file again."
                    )
                    % {"before": _summary(batch.counts), "now": _summary(counts)}
                )
            batch.status, batch.applied_at, batch.applied_counts = (
                BatchStatus.APPLIED,
                timezone.now(),
                counts,
            )
            batch.message = ""
            batch.save(update_fields=["status", "applied_at", "applied_counts", "message"])
            _batch_audit(actor, "ledger.apply", batch, ip, counts=counts)
    except (ApplyRefused, LedgerRejected, BadFile, IntegrityError) as exc:
        if isinstance(exc, LedgerRejected):
            message = _("Row %(line)d: %(reason)s — nothing was imported.") % {
                "line": exc.result.line,
                "reason": "；".join(exc.result.messages),
            }
        elif isinstance(exc, IntegrityError):
            message = _(
                "Someone changed the same files while importing: nothing was imported. "
                "Check the file again."
            )
        else:
            message = str(exc)
        ImportBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.FAILED, message=message)
        batch.status, batch.message = BatchStatus.FAILED, message
        _batch_audit(actor, "ledger.apply", batch, ip, result=Result.FAILED, reason=message)
        return batch
    finally:
        batch.progress_path.unlink(missing_ok=True)
        # Applied, or failed: a failed import is checked again from a new upload.
        batch.path.unlink(missing_ok=True)
    return batch


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {counts.get(k, 0)}" for k in Outcome)


def _batch_audit(
    actor: User,
    action: str,
    batch: ImportBatch,
    ip: str | None,
    *,
    result: str = Result.OK,
    counts: dict[str, int] | None = None,
    reason: str = "",
) -> None:
    """The audit entry of a preview or an apply: the file by its digest and size, the counts or
    the reason it failed."""
    detail: dict[str, Any] = {"sha256": batch.sha256, "size": batch.size}
    if counts is not None:
        detail["counts"] = counts
    if reason:
        # The messages of bad files and failures name columns and rows, never a person.
        detail["reason"] = reason[:500]
    audit_object(
        actor,
        action,
        batch,
        object_type="import_batch",
        division_code=actor.division_id or "",
        ip=ip,
        result=result,
        detail=detail,
    )


# --- the work of the background tasks (interop/tasks.py) ------------------------------------

type Job = Literal["check", "apply"]


def batch_queued(batch: ImportBatch, task_id: str) -> None:
    """Record the task that checks or imports the batch, once it is queued."""
    ImportBatch.objects.filter(pk=batch.pk).update(task_id=task_id)
    batch.task_id = task_id


def batch_run(batch_id: int, job: Job, ip: str | None = None) -> None:
    """The check or the apply of a batch, in the worker; ``ip``: the address that asked for
    the apply, for its audit entry. Whatever goes wrong marks the batch failed, in Chinese."""
    expected = BatchStatus.CHECKING if job == "check" else BatchStatus.APPLYING
    batch = ImportBatch.objects.select_related("created_by").filter(pk=batch_id).first()
    if batch is None or batch.status != expected:
        # Gone, or found interrupted meanwhile: its user already reads why.
        logger.warning("ledger %s of batch %s skipped: not %s", job, batch_id, expected)
        return
    try:
        if job == "check":
            batch_preview(batch)
        else:
            _apply(batch, ip)
    except Exception as exc:
        # The type and where, never the text: it could quote a cell of the file.
        logger.error("ledger %s of batch %s failed: %s", job, batch_id, exception_summary(exc))
        batch_stopped(batch_id, job)
        # The task fails too, without the error's text: the queue keeps it in a table, and an
        # unexpected error could quote a cell of the file.
        raise jobs.JobFailed(f"ledger {job} of batch {batch_id}: {type(exc).__name__}") from None
    except BaseException:  # the worker was stopped in the middle (SystemExit)
        batch_stopped(batch_id, job, message=_stopped_message())
        raise


def batch_stopped(batch_id: int, job: Job, *, message: str = "") -> None:
    """A check or apply that could not finish (an unexpected error, a task the queue refused,
    the worker stopped): failed, with nothing changed, and the file deleted."""
    ImportBatch.objects.filter(pk=batch_id).update(
        status=BatchStatus.FAILED if job == "apply" else BatchStatus.REFUSED,
        message=message or _("The import stopped on an unexpected error: nothing was changed."),
    )
    for stale in ImportBatch.objects.filter(pk=batch_id):
        stale.progress_path.unlink(missing_ok=True)
        stale.path.unlink(missing_ok=True)


# --- the reader, for other apps' imports (the payment roll of benefits, issue 13) -----------
# Other apps reach interop through this module only (.importlinter): the reader with its
# limits, its refusal (``BadFile``), ``Columns``, ``check_size``, ``max_bytes``, ``CellError``
# and the cell readers below are what they use.


def table_open(path: Path, columns: Columns, *, limit: int | None = None) -> Ledger:
    """Another table read like a ledger: in the reading worker, under the ledger's limits (size,
    zip bomb, extent, rows, memory); a bad file is a ``BadFile`` with the user's message."""
    return open_ledger(path, limit, columns=columns)


def cell_text(value: Any) -> str:
    """A cell as text, the way the ledger reads it (full-width folded, spaces collapsed)."""
    return cells.text(value)


def cell_compact(value: Any) -> str:
    """A cell as text without any whitespace (ID numbers)."""
    return cells.compact(value)


def cell_person_name(value: Any) -> str:
    """A person's name as the ledger reads it."""
    return cells.person_name(value)


def cell_date(value: Any) -> date | None:
    """A date in any of the ledger's forms, an Excel serial number or a date cell; None when
    empty; ``CellError`` quoting the cell otherwise."""
    return cells.parse_date(value)


def cell_shown(value: str) -> str:
    """A cell as a message quotes it (its start, when long)."""
    return cells.shown(value)
