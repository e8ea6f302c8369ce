"""The daily anchors: one line per day, appended to a file outside the database, exported for
safekeeping (decision 016)."""

from __future__ import annotations

import os
from datetime import date, datetime
from io import StringIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command

from tongxin.audit.anchors import HEADER, AnchorFileError, audit_anchor, read_anchors
from tongxin.audit.models import AuditEvent
from tongxin.audit.services import audit_record
from tongxin.testing import Actors, web_client

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def path(settings: Any, tmp_path: Path) -> Path:
    settings.LANGUAGE_CODE = "en"
    settings.TONGXIN_AUDIT_ANCHOR_FILE = tmp_path / "anchors" / "audit_anchors.txt"
    return Path(settings.TONGXIN_AUDIT_ANCHOR_FILE)


def entry_at(when: datetime) -> AuditEvent:
    with time_machine.travel(when, tick=False):
        return audit_record(actor=None, action="auth.login_failed")


def test_it_anchors_yesterdays_last_entry(db: None, path: Path) -> None:
    entry_at(datetime(2026, 3, 13, 9, 0, tzinfo=TZ))
    last = entry_at(datetime(2026, 3, 13, 23, 59, tzinfo=TZ))
    entry_at(datetime(2026, 3, 14, 0, 1, tzinfo=TZ))  # today's: not yet
    anchor = audit_anchor(today=date(2026, 3, 14))
    assert anchor is not None
    assert (anchor.day, anchor.seq, anchor.hash) == (date(2026, 3, 13), last.seq, last.hash)
    assert path.read_text() == HEADER + f"2026-03-13 {last.seq} {last.hash}\n"


def test_it_writes_each_day_once_and_only_appends(db: None, path: Path) -> None:
    first = entry_at(datetime(2026, 3, 13, 9, 0, tzinfo=TZ))
    audit_anchor(today=date(2026, 3, 14))
    assert audit_anchor(today=date(2026, 3, 14)) is None  # the job ran twice
    second = entry_at(datetime(2026, 3, 14, 9, 0, tzinfo=TZ))
    audit_anchor(today=date(2026, 3, 15))
    assert [(a.day, a.seq) for a in read_anchors(path)] == [
        (date(2026, 3, 13), first.seq),
        (date(2026, 3, 14), second.seq),
    ]
    assert path.read_text().count(HEADER) == 1


def test_a_day_without_new_entries_repeats_the_anchor_before(db: None, path: Path) -> None:
    only = entry_at(datetime(2026, 3, 13, 9, 0, tzinfo=TZ))
    audit_anchor(today=date(2026, 3, 14))
    audit_anchor(today=date(2026, 3, 15))
    assert [a.seq for a in read_anchors(path)] == [only.seq, only.seq]


def test_an_empty_trail_has_nothing_to_anchor(db: None, path: Path) -> None:
    assert not AuditEvent.objects.filter(at__lt=datetime(2000, 1, 2, tzinfo=TZ)).exists()
    assert audit_anchor(today=date(2000, 1, 2)) is None
    assert not path.exists()


def test_it_opens_the_file_for_appending_only(
    db: None, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Appended to with ``O_APPEND``, never rewritten: whatever is in the file stays."""
    path.parent.mkdir(parents=True)
    path.write_text("# kept by hand\n2026-03-01 1 " + "a" * 64 + "\n")
    opened: list[int] = []
    real_open = os.open

    def spy(file: Any, flags: int, *args: Any) -> int:
        opened.append(flags)
        return real_open(file, flags, *args)

    monkeypatch.setattr("tongxin.audit.anchors.os.open", spy)
    entry_at(datetime(2026, 3, 13, 9, 0, tzinfo=TZ))
    audit_anchor(today=date(2026, 3, 14))
    assert opened
    assert all(f & os.O_APPEND and not f & os.O_TRUNC for f in opened)
    assert path.read_text().startswith("# kept by hand\n2026-03-01 1 ")
    assert len(read_anchors(path)) == 2


def test_a_line_that_is_no_anchor_is_named(db: None, path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text(HEADER + "2026-02-30 5 " + "a" * 64 + "\n")
    with pytest.raises(AnchorFileError) as caught:
        read_anchors(path)
    assert caught.value.line == 2
    with pytest.raises(CommandError, match="Line 2 of the anchor file"):
        call_command("audit_anchor", stdout=StringIO())


def test_the_command_anchors_and_exports(db: None, path: Path, tmp_path: Path) -> None:
    entry = entry_at(datetime(2026, 3, 13, 9, 0, tzinfo=TZ))
    out = StringIO()
    with time_machine.travel(datetime(2026, 3, 14, 0, 5, tzinfo=TZ)):
        call_command("audit_anchor", "--export", str(tmp_path / "usb.txt"), stdout=out)
    assert f"Anchored 2026-03-13: entry {entry.seq}." in out.getvalue()
    assert "Copied 1 anchors to" in out.getvalue()
    assert (tmp_path / "usb.txt").read_text() == path.read_text()
    out, err = StringIO(), StringIO()
    with time_machine.travel(datetime(2026, 3, 14, 0, 6, tzinfo=TZ)):
        call_command("audit_anchor", "--export", "-", stdout=out, stderr=err)
    # To standard output the file alone, to be redirected; the summary goes to stderr.
    assert out.getvalue() == path.read_text()
    assert "Nothing to anchor" in err.getvalue()


def test_an_audit_reader_downloads_the_anchors_and_it_is_audited(
    db: None, path: Path, actors: Actors
) -> None:
    entry_at(datetime(2026, 3, 13, 9, 0, tzinfo=TZ))
    audit_anchor(today=date(2026, 3, 14))
    page = web_client(actors.auditor).get("/audit/")
    assert b"/audit/anchors/" in page.content
    assert "The anchor file pins 1 day, the last 2026-03-13." in page.content.decode()
    response = web_client(actors.auditor).get("/audit/anchors/")
    assert response.status_code == 200
    assert response.content == path.read_bytes()
    assert response["Content-Disposition"].startswith('attachment; filename="tongxin-audit-')
    event = AuditEvent.objects.get(action="audit.anchors_export")
    assert (event.actor, event.detail) == (
        actors.auditor,
        {"anchors": 1, "bytes": len(path.read_bytes())},
    )


def test_before_the_first_anchor_the_download_is_empty(
    db: None, path: Path, actors: Actors
) -> None:
    assert b"audit_anchor" in web_client(actors.county_admin).get("/audit/").content
    response = web_client(actors.county_admin).get("/audit/anchors/")
    assert (response.status_code, response.content) == (200, b"")


def test_a_damaged_anchor_file_is_named_on_the_page_and_still_handed_over(
    db: None, path: Path, actors: Actors
) -> None:
    path.parent.mkdir(parents=True)
    path.write_text(HEADER + "not an anchor\n")
    assert "Line 2 of the anchor file" in web_client(actors.auditor).get("/audit/").content.decode()
    response = web_client(actors.auditor).get("/audit/anchors/")
    assert response.content == path.read_bytes()
    assert AuditEvent.objects.get(action="audit.anchors_export").detail["anchors"] is None
