"""Ledger fixtures: the stock villages under realistic names, and ledgers built with openpyxl
the way counties fill them in (merged title rows, header variants, dates in every format)."""

from __future__ import annotations

import random
import zipfile
from collections.abc import Iterator, Sequence
from datetime import date
from io import BytesIO
from typing import Any

import pytest
import time_machine
from django.utils import translation
from openpyxl import Workbook

from tongxin.accounts.models import User
from tongxin.geo.models import Division
from tongxin.interop import services
from tongxin.interop.models import ImportBatch
from tongxin.lib import idcard
from tongxin.testing import Actors

TODAY = date(2024, 6, 30)
SHEET = "xl/worksheets/sheet1.xml"  # the first sheet of a workbook openpyxl wrote
EAST = "620724100201"  # 东关村, 城关镇 (the stock village director's)
WEST = "620724100202"  # 西关村, 城关镇
SOUTH = "620724101201"  # 南华村, 宣化镇


@pytest.fixture(autouse=True)
def today() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(date(2024, 6, 30), tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages are asserted in English (the msgids), whatever the translations say."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def ledger_dir(settings: Any, tmp_path: Any) -> Any:
    """Uploaded files go to a directory of the test's own."""
    settings.TONGXIN_LEDGER_DIR = tmp_path
    return tmp_path


@pytest.fixture
def villages(actors: Actors) -> None:
    """The stock villages named as villages are (东村 → 东关村 …), so that short forms can be
    written (东关, 城关东关)."""
    for code, name in ((EAST, "东关村"), (WEST, "西关村"), (SOUTH, "南华村")):
        Division.objects.filter(code=code).update(name=name)


def id_number(birth: date, gender: str = "male", seed: int = 0, region: str = "620724") -> str:
    return idcard.generate(random.Random(seed), region=region, birth_date=birth, gender=gender)


def build_ledger(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    titles: Sequence[str] = (
        "高台县农村留守儿童基本情况登记表",
        "填报单位：城关镇　　填报日期：2024年6月",
    ),
    group_row: Sequence[Any] | None = None,
) -> bytes:
    """An xlsx ledger: title rows merged over the table, an optional group header row, the
    header row, then ``rows``."""
    workbook = Workbook()
    sheet = workbook.active
    width = len(headers)
    for title in titles:
        sheet.append([title])
        sheet.merge_cells(
            start_row=sheet.max_row, start_column=1, end_row=sheet.max_row, end_column=width
        )
    if group_row is not None:
        sheet.append(list(group_row))
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


def sheet_xml(data: bytes) -> bytes:
    """The XML of the workbook's first sheet."""
    with zipfile.ZipFile(BytesIO(data)) as z:
        return z.read(SHEET)


def rezip(data: bytes, sheet: bytes) -> bytes:
    """The workbook ``data`` with its first sheet's XML replaced: cells openpyxl would not write
    (longer than Excel allows, far away, a dimension that lies)."""
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = sheet if info.filename == SHEET else source.read(info)
            target.writestr(info.filename, body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def upload(actor: User, data: bytes, name: str = "ledger.xlsx") -> ImportBatch:
    return services.batch_upload(actor=actor, name=name, size=len(data), chunks=[data])


def check(actor: User, data: bytes) -> ImportBatch:
    """Upload and preview."""
    return services.batch_preview(upload(actor, data))


def outcomes(batch: ImportBatch) -> dict[int, str]:
    return {r["line"]: r["outcome"] for r in batch.results}


def messages_of(batch: ImportBatch, line: int) -> str:
    row = next(r for r in batch.results if r["line"] == line)
    return " ".join(row["messages"] + row["warnings"])
