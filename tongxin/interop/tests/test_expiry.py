"""A checked ledger nobody imports does not keep its full ID numbers on disk for ever (issue 12):
after ``TONGXIN_LEDGER_KEEP_DAYS`` its file is deleted, the batch says why and cannot be applied;
files no batch waits for go too. Uploads, the batch's page and ``manage.py purge_ledgers`` each
do it."""

from __future__ import annotations

import os
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from tongxin.audit.models import AuditEvent
from tongxin.interop import services
from tongxin.interop.models import BatchStatus, ImportBatch
from tongxin.interop.tests.conftest import build_ledger
from tongxin.interop.tests.test_ledger_import import HEADERS, good_rows
from tongxin.testing import Actors, web_client

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _checked(actors: Actors, *, age: timedelta) -> ImportBatch:
    """A checked batch of the county officer's, uploaded ``age`` ago, its file on disk."""
    batch = ImportBatch.objects.create(
        created_by=actors.county_admin,
        file_name="台账.xlsx",
        size=2,
        sha256="0" * 64,
        status=BatchStatus.CHECKED,
        counts={"new": 1, "total": 1},
    )
    ImportBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - age)
    batch.path.write_bytes(b"PK")
    batch.refresh_from_db()
    return batch


def _stray(folder: Path, name: str, *, age: timedelta) -> Path:
    path = folder / name
    path.write_bytes(b"PK")
    then = (timezone.now() - age).timestamp()
    os.utime(path, (then, then))
    return path


def test_a_checked_ledger_older_than_the_limit_loses_its_file(
    actors: Actors, ledger_dir: Path
) -> None:
    old = _checked(actors, age=timedelta(days=7, minutes=1))
    young = _checked(actors, age=timedelta(days=6, hours=23))
    stray = _stray(ledger_dir, "0f6c1d5e-0000-4000-8000-000000000000.xlsx", age=timedelta(days=8))
    recent_stray = _stray(ledger_dir, "new.xlsx", age=timedelta(days=1))

    out = StringIO()
    call_command("purge_ledgers", stdout=out)

    assert "2" in out.getvalue()
    old.refresh_from_db()
    young.refresh_from_db()
    assert old.status == BatchStatus.EXPIRED
    assert "7 days" in old.message
    assert not old.path.exists()
    assert young.status == BatchStatus.CHECKED
    assert young.path.exists()
    assert not stray.exists()
    assert recent_stray.exists()
    event = AuditEvent.objects.get(action="ledger.expire")
    assert event.detail == {"files": 2, "batches": 1, "days": 7}
    with pytest.raises(services.ApplyRefused):
        services.apply_check(actor=actors.county_admin, batch=old)


def test_the_limit_is_a_setting(actors: Actors, settings: object) -> None:
    settings.TONGXIN_LEDGER_KEEP_DAYS = 2  # type: ignore[attr-defined]
    batch = _checked(actors, age=timedelta(days=2, minutes=1))
    assert services.expired_purge() == 1
    batch.refresh_from_db()
    assert batch.status == BatchStatus.EXPIRED


def test_the_batch_page_says_the_file_expired_and_offers_no_import(actors: Actors) -> None:
    batch = _checked(actors, age=timedelta(days=9))
    page = web_client(actors.county_admin).get(
        reverse("ledger:batch", args=[batch.public_id]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert page.status_code == 200
    assert "waited 7 days without being imported" in page.text
    assert reverse("ledger:apply", args=[batch.public_id]) not in page.text
    assert not batch.path.exists()


@pytest.mark.usefixtures("villages")
def test_an_upload_clears_what_waited_too_long(
    actors: Actors, today: time_machine.Traveller
) -> None:
    old = _checked(actors, age=timedelta(days=30))
    web_client(actors.county_admin).post(
        reverse("ledger:upload"),
        {"file": SimpleUploadedFile("台账.xlsx", build_ledger(HEADERS, good_rows()), XLSX)},
    )
    old.refresh_from_db()
    assert old.status == BatchStatus.EXPIRED
    assert not old.path.exists()
    new = ImportBatch.objects.exclude(pk=old.pk).get()
    assert new.path.exists()


def test_nothing_to_purge_writes_no_audit_entry(actors: Actors) -> None:
    _checked(actors, age=timedelta(days=1))
    assert services.expired_purge() == 0
    assert not AuditEvent.objects.filter(action="ledger.expire").exists()
