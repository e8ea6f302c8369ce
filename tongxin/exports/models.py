"""An export written in the background: who asked, what, and where its file waits."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def exports_dir() -> Path:
    """Where written exports wait for their download: ``settings.TONGXIN_EXPORTS_DIR``, default
    ``var/exports``."""
    configured = getattr(settings, "TONGXIN_EXPORTS_DIR", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "exports"


class ExportStatus(models.TextChoices):
    WRITING = "writing", _("Being written")
    DONE = "done", _("Ready to download")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Deleted")


class ExportRun(models.Model):
    """One export asked for by a user and written by the worker (``tasks.export_write``). The
    query it was asked with waits in ``params`` until it is written, then is emptied: the row
    keeps no search text, and the file is deleted a day later (``services.expired_purge``)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=40)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    # The address that asked, for the audit entry the worker writes.
    ip = models.GenericIPAddressField(null=True, blank=True)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.WRITING
    )
    message = models.TextField(_("message"), blank=True)
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    filename = models.CharField(_("file"), max_length=100, blank=True)
    finished_at = models.DateTimeField(_("written at"), null=True, blank=True)
    # The background task writing it, once queued: the page asks it whether the work still
    # waits its turn.
    task_id = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["requested_by", "requested_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.public_id}"

    @property
    def path(self) -> Path:
        return exports_dir() / f"{self.public_id}.xlsx"

    @property
    def busy(self) -> bool:
        return self.status == ExportStatus.WRITING
