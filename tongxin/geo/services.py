"""Writes to the division tree (行政区划): loading a division file."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from django.db import transaction
from django.utils.translation import gettext as _

from tongxin.audit.services import audit_record
from tongxin.geo.models import Division
from tongxin.geo.rules import (
    BOM,
    DivisionRow,
    RowError,
    check_division_rows,
    is_code,
    parents_first,
    parse_division_file,
)

if TYPE_CHECKING:
    from tongxin.accounts.models import User

# Codes looked up per query: well under SQLite's limit on bound parameters.
LOOKUP_BATCH = 500
WRITE_BATCH = 500


@dataclass(frozen=True)
class LoadResult:
    """How many divisions of the file were new, changed (name or parent) or already so."""

    created: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


class DivisionFileError(Exception):
    """The division file was refused; ``errors`` holds one or more messages per bad line."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(e.message for e in self.errors))


def _read(source: TextIO | Path) -> str:
    """The text of ``source``; UTF-8 with or without a byte order mark."""
    if isinstance(source, Path):
        data = source.read_bytes()
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            message = _("Line %(line)d: the file is not UTF-8 text") % {"line": line}
            raise DivisionFileError([RowError(line, message)]) from exc
    try:
        return source.read().removeprefix(BOM)
    except UnicodeDecodeError as exc:
        message = _("The file is not UTF-8 text")
        raise DivisionFileError([RowError(0, message)]) from exc


def _existing(codes: Iterable[str]) -> dict[str, Division]:
    """The loaded divisions among ``codes``, a bounded number of codes per query."""
    wanted = sorted({c for c in codes if is_code(c)})
    found: dict[str, Division] = {}
    for start in range(0, len(wanted), LOOKUP_BATCH):
        batch = wanted[start : start + LOOKUP_BATCH]
        found.update((d.code, d) for d in Division.objects.filter(code__in=batch))
    return found


@transaction.atomic
def divisions_load(*, source: TextIO | Path, actor: User | None = None) -> LoadResult:
    """Load a division file (``code,name,level,parent_code``): all of it or none of it.

    Every row is checked first (``geo.rules``); if any is wrong, ``DivisionFileError``
    carries every error and nothing is written. Otherwise rows are upserted by code, parents
    before children: new codes are created, known codes get the file's name and parent.
    Divisions the file does not mention are left alone. Loading the same file again changes
    nothing.
    """
    rows, errors = parse_division_file(io.StringIO(_read(source), newline=""))
    if errors:
        raise DivisionFileError(errors)
    existing = _existing([r.code for r in rows] + [r.parent_code for r in rows])
    errors = check_division_rows(rows, existing={code: d.level for code, d in existing.items()})
    if errors:
        raise DivisionFileError(errors)

    result = _upsert(parents_first(rows), existing)
    if result.created or result.updated:
        audit_record(
            actor=actor,
            action="divisions_load",
            object_type="division",
            detail={
                "rows": len(rows),
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
            },
        )
    return result


def _upsert(rows: Sequence[DivisionRow], existing: dict[str, Division]) -> LoadResult:
    new: list[Division] = []
    changed: list[Division] = []
    for row in rows:
        parent_id = row.parent_code or None
        division = existing.get(row.code)
        if division is None:
            new.append(Division(code=row.code, name=row.name, level=row.level, parent_id=parent_id))
        elif (division.name, division.level, division.parent_id) != (
            row.name,
            row.level,
            parent_id,
        ):
            division.name, division.level, division.parent_id = row.name, row.level, parent_id
            changed.append(division)
    Division.objects.bulk_create(new, batch_size=WRITE_BATCH)
    Division.objects.bulk_update(changed, ["name", "level", "parent"], batch_size=WRITE_BATCH)
    return LoadResult(
        created=len(new), updated=len(changed), unchanged=len(rows) - len(new) - len(changed)
    )
