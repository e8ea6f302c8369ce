"""Files that cannot be a ledger get a clear message and change nothing."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from openpyxl import Workbook

from tongxin.audit.models import AuditEvent, Result
from tongxin.interop.models import ImportBatch
from tongxin.interop.tests.conftest import build_ledger, upload
from tongxin.interop.xlsx import BadFile
from tongxin.registry.models import Child
from tongxin.testing import Actors

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _empty_workbook() -> bytes:
    out = BytesIO()
    Workbook().save(out)
    return out.getvalue()


def _encrypted() -> bytes:
    """What Excel writes for a workbook with a password: an OLE2 compound file whose directory
    names the streams EncryptionInfo and EncryptedPackage (MS-OFFCRYPTO), not a zip."""
    directory = b"".join(
        name.encode("utf-16-le").ljust(64, b"\0") + b"\0" * 64
        for name in ("Root Entry", "EncryptionInfo", "EncryptedPackage")
    )
    return OLE + b"\0" * 504 + directory + b"\0" * 1024


CASES: dict[str, tuple[bytes, str]] = {
    "csv": ("姓名,性别\n王小明,男\n".encode(), "not an Excel workbook"),
    "pdf": (b"%PDF-1.4\n...", "not an Excel workbook"),
    "old xls": (OLE + b"\0" * 2000, "old Excel file"),
    "password": (_encrypted(), "protected by a password"),
    "zero bytes": (b"", "empty"),
    "empty workbook": (_empty_workbook(), "No ledger was found"),
    "damaged zip": (b"PK\x03\x04" + b"\0" * 100, "could not be read"),
    "no header": (build_ledger(["甲", "乙", "丙"], [["1", "2", "3"]]), "No ledger was found"),
    "missing column": (
        build_ledger(
            ["姓名", "性别", "出生日期", "现居住地"], [["王小明", "男", "2012-03-05", "东关村"]]
        ),
        r"lacks the required column\(s\): 公民身份证号码",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_it_refuses_a_bad_file_with_a_clear_message(actors: Actors, case: str) -> None:
    data, message = CASES[case]
    with pytest.raises(BadFile, match=message):
        upload(actors.county_admin, data)

    assert not ImportBatch.objects.exists()
    assert Child.objects.count() == 0
    event = AuditEvent.objects.get(action="ledger.preview")
    assert event.result == Result.FAILED
    assert event.detail["reason"]


def test_it_refuses_a_file_over_the_size_limit(actors: Actors, settings: Any) -> None:
    settings.TONGXIN_LEDGER_MAX_BYTES = 1024
    data = build_ledger(["姓名", "性别", "出生日期", "身份证号", "现居住地"], [])
    assert len(data) > 1024
    with pytest.raises(BadFile, match="the limit is"):
        upload(actors.county_admin, data)
    assert not ImportBatch.objects.exists()


def test_it_refuses_a_ledger_with_a_header_but_no_rows(actors: Actors) -> None:
    from tongxin.interop import services
    from tongxin.interop.models import BatchStatus

    batch = upload(
        actors.county_admin, build_ledger(["姓名", "性别", "出生日期", "身份证号", "现居住地"], [])
    )
    batch = services.batch_preview(batch)
    assert batch.status == BatchStatus.REFUSED
    assert "no rows" in batch.message
    assert not batch.path.exists()
