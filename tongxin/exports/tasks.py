"""The export's background task (``core/jobs.py`` describes the pattern)."""

from __future__ import annotations

from django.tasks import task

from tongxin.exports import services


@task
def export_write(run_id: int) -> None:
    """Write an export's file (``services.export_write``)."""
    services.export_write(run_id)
