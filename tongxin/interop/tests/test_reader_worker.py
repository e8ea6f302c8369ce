"""The reading worker's checks of a workbook before calamine opens it (``interop.reader``):
pure functions of the file's bytes, table-driven."""

from __future__ import annotations

import re
import zipfile
import zlib
from io import BytesIO
from pathlib import Path

import pytest

from tongxin.interop import reader
from tongxin.interop.reader import Refused

LINES = 200_020  # 200,000 rows below a header within the first 20 lines


@pytest.mark.parametrize(
    ("xml", "refusal"),
    [
        (b'<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row>', None),
        (b'<sheetData><row r="200020"><c r="IV200020"/></row>', None),
        (b'<sheetData><row r="3"><c r="IW3"/></row>', ("extent", "IW3")),
        (b'<sheetData><row r="3"><c r="XFD3"/></row>', ("extent", "XFD3")),
        (b"<sheetData><row r='3'><c s='1' r = 'xfd3'/></row>", ("extent", "XFD3")),
        (b'<sheetData><x:row r="5"><x:c r="AAAA5"/></x:row>', ("extent", "AAAA5")),
        (b'<sheetData><row r="200021"><c r="A200021"/></row>', ("lines", 200_021)),
        (b'<sheetData><row r="1"><c r="B1048576"/></row>', ("lines", 1_048_576)),
        (b'<sheetData><row r="99999999999999999"/>', ("lines", 10**9)),
        # Attributes named r outside sheetData are not cells (a theme's fillToRect).
        (b'<a:fillToRect l="50000" r="500000000"/><sheetData>', None),
    ],
)
def test_the_scan_finds_cells_beyond_the_caps(
    xml: bytes, refusal: tuple[str, object] | None
) -> None:
    extent = reader._Extent(LINES)
    if refusal is None:
        extent.scan(xml)
        return
    with pytest.raises(Refused) as caught:
        extent.scan(xml)
    code, where = refusal
    assert caught.value.code == code
    assert where in caught.value.params.values()


@pytest.mark.parametrize(
    ("head", "refused"),
    [
        (b'<dimension ref="A1:AJ20002"/>', False),
        (b'<dimension ref="A1"/>', False),
        (b'<dimension ref="A1:XFD1048576"/>', True),
        (b"<x:dimension  ref = 'A1:IW2' />", True),
        (b'<dimension ref="A1:B300000"/>', True),
    ],
)
def test_the_declared_dimension_is_checked(head: bytes, refused: bool) -> None:
    extent = reader._Extent(LINES)
    if not refused:
        extent.declared(head)
        return
    with pytest.raises(Refused):
        extent.declared(head)


def _zip(tmp_path: Path, parts: dict[str, bytes]) -> str:
    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in parts.items():
            z.writestr(name, body)
    return str(path)


def _noise(size: int) -> bytes:
    """Text that compresses as spreadsheets do, a few times over."""
    out = bytearray()
    i = 0
    while len(out) < size:
        out += str(zlib.crc32(str(i).encode())).encode()
        i += 1
    return bytes(out[:size])


def test_a_reference_cut_by_a_chunk_boundary_is_found(tmp_path: Path) -> None:
    for shift in range(0, 16, 3):  # the reference falls across the first megabyte's end
        padding = b"<!--" + _noise(reader._CHUNK - 20 + shift) + b"-->"
        xml = b"<worksheet><sheetData>" + padding + b'<row r="2"><c r="XFD2"/></row></sheetData>'
        path = _zip(tmp_path, {"xl/worksheets/sheet1.xml": xml})
        with pytest.raises(Refused) as caught:
            reader.inspect(path, max_unzipped=1 << 30, max_lines=LINES)
        assert caught.value.params["cell"] == "XFD2"


def test_a_stored_part_is_scanned_as_a_deflated_one(tmp_path: Path) -> None:
    path = tmp_path / "stored.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b'<sheetData><row r="1"><c r="ZZ1"/></row>')
    with pytest.raises(Refused, match="extent"):
        reader.inspect(str(path), max_unzipped=1 << 30, max_lines=LINES)


def test_the_bytes_are_counted_across_parts(tmp_path: Path) -> None:
    path = _zip(tmp_path, {f"xl/part{i}.xml": _noise(40_000) for i in range(5)})
    reader.inspect(path, max_unzipped=200_000, max_lines=LINES)
    with pytest.raises(Refused, match="unzipped"):
        reader.inspect(path, max_unzipped=199_999, max_lines=LINES)


def test_a_zip_that_is_not_one_is_damaged(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 200)
    with pytest.raises(Refused, match="damaged"):
        reader.inspect(str(path), max_unzipped=1 << 30, max_lines=LINES)


def test_a_frame_of_long_cells_is_cut_and_sent_row_by_row(tmp_path: Path) -> None:
    """Cells longer than Excel allows are cut to its limit only when a frame would grow past
    FRAME_BYTES; rows then go one a frame, each well under what the parent accepts."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for _ in range(40):
        sheet.append(["王" * 32_767] * 2)  # 40 rows of 64 K characters: ~7.5 MB in UTF-8
    data = BytesIO()
    workbook.save(data)
    path = tmp_path / "long.xlsx"
    path.write_bytes(data.getvalue())
    out = BytesIO()

    reader.stream(str(path), out, max_lines=LINES)

    out.seek(0)
    frames = []
    while head := out.read(reader.HEADER.size):
        (length,) = reader.HEADER.unpack(head)
        assert length <= reader.FRAME_BYTES
        frames.append(out.read(length))
    assert len(frames) == 1 + 40 + 1 + 1  # sheet, one frame a row, end, done


@pytest.mark.parametrize("number", [0, 5, 9, 25, 99, 100, 109, 199_999, 200_020, 1_048_576])
def test_greater_than_matches_exactly_the_greater_numbers(number: int) -> None:
    pattern = re.compile(f"(?:{reader.greater_than(number)})")
    around = range(max(0, number - 300), number + 300)
    for candidate in [*around, *range(0, 1200), number * 10, 10**7, 123_456_789]:
        assert bool(pattern.fullmatch(str(candidate))) == (candidate > number), candidate
