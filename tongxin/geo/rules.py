"""Rules for a division file (行政区划文件): pure functions over plain data, no database.

A division file is CSV with the header ``code,name,level,parent_code`` (columns in any order),
one division a row. ``level`` is a ``Level`` value (``province``, ``city``, ``county``,
``town``, ``village``, ``community``); ``parent_code`` is empty only for a province.

Only a province may lack a parent. Every other row names its parent, found either in the same
file or among the divisions already loaded. A county loaded into an empty database therefore
brings its province and city rows along (the bundled Gaotai file does): a county without its
province would still pass the prefix scope checks, but the tree (``Division.ancestors``, the
division pages) would have a hole in it, and an upload would silently accept a typo'd or
forgotten ``parent_code`` as a new top-level division.

Line numbers count from the header, which is line 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from tongxin.geo.models import CHILD_LEVELS, CODE_LENGTH, PREFIX_LENGTH, Level, code_prefix

COLUMNS = ("code", "name", "level", "parent_code")
BOM = "\ufeff"


@dataclass(frozen=True)
class DivisionRow:
    """One row of a division file, its cells stripped of surrounding blanks."""

    line: int
    code: str
    name: str
    level: str
    parent_code: str  # "" for none


@dataclass(frozen=True)
class RowError:
    """What is wrong with one line of a division file; ``message`` names the line."""

    line: int
    message: str

    def __str__(self) -> str:
        return self.message


def is_code(value: str) -> bool:
    """Exactly twelve ASCII digits (``str.isdigit`` alone would pass full-width digits)."""
    return len(value) == CODE_LENGTH and value.isascii() and value.isdigit()


def _segment_start(level: str) -> int:
    """Where the digits a level adds to its parent's code begin (0 for a province)."""
    own = PREFIX_LENGTH[level]
    return max((n for n in PREFIX_LENGTH.values() if n < own), default=0)


def code_fits_level(code: str, level: str) -> bool:
    """Whether a valid 12-digit ``code`` can be the code of a division of ``level``.

    Scope is a prefix check, so a town's code must end in zeros after its 9-digit prefix
    (``620724100000``), and the digits its level adds must not all be zero (``620724000000``
    is the county, not one of its towns).
    """
    start, end = _segment_start(level), PREFIX_LENGTH[level]
    return set(code[end:]) <= {"0"} and set(code[start:end]) != {"0"}


def parse_division_file(lines: Iterable[str]) -> tuple[list[DivisionRow], list[RowError]]:
    """Read the rows of a division file and the errors in its shape.

    Shape errors are a bad header (then no row is read) and a row with the wrong number of
    cells (that row is left out). Blank lines are skipped. A leading byte order mark is
    ignored.
    """
    reader = csv.reader(iter(lines))
    header = next(reader, None)
    if header is None:
        return [], [RowError(1, _("Line 1: the file is empty; the header is missing"))]
    if header and header[0].startswith(BOM):
        header[0] = header[0].removeprefix(BOM)
    columns = [c.strip() for c in header]
    missing = [c for c in COLUMNS if c not in columns]
    extra = [c for c in columns if c not in COLUMNS]
    extra += sorted({c for c in columns if c in COLUMNS and columns.count(c) > 1})
    errors: list[RowError] = []
    if missing:
        errors.append(
            RowError(
                1,
                _("Line 1: the header lacks the column(s) %(columns)s")
                % {"columns": ", ".join(missing)},
            )
        )
    if extra:
        errors.append(
            RowError(
                1,
                _("Line 1: the header has unexpected or repeated column(s) %(columns)s")
                % {"columns": ", ".join(c or '""' for c in extra)},
            )
        )
    if errors:
        errors.append(
            RowError(
                1,
                _("Line 1: the header must be %(header)s") % {"header": ",".join(COLUMNS)},
            )
        )
        return [], errors

    index = {name: columns.index(name) for name in COLUMNS}
    rows: list[DivisionRow] = []
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(COLUMNS):
            errors.append(
                RowError(
                    line,
                    _("Line %(line)d: %(found)d cells, expected %(expected)d (%(header)s)")
                    % {
                        "line": line,
                        "found": len(cells),
                        "expected": len(COLUMNS),
                        "header": ",".join(COLUMNS),
                    },
                )
            )
            continue
        code, name, level, parent_code = (cells[index[c]].strip() for c in COLUMNS)
        rows.append(DivisionRow(line, code, name, level, parent_code))
    return rows, errors


def _parent_level(
    row: DivisionRow, in_file: Mapping[str, str], existing: Mapping[str, str]
) -> str | None:
    """The parent's level, the file's word first (the file is about to overwrite the rest)."""
    if row.parent_code in in_file:
        return in_file[row.parent_code]
    return existing.get(row.parent_code)


def check_division_rows(
    rows: Sequence[DivisionRow], *, existing: Mapping[str, str]
) -> list[RowError]:
    """Every error in ``rows``, in line order; empty when the file can be loaded as it is.

    ``existing`` maps the codes already loaded to their levels; it needs to hold at least
    the codes the rows name (as ``code`` or ``parent_code``). A row may carry several
    errors; a duplicate row reports only that it is a duplicate. Checks that rest on a bad
    code or an unknown level (a parent's level, the code's prefix) are skipped for that row,
    since its own error already says what to fix.
    """
    levels = set(Level.values)
    first_line: dict[str, int] = {}
    in_file: dict[str, str] = {}
    for row in rows:
        if row.code not in first_line:
            first_line[row.code] = row.line
            in_file[row.code] = row.level

    errors: list[RowError] = []
    for row in rows:
        errors.extend(_row_errors(row, first_line, in_file, existing, levels))
    return sorted(errors, key=lambda e: e.line)


def _row_errors(
    row: DivisionRow,
    first_line: Mapping[str, int],
    in_file: Mapping[str, str],
    existing: Mapping[str, str],
    levels: set[str],
) -> list[RowError]:
    line, code, level, parent = row.line, row.code, row.level, row.parent_code
    found: list[str] = []
    code_ok = is_code(code)
    level_ok = level in levels

    if code_ok and first_line[code] != line:
        message = _("Line %(line)d: code %(code)s is repeated (first on line %(first)d)") % {
            "line": line,
            "code": code,
            "first": first_line[code],
        }
        return [RowError(line, message)]

    if not code_ok:
        found.append(
            _("Line %(line)d: code %(code)s must have 12 digits")
            % {"line": line, "code": code or '""'}
        )
    if not row.name:
        found.append(_("Line %(line)d: the name is empty") % {"line": line})
    if not level_ok:
        found.append(
            _("Line %(line)d: unknown level %(level)s; use one of %(levels)s")
            % {"line": line, "level": level or '""', "levels": ", ".join(Level.values)}
        )
    if code_ok and level_ok and not code_fits_level(code, level):
        found.append(
            _("Line %(line)d: code %(code)s is not the code of a %(level)s")
            % {"line": line, "code": code, "level": Level(level).label}
        )
    if code_ok and level_ok and code in existing and existing[code] != level:
        found.append(
            _(
                "Line %(line)d: %(code)s is already loaded as a %(old)s; "
                "a file cannot change it to a %(level)s"
            )
            % {
                "line": line,
                "code": code,
                "old": _level_label(existing[code]),
                "level": Level(level).label,
            }
        )

    if not parent:
        if level_ok and level != Level.PROVINCE:
            found.append(
                _("Line %(line)d: a %(level)s needs a parent_code; only a province has none")
                % {"line": line, "level": Level(level).label}
            )
    else:
        parent_level = _parent_level(row, in_file, existing)
        if parent_level is None:
            found.append(
                _(
                    "Line %(line)d: parent %(parent)s is neither in the file "
                    "nor among the loaded divisions"
                )
                % {"line": line, "parent": parent}
            )
        elif parent_level in levels and is_code(parent):
            # An unknown parent level or a bad parent code is reported on the parent's row.
            if level_ok and level not in CHILD_LEVELS[parent_level]:
                found.append(
                    _("Line %(line)d: a %(level)s cannot lie in a %(parent_level)s (%(parent)s)")
                    % {
                        "line": line,
                        "level": Level(level).label,
                        "parent_level": Level(parent_level).label,
                        "parent": parent,
                    }
                )
            prefix = code_prefix(parent, parent_level)
            if code_ok and not code.startswith(prefix):
                found.append(
                    _(
                        "Line %(line)d: code %(code)s must start with %(prefix)s, "
                        "the prefix of its parent %(parent)s"
                    )
                    % {"line": line, "code": code, "prefix": prefix, "parent": parent}
                )
    return [RowError(line, message) for message in found]


def _level_label(level: str) -> str:
    return str(Level(level).label) if level in Level.values else level


def parents_first(rows: Iterable[DivisionRow]) -> list[DivisionRow]:
    """``rows`` ordered so that every parent comes before its children.

    A child's level always has a longer prefix than its parent's (``CHILD_LEVELS``), so
    ordering by prefix length is enough; the code breaks ties for a stable order.
    """
    return sorted(rows, key=lambda r: (PREFIX_LENGTH[r.level], r.code))
