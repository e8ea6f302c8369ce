"""Opening a ledger workbook safely, and writing the blank template.

``open_ledger`` refuses what cannot be a ledger before any row is read: a file over the size
limit, a file that is not an xlsx workbook (an old .xls, a CSV, anything else), a workbook
protected by a password (stored encrypted, as an OLE2 compound file), an empty one, and one
whose header lacks a required column. Each refusal is a ``BadFile`` with a message for the
user. Rows are then read with calamine, values only, one at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from io import BytesIO
from itertools import chain
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from python_calamine import CalamineError, CalamineSheet, CalamineWorkbook, SheetTypeEnum

from tongxin.interop.headers import (
    EXTRA,
    LABELS,
    NATIONAL_FORM,
    REQUIRED,
    HeaderMap,
    find_header,
)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
HEADER_SCAN_ROWS = 20
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An encrypted OOXML file is an OLE2 compound file with these streams (MS-OFFCRYPTO).
_ENCRYPTION_STREAMS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))


class BadFile(Exception):
    """The file cannot be imported; the message says why and what to do."""


def max_bytes() -> int:
    """The upload limit: ``settings.TONGXIN_LEDGER_MAX_BYTES`` (default 20 MB)."""
    return int(getattr(settings, "TONGXIN_LEDGER_MAX_BYTES", DEFAULT_MAX_BYTES))


def check_size(size: int, limit: int | None = None) -> None:
    limit = max_bytes() if limit is None else limit
    if size > limit:
        raise BadFile(
            _("The file is %(size)s MB; the limit is %(limit)s MB. Split the ledger by town.")
            % {"size": f"{size / 1024 / 1024:.1f}", "limit": f"{limit / 1024 / 1024:.0f}"}
        )
    if size == 0:
        raise BadFile(_("The file is empty."))


def check_bytes(head: bytes, size: int) -> None:
    """Refuse by size and by the first bytes, before openpyxl sees the file."""
    check_size(size)
    if head.startswith(_OLE_MAGIC):
        if any(stream in head for stream in _ENCRYPTION_STREAMS):
            raise BadFile(
                _(
                    "The workbook is protected by a password. Open it in Excel or WPS, remove "
                    "the password (File › Info › Protect Workbook), save it and upload it again."
                )
            )
        raise BadFile(
            _("This is an old Excel file (.xls). Open it and save it as .xlsx, then upload it.")
        )
    if not head.startswith(_ZIP_MAGIC):
        raise BadFile(
            _("This is not an Excel workbook (.xlsx). Save the ledger as .xlsx and upload it.")
        )


def sniff(path: Path, limit: int | None = None) -> None:
    """``check_bytes`` on a stored file; an OLE2 file is read whole (its directory may lie
    anywhere), others only at the start."""
    size = path.stat().st_size
    check_size(size, limit)
    with path.open("rb") as f:
        head = f.read(8)
        if head.startswith(_OLE_MAGIC):
            head += f.read()
    check_bytes(head, 1)


@dataclass
class Ledger:
    """An opened ledger: where its header is, how many rows it says it has."""

    workbook: CalamineWorkbook
    header: HeaderMap
    sheet_name: str
    total_rows: int | None  # rows below the header, to the last filled one
    _rest: Iterator[tuple[int, Sequence[Any]]]

    def rows(self) -> Iterator[tuple[int, Sequence[Any]]]:
        """(line, values) of every row below the header, once; line is the sheet's row
        number. An empty cell is ``""`` (or ``None``), a number a float, a date cell a date."""
        yield from self._rest

    def close(self) -> None:
        self.workbook.close()


def _sheet_rows(sheet: CalamineSheet) -> Iterator[tuple[int, Sequence[Any]]]:
    """(line, values) of a sheet's rows, every line from 1 to the last filled one.

    calamine drops the empty columns left of the first filled cell (the header's column
    positions are read from the same rows, so they agree) and, in the versions we know,
    yields the empty rows above the first filled one; should a version not, the lines are
    shifted by where the filled area starts, so that a message's line is the one Excel shows."""
    start = sheet.start
    shift: int | None = None
    pending: list[Sequence[Any]] = []
    for index, values in enumerate(sheet.iter_rows()):
        if shift is None:
            if not any(v != "" and v is not None for v in values):
                pending.append(values)
                continue
            shift = start[0] - index if start is not None and start[0] > index else 0
            yield from ((line, ()) for line in range(1, shift + 1))
            yield from ((shift + i + 1, blank) for i, blank in enumerate(pending))
        yield index + 1 + shift, values


def open_ledger(path: Path, limit: int | None = None) -> Ledger:
    """The ledger in ``path``; ``limit``: the size limit (default: the upload limit).

    Read with calamine (python-calamine), several times faster than openpyxl on the same
    file (decision 008); openpyxl still writes the template and the exports."""
    sniff(path, limit)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise BadFile(
            _("The file could not be read as an Excel workbook (.xlsx): it may be damaged.")
        ) from exc
    try:
        for index, meta in enumerate(workbook.sheets_metadata):
            if meta.typ != SheetTypeEnum.WorkSheet:  # a chart sheet holds no rows
                continue
            name = meta.name
            sheet = workbook.get_sheet_by_index(index)
            rows = _sheet_rows(sheet)
            top: list[tuple[Any, ...]] = []  # lines 1, 2 … of the sheet
            for _line, values in rows:
                top.append(tuple(None if v == "" else v for v in values))
                if len(top) == HEADER_SCAN_ROWS:
                    break
            if not any(v is not None and str(v).strip() for row in top for v in row):
                continue
            header = find_header(top)
            if header is None:
                continue
            if header.missing:
                raise BadFile(
                    _("The sheet “%(sheet)s” lacks the required column(s): %(columns)s.")
                    % {
                        "sheet": name,
                        "columns": "、".join(LABELS[k] for k in header.missing),
                    }
                )
            # The rows below the header: those the scan read past it, then the rest.
            held = [(i + 1, top[i]) for i in range(header.header_row, len(top))]
            end = sheet.end
            total = end[0] + 1 - header.header_row if end is not None else None
            return Ledger(workbook, header, name, total, chain(held, rows))
    except BadFile:
        workbook.close()
        raise
    except Exception as exc:  # calamine raises several kinds on damaged files
        workbook.close()
        raise BadFile(
            _("The file could not be read as an Excel workbook (.xlsx): it may be damaged.")
        ) from exc
    workbook.close()
    raise BadFile(
        _(
            "No ledger was found in the workbook: it is empty, or no sheet has a header row "
            "with the columns %(columns)s."
        )
        % {"columns": "、".join(LABELS[k] for k in REQUIRED)}
    )


# --- the template ----------------------------------------------------------------------------

TITLE = "农村留守儿童基本情况登记表"
NOTES: tuple[tuple[str, str], ...] = (
    ("出生日期", "2012-03-05、2012.3.5、2012/3/5、2012年3月5日 或 Excel 日期均可"),
    ("公民身份证号码", "18 位；单元格请设为文本格式，否则 Excel 会丢掉末几位"),
    ("现居住地", "写明乡镇和村（社区），如：城关镇东关村三组"),
    ("身体情况", "健康 / 残疾 / 患病"),
    ("残疾类别及等级", "如：肢体二级"),
    ("就学情况", "幼儿园 / 未入园 / 小学 / 初中 / 高中 / 中职 / 辍学 / 不在学"),
    ("父亲/母亲当前务工地点", "写到省和市，如：浙江省宁波市；县内务工写乡镇"),
    ("父母一方外出另一方无监护能力", "否，或写明哪一方及原因，如：母亲重病、父亲服刑"),
    ("监护情况评估", "较好 / 一般 / 差"),
    ("救助帮扶情况", "低保、特困、临时救助、医疗救助、住房救助、其他，多项用顿号分隔"),
    ("父亲/母亲外出时间", "选填：知道时填写；不填时按导入之日登记为外出起始日期不详"),
    ("父亲/母亲外出去向", "选填：县内 / 省内县外 / 省外；不填时由务工地点推断"),
    ("父亲/母亲状况", "选填：健在 / 已故 / 宣告死亡 / 宣告失踪 / 失联 / 不详"),
    ("父亲/母亲监护能力", "选填：有 / 重病 / 重度残疾 / 服刑在押 / 强制隔离戒毒 / 被限制人身自由"),
)


def template_bytes() -> bytes:
    """The blank ledger: a title row merged over the columns, then the national form's headers
    followed by the optional ones, and a sheet of notes."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "登记表"
    width = len(NATIONAL_FORM) + len(EXTRA)
    sheet.append([TITLE])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append([header for _key, header in NATIONAL_FORM + EXTRA])
    required = {LABELS[k] for k in REQUIRED}
    optional = PatternFill("solid", fgColor="EEEEEE")
    for column in range(1, width + 1):
        cell = sheet.cell(row=2, column=column)
        cell.font = Font(bold=cell.value in required)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        if column > len(NATIONAL_FORM):
            cell.fill = optional
        sheet.column_dimensions[get_column_letter(column)].width = max(
            10, min(24, len(str(cell.value)) * 2 + 2)
        )
    # ID numbers and phone numbers as text, so Excel keeps every digit.
    for key, _header in NATIONAL_FORM + EXTRA:
        if key.endswith(("id_number", "phone")):
            index = [k for k, _h in NATIONAL_FORM + EXTRA].index(key) + 1
            for row in range(3, 1003):
                sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "C3"
    notes = workbook.create_sheet("填表说明")
    notes.append(["栏目", "填写说明"])
    for note in NOTES:
        notes.append(list(note))
    notes.column_dimensions["A"].width = 28
    notes.column_dimensions["B"].width = 80
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()
