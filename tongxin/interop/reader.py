"""The worker process that reads an uploaded ledger (台账读取进程): the only code that opens a
workbook's contents.

A workbook is a zip of XML parts, and python-calamine (decision 008) builds a sheet's whole
rectangle in memory before it hands back the first row: a cell in A1 and one in XFD1048576 ask
for 512 GiB, and the failed allocation aborts the process (a Rust abort, not a Python
exception). So the server never reads a workbook itself. ``xlsx.open_ledger`` starts this module
as a separate Python process, which

1. limits its own address space (RLIMIT_AS) and CPU time before it reads a byte;
2. inflates every part of the zip itself and counts the bytes against a cap, because a zip
   bomb lies in its headers: neither the sizes in the zip's directory nor its compression
   ratio are trusted, both are measured while inflating. It refuses a part compressed further
   than a spreadsheet can be, and a sheet whose declared dimension or whose cell and row
   references reach beyond the row and column caps;
3. only then opens the workbook with calamine and sends each worksheet's rows to its parent on
   standard output, as length-prefixed pickles of plain values (text, numbers, dates).

A bad file can then only end this process: the parent reads a refusal (a frame naming the
reason) or finds the process gone (killed by its limits), and tells the user; the server and
every other import go on. The parent is the same whether it runs in a request, a background
thread, a task or ``manage.py import_ledger``.

Run as a script (``python -I reader.py '{json}'``) it needs the standard library and
python-calamine only: nothing here imports Django or the rest of Tongxin.
"""

from __future__ import annotations

import json
import pickle
import re
import resource
import struct
import sys
import zipfile
import zlib
from collections.abc import Iterator
from itertools import islice
from typing import IO, Any

HEADER = struct.Struct(">I")
# Rows go to the parent in small frames, so that it holds little at a time. The parent refuses
# a frame over MAX_FRAME as damaged; cells are cut (CELL_CHARS) before a row could reach it.
FRAME_ROWS = 256
FRAME_BYTES = 4 * 1024 * 1024
MAX_FRAME = 64 * 1024 * 1024
# The most text Excel and WPS let one cell hold: a longer cell was not typed in either.
CELL_CHARS = 32_767
# Columns: the national form has 36 and the template 49; Excel 2003 stopped at IV (256).
MAX_COLUMNS = 256
# Spreadsheets' XML inflates 5–20 times; deflate can do about 1,000. A part that inflates more
# than MAX_RATIO times (once past RATIO_FLOOR bytes) was made to exhaust its reader.
MAX_RATIO = 100
RATIO_FLOOR = 1024 * 1024
_CHUNK = 1024 * 1024
# A cell reference ends within this many bytes of its start: scanning each inflated chunk with
# the end of the previous one in front finds a reference cut in two.
_OVERLAP = 64
# ``r="XFD1048576"`` on a cell, ``r="12"`` on a row (attribute r, after white space).
_REF = rb"""r(?<=\sr)\s*=\s*["']"""
# A column right of MAX_COLUMNS (IV): three letters, J–Z and a letter, or IW–IZ.
_WIDE = re.compile(_REF + rb"([A-Za-z]{3,}|[J-Zj-z][A-Za-z]|[Ii][W-Zw-z])([0-9]+)")
_DIMENSION = re.compile(rb"""dimension\s[^>]{0,200}?ref\s*=\s*["']([^"']{0,64})["']""")
# The exit code of a worker that ran out of memory in Python (calamine aborts instead).
MEMORY_EXIT = 3
_CELL = re.compile(r"\$?([A-Za-z]{1,10})\$?([0-9]{1,12})")


class Refused(Exception):
    """The workbook is refused before or while it is read: ``code`` says why, ``params`` the
    figures the parent's message quotes."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def greater_than(number: int) -> str:
    """A regular expression matching the decimal numbers greater than ``number`` (and some
    with leading zeros, which the caller compares again): so that a sheet's scan matches
    nothing at all in a ledger within the cap, instead of every reference of its last rows."""
    text = str(number)
    longer = f"[0-9]{{{len(text) + 1},}}"
    same_length = [
        f"{text[:i]}[{int(digit) + 1}-9][0-9]{{{len(text) - i - 1}}}"
        for i, digit in enumerate(text)
        if digit != "9"
    ]
    return "|".join([longer, *same_length])


def _tall(max_lines: int) -> re.Pattern[bytes]:
    """References to a row beyond ``max_lines``."""
    beyond = greater_than(max_lines).encode()
    return re.compile(_REF + rb"[A-Za-z]{0,3}(" + beyond + rb")[\"']")


def _row_of(digits: bytes) -> int:
    return int(digits) if len(digits) <= 12 else 10**12


class _Extent:
    """The furthest cell a part declares or holds, as far as the caps are concerned. Cells are
    read inside ``sheetData`` only (calamine reads them nowhere else), which keeps the other
    parts' attributes named r (a theme's ``<a:fillToRect r="50000">``) out of the scan."""

    def __init__(self, max_lines: int) -> None:
        self.max_lines = max_lines
        self.tall = _tall(max_lines)
        self.in_sheet = False

    def declared(self, head: bytes) -> None:
        match = _DIMENSION.search(head)
        if match is None:
            return
        last = match.group(1).decode("ascii", "replace").split(":")[-1]
        cell = _CELL.fullmatch(last)
        if cell is not None:
            check_cell(cell.group(1), int(cell.group(2)), self.max_lines)

    def scan(self, data: bytes) -> None:
        if not self.in_sheet:
            start = data.find(b"sheetData")
            if start < 0:
                return
            self.in_sheet, data = True, data[start:]
        wide = _WIDE.search(data)
        if wide is not None:
            check_cell(wide.group(1)[:10].decode("ascii"), _row_of(wide.group(2)), self.max_lines)
        for tall in self.tall.finditer(data):
            check_cell("A", _row_of(tall.group(1)), self.max_lines)


def check_cell(letters: str, row: int, max_lines: int) -> None:
    """Refuse a sheet that reaches this cell: right of MAX_COLUMNS, or below ``max_lines``."""
    if column_number(letters) > MAX_COLUMNS:
        raise Refused("extent", cell=f"{letters.upper()}{min(row, 10**9)}", columns=MAX_COLUMNS)
    if row > max_lines:
        raise Refused("lines", line=min(row, 10**9))


def inspect(path: str, *, max_unzipped: int, max_lines: int) -> None:
    """Refuse the workbook in ``path`` if its parts inflate beyond ``max_unzipped`` bytes in
    all, if a part inflates more than MAX_RATIO times, or if a sheet reaches beyond
    ``max_lines`` rows or MAX_COLUMNS columns (by its declared dimension or by a cell or row
    it holds). Reads the compressed bytes itself; calamine has not seen the file yet."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise Refused("damaged") from exc
    with archive, open(path, "rb") as raw:
        infos = archive.infolist()
        if sum(info.file_size for info in infos) > max_unzipped:
            raise Refused("unzipped", limit=max_unzipped)
        total = 0
        for info in infos:
            if not info.is_dir():
                total = _inflate(raw, info, total, max_unzipped, _Extent(max_lines))


def _inflate(raw: IO[bytes], info: zipfile.ZipInfo, total: int, cap: int, extent: _Extent) -> int:
    """Inflate one part from its compressed bytes (as many as the directory says calamine
    will read), counting what comes out; the running total of the workbook is returned."""
    if info.flag_bits & 0x1:  # a zip-level password: no spreadsheet program writes one
        raise Refused("damaged")
    raw.seek(info.header_offset)
    local = raw.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        raise Refused("damaged")
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    raw.seek(name_length + extra_length, 1)
    if info.compress_type == zipfile.ZIP_DEFLATED:
        inflater: Any = zlib.decompressobj(-zlib.MAX_WBITS)
    elif info.compress_type == zipfile.ZIP_STORED:
        inflater = None
    else:  # calamine reads stored and deflated parts only
        raise Refused("damaged")
    left, consumed, produced, tail = info.compress_size, 0, 0, b""
    first = True
    while left > 0:
        chunk = raw.read(min(_CHUNK, left))
        if not chunk:
            raise Refused("damaged")
        left -= len(chunk)
        consumed += len(chunk)
        pending = chunk
        while pending:
            if inflater is None:
                data, pending = pending, b""
            else:
                try:
                    data = inflater.decompress(pending, _CHUNK)
                except zlib.error as exc:
                    raise Refused("damaged") from exc
                pending = inflater.unconsumed_tail
                if inflater.eof:
                    pending = b""
            produced += len(data)
            if total + produced > cap:
                raise Refused("unzipped", limit=cap)
            if produced > RATIO_FLOOR and produced > MAX_RATIO * consumed:
                raise Refused("ratio")
            if first:
                extent.declared(data[:65536])
                first = False
            extent.scan(tail + data)
            tail = data[-_OVERLAP:]
    return total + produced


# --- reading with calamine, in the worker --------------------------------------------------


def _send(out: IO[bytes], message: tuple[Any, ...]) -> None:
    data = pickle.dumps(message, protocol=5)
    out.write(HEADER.pack(len(data)))
    out.write(data)


def _cut(rows: list[Any]) -> list[Any]:
    return [[v[:CELL_CHARS] if isinstance(v, str) else v for v in values] for values in rows]


def stream(path: str, out: IO[bytes], *, max_lines: int) -> None:
    """Every worksheet of the workbook: ("sheet", name, start, end), ("rows", [values…])
    frames, ("end",); then ("done",)."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    try:
        workbook = CalamineWorkbook.from_path(path)
    except Exception as exc:  # calamine raises several kinds on damaged files
        raise Refused("damaged") from exc
    for index, meta in enumerate(workbook.sheets_metadata):
        if meta.typ != SheetTypeEnum.WorkSheet:  # a chart sheet holds no rows
            continue
        sheet = workbook.get_sheet_by_index(index)
        start, end = sheet.start, sheet.end
        if end is not None:  # cells without a reference (one after the other) escape the scan
            check_cell(column_letters(end[1] + 1), end[0] + 1, max_lines)
        _send(out, ("sheet", meta.name, start, end))
        rows: Iterator[Any] = sheet.iter_rows()
        while batch := list(islice(rows, FRAME_ROWS)):
            data = pickle.dumps(("rows", batch), protocol=5)
            if len(data) <= FRAME_BYTES:
                out.write(HEADER.pack(len(data)))
                out.write(data)
                continue
            for values in _cut(batch):  # long cells: cut them, and one row a frame
                _send(out, ("rows", [values]))
        _send(out, ("end",))
    _send(out, ("done",))
    workbook.close()


def main(argv: list[str]) -> int:
    options = json.loads(argv[1])
    memory = int(options["memory"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(options["cpu"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    out = sys.stdout.buffer
    path, max_lines = options["path"], int(options["max_lines"])
    try:
        if options.get("inspect", True):
            inspect(path, max_unzipped=int(options["max_unzipped"]), max_lines=max_lines)
        stream(path, out, max_lines=max_lines)
    except Refused as exc:
        _send(out, ("refused", exc.code, exc.params))
    except MemoryError:
        return MEMORY_EXIT  # too little memory left to say so: the exit code says it
    except BrokenPipeError:  # the parent read what it needed and went away
        return 0
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
