"""Daily anchors of the audit trail's hash chain (decision 016), in a file outside the database.

One line per day: the date, the number of the day's last entry and its hash::

    2026-03-14 48213 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08

An anchor pins every entry up to it: whoever rewrites an earlier entry and recomputes the chain
(which needs the key) changes that hash. The file is only ever appended to (opened with
``O_APPEND``) by ``manage.py audit_anchor``, run once a day, and is worth more the further it
travels: ``audit_anchor --export`` copies it for safekeeping off the server, and ``audit_verify
--anchors`` checks the trail against such a copy.

Its place: ``settings.TONGXIN_AUDIT_ANCHOR_FILE`` (``var/audit_anchors.txt`` by default).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from tongxin.audit.models import AuditEvent

HEADER = "# Tongxin audit trail anchors: date, number of the day's last entry, its hash\n"
_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{1,18}) ([0-9a-f]{64})$")


@dataclass(frozen=True)
class Anchor:
    day: date
    seq: int
    hash: str
    line: int = 0  # its line in the file it was read from

    def text(self) -> str:
        return f"{self.day.isoformat()} {self.seq} {self.hash}\n"


class AnchorFileError(Exception):
    """A line of an anchor file is not an anchor."""

    def __init__(self, path: Path, line: int) -> None:
        super().__init__(f"{path}: line {line} is not an anchor")
        self.path, self.line = path, line


def anchor_path() -> Path:
    return Path(settings.TONGXIN_AUDIT_ANCHOR_FILE)


def read_anchors(path: Path) -> list[Anchor]:
    """The anchors of a file, in its order; none when it does not exist. Blank lines and ``#``
    comments are skipped; anything else that is not an anchor raises ``AnchorFileError``."""
    if not path.exists():
        return []
    anchors = []
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, raw in enumerate(lines, start=1):
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            match = _LINE.match(text)
            if match is None:
                raise AnchorFileError(path, number)
            try:
                day = date.fromisoformat(match[1])
            except ValueError as exc:
                raise AnchorFileError(path, number) from exc
            anchors.append(Anchor(day=day, seq=int(match[2]), hash=match[3], line=number))
    return anchors


def _append(path: Path, text: str) -> None:
    """Append ``text`` in one write to a file opened for appending only, then sync it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        if os.fstat(fd).st_size == 0:
            text = HEADER + text
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def day_anchor(day: date) -> Anchor | None:
    """The anchor of ``day``: the last entry written before the next midnight (local time), by
    its time and then its number; None while the trail has no entry that early."""
    midnight = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    last = (
        AuditEvent.objects.filter(at__lt=midnight)
        .order_by("-at", "-seq")
        .values_list("seq", "hash")
        .first()
    )
    return Anchor(day=day, seq=last[0], hash=last[1]) if last else None


def audit_anchor(*, today: date | None = None, path: Path | None = None) -> Anchor | None:
    """Append yesterday's anchor to the anchor file, unless it holds that day already (the job
    ran twice) or a later one. A day the job did not run stays without a line: an anchor
    written later would only say what the trail was at that later time."""
    path = path or anchor_path()
    yesterday = (today or timezone.localdate()) - timedelta(days=1)
    existing = read_anchors(path)
    if existing and max(a.day for a in existing) >= yesterday:
        return None
    anchor = day_anchor(yesterday)
    if anchor is not None:
        _append(path, anchor.text())
    return anchor
