"""Opening a ledger workbook safely, and writing the blank template.

``open_ledger`` refuses what cannot be a ledger before any row is read: a file over the size
limit, a file that is not an xlsx workbook (an old .xls, a CSV, anything else), a workbook
protected by a password (stored encrypted, as an OLE2 compound file), an empty one, and one
whose header lacks a required column. Each refusal is a ``BadFile`` with a message for the
user.

The workbook itself is read by a worker process (``interop.reader``) under a memory and CPU
limit, never by the server: it refuses a zip bomb, a sheet reaching beyond the row or column
caps and a workbook that unpacks to too much, before calamine sees it; it then sends the rows
here a few hundred at a time. A workbook that still exhausts the worker fails its own import
with a message; the server and every other import go on.
"""

from __future__ import annotations

import io
import json
import logging
import pickle
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from io import BytesIO
from itertools import chain
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from tongxin.interop import reader
from tongxin.interop.headers import (
    EXTRA,
    LABELS,
    NATIONAL_FORM,
    REQUIRED,
    Columns,
    HeaderMap,
    find_header,
)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# Rows of children one ledger may hold: a county's whole census, and calamine's memory for it.
DEFAULT_MAX_ROWS = 200_000
# What the workbook's parts may unpack to: a 200,000-row ledger on the 36 columns of the national
# form, text inline, is about 400 MB.
DEFAULT_MAX_UNZIPPED_BYTES = 1024 * 1024 * 1024
# The worker's address space: a 200,000-row ledger takes about 770 MB of it.
DEFAULT_READER_MEMORY_BYTES = 2 * 1024 * 1024 * 1024
# The worker's CPU time: a 200,000-row ledger takes under a minute to read.
READER_CPU_SECONDS = 900
HEADER_SCAN_ROWS = 20
logger = logging.getLogger(__name__)
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An encrypted OOXML file is an OLE2 compound file with these streams (MS-OFFCRYPTO).
_ENCRYPTION_STREAMS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))


class BadFile(Exception):
    """The file cannot be imported; the message says why and what to do."""


def max_bytes() -> int:
    """The upload limit: ``settings.TONGXIN_LEDGER_MAX_BYTES`` (default 20 MB)."""
    return int(getattr(settings, "TONGXIN_LEDGER_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_rows() -> int:
    """Rows below the header one ledger may have: ``settings.TONGXIN_LEDGER_MAX_ROWS``."""
    return int(getattr(settings, "TONGXIN_LEDGER_MAX_ROWS", DEFAULT_MAX_ROWS))


def max_unzipped_bytes() -> int:
    """What a workbook may unpack to: ``settings.TONGXIN_LEDGER_MAX_UNZIPPED_BYTES``."""
    return int(getattr(settings, "TONGXIN_LEDGER_MAX_UNZIPPED_BYTES", DEFAULT_MAX_UNZIPPED_BYTES))


def reader_memory_bytes() -> int:
    """The reading worker's address space: ``settings.TONGXIN_LEDGER_READER_MEMORY_BYTES``."""
    return int(getattr(settings, "TONGXIN_LEDGER_READER_MEMORY_BYTES", DEFAULT_READER_MEMORY_BYTES))


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".removesuffix(".0")


def check_size(size: int, limit: int | None = None) -> None:
    limit = max_bytes() if limit is None else limit
    if size > limit:
        raise BadFile(
            _("The file is %(size)s MB; the limit is %(limit)s MB. Split the ledger by town.")
            % {"size": f"{size / 1024 / 1024:.1f}", "limit": _mb(limit)}
        )
    if size == 0:
        raise BadFile(_("The file is empty."))


def check_bytes(head: bytes, size: int) -> None:
    """Refuse by size and by the first bytes, before the reader sees the file."""
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


def _damaged() -> BadFile:
    return BadFile(_("The file could not be read as an Excel workbook (.xlsx): it may be damaged."))


def _too_many_rows(sheet: str, rows: int, limit: int) -> BadFile:
    return BadFile(
        _(
            "The sheet “%(sheet)s” has %(rows)s rows below its header; at most %(limit)s can be "
            "imported at once. Split the ledger (by town, for instance) and import each part."
        )
        % {"sheet": sheet, "rows": f"{rows:,}", "limit": f"{limit:,}"}
    )


def _refusal(code: str, params: dict[str, Any]) -> BadFile:
    """The user's message for a refusal of the reading worker."""
    if code == "unzipped":
        return BadFile(
            _(
                "The workbook unpacks to more than %(limit)s MB, more than a ledger can hold: "
                "it was refused unread. Split the ledger by town, or save it again in Excel "
                "or WPS."
            )
            % {"limit": _mb(int(params.get("limit", 0)))}
        )
    if code == "ratio":
        return BadFile(
            _(
                "The workbook is compressed far more than a spreadsheet can be (a “zip bomb”): "
                "it was refused unread."
            )
        )
    if code == "extent":
        return BadFile(
            _(
                "A sheet of the workbook reaches cell %(cell)s, right of column %(column)s: a "
                "ledger has far fewer columns. Delete the columns right of the table (or the "
                "stray cells far from it), save and upload again."
            )
            % {
                "cell": str(params.get("cell", ""))[:20],
                "column": reader.column_letters(reader.MAX_COLUMNS),
            }
        )
    if code == "lines":
        return BadFile(
            _(
                "A sheet of the workbook goes down to row %(line)s; at most %(limit)s rows of "
                "children can be imported at once. Delete the rows below the table (or the "
                "stray cells far from it), or split the ledger by town and import each part."
            )
            % {"line": f"{int(params.get('line', 0)):,}", "limit": f"{max_rows():,}"}
        )
    if code == "memory":
        return _out_of_memory()
    return _damaged()


def _out_of_memory() -> BadFile:
    return BadFile(
        _(
            "The workbook could not be read within the %(limit)s MB of memory allowed: it "
            "probably holds many empty but formatted rows or columns beside the table. Copy "
            "the table alone into a new workbook, save it and upload it again."
        )
        % {"limit": _mb(reader_memory_bytes())}
    )


class _Unpickler(pickle.Unpickler):
    """The worker's frames hold text, numbers and dates: nothing else is rebuilt."""

    _ALLOWED = {"date": date, "datetime": datetime, "time": time, "timedelta": timedelta}

    def find_class(self, module: str, name: str) -> Any:
        if module == "datetime" and name in self._ALLOWED:
            return self._ALLOWED[name]
        raise pickle.UnpicklingError(f"{module}.{name}")


@dataclass
class _Worker:
    """The reading worker of one workbook (``interop.reader``): its messages, in order."""

    process: subprocess.Popen[bytes]
    name: str  # the stored file's name (the import's public id), for the log

    @classmethod
    def start(cls, path: Path, lines: int, inspect: bool) -> _Worker:
        options = {
            "path": str(path),
            "inspect": inspect,
            "memory": reader_memory_bytes(),
            "cpu": READER_CPU_SECONDS,
            "max_unzipped": max_unzipped_bytes(),
            "max_lines": lines,
        }
        # -I: none of the server's environment, paths or site customisation; nor its secrets.
        process = subprocess.Popen(  # noqa: S603  # our own module, no shell
            [sys.executable, "-I", reader.__file__, json.dumps(options)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={"LC_ALL": "C.UTF-8"},
            # Out of the server's process group: a Ctrl-C that stops the server or the task
            # worker must not kill the reader first and make the file look damaged. ``close``
            # ends it.
            start_new_session=True,
        )
        return cls(process, path.name)

    def messages(self) -> Iterator[tuple[Any, ...]]:
        """The worker's messages until ("done",); a refusal or the worker's death is a
        ``BadFile``."""
        stream: IO[bytes] | None = self.process.stdout
        assert stream is not None
        while True:
            head = stream.read(reader.HEADER.size)
            if len(head) < reader.HEADER.size:
                raise self._death()
            (length,) = reader.HEADER.unpack(head)
            if length > reader.MAX_FRAME:
                raise _damaged()
            data = stream.read(length)
            if len(data) < length:
                raise self._death()
            try:
                message = _Unpickler(io.BytesIO(data)).load()
            except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
                raise _damaged() from exc
            if not isinstance(message, tuple) or not message:
                raise _damaged()
            if message[0] == "refused":
                raise _refusal(str(message[1]), dict(message[2]))
            if message[0] == "done":
                return
            yield message

    def _death(self) -> BadFile:
        """Why the worker stopped talking: its limits (memory, CPU time) or a damaged file."""
        code = self.process.wait()
        # The exit code only: what the file holds stays out of the log.
        logger.warning("the ledger reader of %s ended with exit code %s", self.name, code)
        if code in (reader.MEMORY_EXIT, -signal.SIGABRT, -signal.SIGKILL, -signal.SIGSEGV):
            return _out_of_memory()
        if code == -signal.SIGXCPU:
            return BadFile(
                _(
                    "Reading the workbook took too long and was stopped. Copy the table alone "
                    "into a new workbook, save it and upload it again."
                )
            )
        return _damaged()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@dataclass
class Ledger:
    """An opened ledger: where its header is, how many rows it says it has. Its rows come from
    the reading worker; ``close`` ends the worker."""

    worker: _Worker
    header: HeaderMap
    sheet_name: str
    total_rows: int | None  # rows below the header, to the last filled one
    _rest: Iterator[tuple[int, Sequence[Any]]]
    limit: int = field(default_factory=max_rows)

    def rows(self) -> Iterator[tuple[int, Sequence[Any]]]:
        """(line, values) of every row below the header, once; line is the sheet's row
        number. An empty cell is ``""`` (or ``None``), a number a float, a date cell a date.
        More rows than the limit are a ``BadFile``."""
        last = self.header.header_row + self.limit
        for line, values in self._rest:
            if line > last:
                raise _too_many_rows(self.sheet_name, line - self.header.header_row, self.limit)
            yield line, values

    def close(self) -> None:
        self.worker.close()


def _frame_rows(messages: Iterator[tuple[Any, ...]]) -> Iterator[Sequence[Any]]:
    """The rows of the current sheet, from its frames to its ("end",)."""
    for message in messages:
        if message[0] != "rows":
            return
        yield from message[1]


def _sheet_rows(
    start: tuple[int, int] | None, rows: Iterator[Sequence[Any]]
) -> Iterator[tuple[int, Sequence[Any]]]:
    """(line, values) of a sheet's rows, every line from 1 to the last filled one.

    calamine drops the empty columns left of the first filled cell (the header's column
    positions are read from the same rows, so they agree) and, in the versions we know,
    yields the empty rows above the first filled one; should a version not, the lines are
    shifted by where the filled area starts, so that a message's line is the one Excel shows."""
    shift: int | None = None
    pending: list[Sequence[Any]] = []
    for index, values in enumerate(rows):
        if shift is None:
            if not any(v != "" and v is not None for v in values):
                pending.append(values)
                continue
            shift = start[0] - index if start is not None and start[0] > index else 0
            yield from ((line, ()) for line in range(1, shift + 1))
            yield from ((shift + i + 1, blank) for i, blank in enumerate(pending))
        yield index + 1 + shift, values


def open_ledger(
    path: Path,
    limit: int | None = None,
    *,
    inspected: bool = False,
    columns: Columns | None = None,
) -> Ledger:
    """The ledger in ``path``; ``limit``: the size limit (default: the upload limit).
    ``columns``: another table's columns (the payment roll), read with the same worker and
    limits; the ledger's own by default.

    Read with calamine (python-calamine, decision 008) in the reading worker; openpyxl still
    writes the template and the exports. ``inspected``: the worker's check of the zip (its
    unpacked size, compression and extent) passed on these very bytes already, at upload: the
    check and the apply of a stored upload skip it (the apply has compared the file's SHA-256
    with the upload's); the worker's limits and calamine's own extent check still hold."""
    sniff(path, limit)
    find = columns.find if columns is not None else find_header
    labels = columns.labels if columns is not None else LABELS
    required = columns.required if columns is not None else REQUIRED
    rows_limit = max_rows()
    worker = _Worker.start(path, rows_limit + HEADER_SCAN_ROWS, inspect=not inspected)
    try:
        messages = worker.messages()
        for message in messages:
            if message[0] != "sheet":  # the rest of a sheet passed over
                continue
            name, start, end = str(message[1]), message[2], message[3]
            rows = _sheet_rows(start, _frame_rows(messages))
            top: list[tuple[Any, ...]] = []  # lines 1, 2 … of the sheet
            for _line, values in rows:
                top.append(tuple(None if v == "" else v for v in values))
                if len(top) == HEADER_SCAN_ROWS:
                    break
            if not any(v is not None and str(v).strip() for row in top for v in row):
                continue
            header = find(top)
            if header is None:
                continue
            if header.missing:
                raise BadFile(
                    _("The sheet “%(sheet)s” lacks the required column(s): %(columns)s.")
                    % {
                        "sheet": name,
                        "columns": "、".join(labels[k] for k in header.missing),
                    }
                )
            total = end[0] + 1 - header.header_row if end is not None else None
            if total is not None and total > rows_limit:
                raise _too_many_rows(name, total, rows_limit)
            # The rows below the header: those the scan read past it, then the rest.
            held = [(i + 1, top[i]) for i in range(header.header_row, len(top))]
            return Ledger(worker, header, name, total, chain(held, rows), rows_limit)
    except BaseException:
        worker.close()
        raise
    worker.close()
    raise BadFile(
        _(
            "No ledger was found in the workbook: it is empty, or no sheet has a header row "
            "with the columns %(columns)s."
        )
        % {"columns": "、".join(labels[k] for k in required)}
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
