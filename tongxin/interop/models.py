"""Spreadsheet imports: one record per uploaded ledger, from preview to apply."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def ledger_dir() -> Path:
    """Where uploaded ledgers wait: ``settings.TONGXIN_LEDGER_DIR``, default ``var/ledger``."""
    configured = getattr(settings, "TONGXIN_LEDGER_DIR", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "ledger"


class BatchStatus(models.TextChoices):
    CHECKING = "checking", _("Being checked")
    CHECKED = "checked", _("Checked: ready to import")
    REFUSED = "refused", _("Refused")
    APPLYING = "applying", _("Being imported")
    APPLIED = "applied", _("Imported")
    FAILED = "failed", _("Import failed: nothing was changed")
    EXPIRED = "expired", _("Not imported in time: the file was deleted")


class ImportBatch(models.Model):
    """One upload of a county's ledger (台账导入): the file's SHA-256, the dry-run preview of
    every row, and whether it was applied. The file itself waits in ``var/ledger/`` between
    preview and apply and is deleted once applied, or when it waited longer than
    ``TONGXIN_LEDGER_KEEP_DAYS`` (``services.expired_purge``)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    file_name = models.CharField(_("file"), max_length=200)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    status = models.CharField(
        _("status"), max_length=10, choices=BatchStatus.choices, default=BatchStatus.CHECKING
    )
    message = models.TextField(_("message"), blank=True)
    sheet = models.CharField(_("sheet"), max_length=100, blank=True)
    columns = models.JSONField(default=dict, blank=True)  # {"read": [...], "ignored": [...]}
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)  # outcome → rows, "total"
    # The rows shown in the preview: every error and review row up to a cap, then others.
    results = models.JSONField(default=list, blank=True)
    as_of = models.DateField(_("import date"), null=True, blank=True)
    applied_at = models.DateTimeField(_("imported at"), null=True, blank=True)
    applied_counts = models.JSONField(default=dict, blank=True)
    # The background task (Django's tasks framework) checking or importing it, once queued:
    # the page asks it whether the work still waits its turn.
    task_id = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("ledger import")
        verbose_name_plural = _("ledger imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "created_at"])]

    def __str__(self) -> str:
        return f"{self.file_name} {self.sha256[:12]}"

    @property
    def path(self) -> Path:
        return ledger_dir() / f"{self.public_id}.xlsx"

    @property
    def progress_path(self) -> Path:
        return ledger_dir() / f"{self.public_id}.progress"

    @property
    def busy(self) -> bool:
        return self.status in (BatchStatus.CHECKING, BatchStatus.APPLYING)

    @property
    def error_rows(self) -> int:
        """Rows of a checked ledger with errors: while there is one, nothing is applied."""
        return int(self.counts.get("error", 0)) if self.status == BatchStatus.CHECKED else 0

    @property
    def status_text(self) -> str:
        """The status as the pages say it: a checked ledger with errors is not “ready to
        import”; it says how many rows have errors and that nothing can be applied."""
        if errors := self.error_rows:
            return gettext(
                "Checked: %(errors)d of the %(total)d row(s) have errors. Nothing can be "
                "imported until they are corrected in the file and it is uploaded again."
            ) % {"errors": errors, "total": int(self.counts.get("total", 0))}
        return str(self.get_status_display())

    @property
    def status_summary(self) -> str:
        """The status in a list of imports: short."""
        if errors := self.error_rows:
            return gettext("Checked: %(errors)d of the %(total)d row(s) have errors.") % {
                "errors": errors,
                "total": int(self.counts.get("total", 0)),
            }
        return str(self.get_status_display())
