"""Writing xlsx files: the content type, the file handed to the response, and cells that a
spreadsheet never runs as formulas."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A spreadsheet would run a cell starting with these as a formula (CSV/formula injection).
FORMULA_START = ("=", "+", "-", "@")


@dataclass(frozen=True)
class ExportedFile:
    """A written xlsx file (a temporary file, rewound), the name to download it as, and how
    many rows it holds."""

    file: IO[bytes]
    filename: str
    rows: int


def text_cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    """Text typed by people goes in as text, never as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"
        return cell
    return value
