"""One upload must never take the server down: workbooks built to exhaust the reader (a cell at
XFD1048576, a declared dimension of the whole sheet, a zip bomb with or without lying headers,
more rows than the cap, a sheet calamine would need gigabytes for) are refused with a clear
message, in the worker process that reads them, and leave no file behind."""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import threading
import zipfile
import zlib
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from tongxin.audit.models import AuditEvent, Result
from tongxin.interop.models import ImportBatch
from tongxin.interop.tests.conftest import SHEET, build_ledger, rezip, sheet_xml, upload
from tongxin.interop.tests.test_ledger_import import HEADERS, good_rows
from tongxin.interop.xlsx import BadFile, open_ledger
from tongxin.testing import Actors, web_client

ROOT = Path(__file__).resolve().parents[3]


def _ledger() -> bytes:
    return build_ledger(HEADERS, good_rows())


def _with_cell(data: bytes, ref: str) -> bytes:
    """The ledger with one more cell, at ``ref``, after its rows; the dimension (A1:Q9) is left
    as it was, so it lies."""
    row = re.fullmatch(r"[A-Z]+([0-9]+)", ref)
    assert row is not None
    cell = f'<row r="{row.group(1)}"><c r="{ref}" t="inlineStr"><is><t>x</t></is></c></row>'
    return rezip(data, sheet_xml(data).replace(b"</sheetData>", cell.encode() + b"</sheetData>"))


def _declaring(data: bytes, dimension: str) -> bytes:
    xml = re.sub(
        rb'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"'.encode(), sheet_xml(data)
    )
    return rezip(data, xml)


def _bomb(megabytes: int = 20) -> bytes:
    """A valid ledger whose sheet holds ``megabytes`` MB of white space between its rows: a few
    kilobytes compressed."""
    xml = sheet_xml(_ledger()).replace(b"</sheetData>", b" " * (megabytes << 20) + b"</sheetData>")
    return rezip(_ledger(), xml)


def _lie_about_size(data: bytes, name: str, size: int) -> bytes:
    """The zip with the uncompressed size of ``name`` set to ``size`` in its local header and in
    the central directory, as a zip bomb does to pass a check of the declared sizes."""
    patched = bytearray(data)
    encoded = name.encode()
    local = data.index(b"PK\x03\x04")  # the first local header
    while True:
        (name_length,) = struct.unpack_from("<H", data, local + 26)
        if data[local + 30 : local + 30 + name_length] == encoded:
            struct.pack_into("<I", patched, local + 22, size)
            break
        local = data.index(b"PK\x03\x04", local + 4)
    central = data.index(b"PK\x01\x02")
    while True:
        (name_length,) = struct.unpack_from("<H", data, central + 28)
        if data[central + 46 : central + 46 + name_length] == encoded:
            struct.pack_into("<I", patched, central + 24, size)
            break
        central = data.index(b"PK\x01\x02", central + 4)
    return bytes(patched)


def _refused(actors: Actors, data: bytes, message: str, ledger_dir: Path) -> None:
    with pytest.raises(BadFile, match=message):
        upload(actors.county_admin, data)
    assert not ImportBatch.objects.exists()
    assert list(ledger_dir.iterdir()) == []  # nothing left on disk
    event = AuditEvent.objects.get(action="ledger.preview")
    assert event.result == Result.FAILED
    assert event.detail["reason"]


def test_a_ledger_declaring_the_whole_sheet_is_refused(actors: Actors, ledger_dir: Path) -> None:
    data = _declaring(_ledger(), "A1:XFD1048576")
    assert len(data) < 10_000

    _refused(actors, data, "reaches cell XFD1048576", ledger_dir)


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        # XFD1048576 itself aborts today's process: it has a test of its own, in a subprocess.
        ("XFD200", "reaches cell XFD200, right of column IV"),
        ("IW3", "reaches cell IW3, right of column IV"),
        ("A1048576", "goes down to row 1,048,576; at most 200,000 rows"),
    ],
)
def test_a_cell_far_away_behind_a_lying_dimension_is_refused(
    actors: Actors, ledger_dir: Path, ref: str, message: str
) -> None:
    data = _with_cell(_ledger(), ref)
    assert b'<dimension ref="A1:Q9"' in sheet_xml(data)  # declares the table only

    _refused(actors, data, message, ledger_dir)


def test_a_cell_at_xfd1048576_fails_its_own_import_not_the_process(tmp_path: Path) -> None:
    """Today calamine aborts the whole process on this file (a 512 GiB allocation): it runs here
    in a process of its own, which must survive it and report the refusal."""
    path = tmp_path / "hostile.xlsx"
    path.write_bytes(_with_cell(_ledger(), "XFD1048576"))
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))\n"
        "import django\n"
        "django.setup()\n"
        "from pathlib import Path\n"
        "from tongxin.interop.xlsx import BadFile, open_ledger\n"
        "try:\n"
        "    open_ledger(Path(sys.argv[1])).close()\n"
        "except BadFile as exc:\n"
        "    print('refused:', exc)\n"
        "else:\n"
        "    print('opened')\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tongxin.settings"}
    env["TONGXIN_VAR_DIR"] = str(tmp_path)
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert "refused:" in done.stdout
    assert "XFD1048576" in done.stdout


def test_a_zip_bomb_is_refused(actors: Actors, ledger_dir: Path) -> None:
    data = _bomb()
    assert len(data) < 100_000

    _refused(actors, data, "zip bomb", ledger_dir)


def test_a_zip_bomb_lying_about_its_size_is_refused(actors: Actors, ledger_dir: Path) -> None:
    data = _lie_about_size(_bomb(), SHEET, 2000)
    with zipfile.ZipFile(BytesIO(data)) as z:
        assert z.getinfo(SHEET).file_size == 2000  # the headers say it is small

    _refused(actors, data, "zip bomb", ledger_dir)


def test_a_workbook_unpacking_beyond_the_cap_is_refused(
    actors: Actors, ledger_dir: Path, settings: Any
) -> None:
    settings.TONGXIN_LEDGER_MAX_UNZIPPED_BYTES = 16 * 1024
    data = _ledger()
    with zipfile.ZipFile(BytesIO(data)) as z:
        assert sum(i.file_size for i in z.infolist()) > 16 * 1024

    _refused(actors, data, "unpacks to more than 0 MB", ledger_dir)


def test_a_workbook_lying_about_its_unpacked_size_is_measured(
    actors: Actors, ledger_dir: Path, settings: Any
) -> None:
    """The sizes in the zip's headers claim 2 KB; inflating counts the bytes that come out."""
    settings.TONGXIN_LEDGER_MAX_UNZIPPED_BYTES = 256 * 1024
    # Text that compresses as ledgers do (a few times, not a thousand): digits in no pattern.
    noise = "".join(str(zlib.crc32(str(i).encode())) for i in range(40_000)).encode()
    xml = sheet_xml(_ledger()).replace(b"</sheetData>", b"</sheetData><!-- " + noise + b" -->")
    data = _lie_about_size(rezip(_ledger(), xml), SHEET, 2000)
    with zipfile.ZipFile(BytesIO(data)) as z:
        assert sum(i.file_size for i in z.infolist()) < 256 * 1024

    _refused(actors, data, "unpacks to more than", ledger_dir)


def test_more_rows_than_the_cap_are_refused(
    actors: Actors, ledger_dir: Path, settings: Any
) -> None:
    settings.TONGXIN_LEDGER_MAX_ROWS = 5
    rows = good_rows()
    assert len(rows) == 6

    _refused(actors, build_ledger(HEADERS, rows), "has 6 rows below its header", ledger_dir)
    # Far more rows than the cap: refused from the zip, before calamine reads it.
    many = build_ledger(HEADERS, rows * 8)
    with pytest.raises(BadFile, match="goes down to row 51; at most 5 rows"):
        upload(actors.county_admin, many)
    assert list(ledger_dir.iterdir()) == []


def test_a_sheet_too_big_for_the_reader_fails_its_own_import(
    actors: Actors, ledger_dir: Path, settings: Any
) -> None:
    """Within the caps (column IV, row 60,000) but calamine would need ~500 MB for the
    rectangle: with 128 MB allowed, the worker dies and the import says so."""
    settings.TONGXIN_LEDGER_READER_MEMORY_BYTES = 128 * 1024 * 1024

    _refused(actors, _with_cell(_ledger(), "IV60000"), "within the 128 MB of memory", ledger_dir)


def test_it_refuses_in_a_background_thread_too(tmp_path: Path) -> None:
    """The worker is started the same way from a thread (a background import), a task or a
    command."""
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(_bomb())
    caught: list[BaseException] = []

    def read() -> None:
        try:
            with translation.override("en"):
                open_ledger(path).close()
        except BaseException as exc:  # handed to the test's thread
            caught.append(exc)

    thread = threading.Thread(target=read)
    thread.start()
    thread.join(timeout=120)

    assert len(caught) == 1
    assert isinstance(caught[0], BadFile)
    assert "zip bomb" in str(caught[0])


def test_the_command_refuses_a_hostile_file(
    actors: Actors, ledger_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("source") / "hostile.xlsx"
    path.write_bytes(_with_cell(_ledger(), "XFD200"))

    with pytest.raises(CommandError, match="XFD200"):
        call_command("import_ledger", str(path), user="county_admin", stdout=StringIO())
    assert list(ledger_dir.iterdir()) == []
    assert path.exists()  # the command's own file is the user's


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("台账.xlsx", _with_cell(_ledger(), "XFD200"), "XFD200"),
        ("台账.xlsx", _bomb(), "压缩"),
        ("台账.csv", "姓名,性别,出生日期\n王小明,男,2012-03-05\n".encode(), "不是 Excel"),
    ],
    ids=["xfd", "zip-bomb", "csv"],
)
def test_the_page_refuses_a_hostile_upload_in_chinese_and_keeps_nothing(
    actors: Actors,
    ledger_dir: Path,
    settings: Any,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    data: bytes,
    message: str,
) -> None:
    # Every upload goes to a temporary file (not memory), in a folder this test watches.
    uploads = tmp_path_factory.mktemp("uploads")
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    settings.FILE_UPLOAD_TEMP_DIR = str(uploads)

    response = web_client(actors.village_director).post(
        reverse("ledger:upload"),
        {"file": SimpleUploadedFile(name, data)},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert response.status_code == 400
    assert message in response.text
    assert not ImportBatch.objects.exists()
    assert list(ledger_dir.iterdir()) == []
    assert list(uploads.iterdir()) == []


@pytest.mark.usefixtures("villages")
def test_a_file_that_can_no_longer_be_applied_is_deleted(actors: Actors, ledger_dir: Path) -> None:
    from tongxin.geo.models import Division
    from tongxin.interop import services
    from tongxin.interop.models import BatchStatus
    from tongxin.interop.tests.conftest import WEST, check
    from tongxin.interop.tests.test_ledger_import import messy_rows

    # Checked with errors: it can never be applied, a corrected file comes next.
    with_errors = check(actors.county_admin, build_ledger(HEADERS, messy_rows()))
    assert with_errors.status == BatchStatus.CHECKED
    assert with_errors.counts["error"] == 3
    assert list(ledger_dir.iterdir()) == []

    # Checked without errors: the file waits for the apply …
    batch = check(actors.county_admin, _ledger())
    assert list(ledger_dir.iterdir()) == [batch.path]
    # … which fails (a village renamed meanwhile): checked again from a new upload.
    Division.objects.filter(code=WEST).update(name="新村")
    batch = services.batch_apply(actor=actors.county_admin, batch=batch)
    assert batch.status == BatchStatus.FAILED
    assert list(ledger_dir.iterdir()) == []


def test_a_file_changed_after_the_upload_is_inspected_again(
    actors: Actors, ledger_dir: Path
) -> None:
    """The check skips the zip's inspection only for the very bytes inspected at upload."""
    from tongxin.interop import services
    from tongxin.interop.models import BatchStatus

    batch = upload(actors.county_admin, _ledger())
    batch.path.write_bytes(_bomb())

    batch = services.batch_preview(batch)

    assert batch.status == BatchStatus.REFUSED
    assert "zip bomb" in batch.message
    assert list(ledger_dir.iterdir()) == []
