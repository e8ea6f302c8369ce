"""Cells no ledger should hold are a row's error naming the row and the column, never a 500 and
never cut to fit: digits that are not ASCII digits (``'²'.isdigit()`` is true, ``int('²')``
fails), names that are not names (100,000 characters, markup, digits), dates no child or
parent can have."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.urls import reverse

from tongxin.interop import cells, services
from tongxin.interop.cells import CellError
from tongxin.interop.models import BatchStatus
from tongxin.interop.tests.conftest import (
    build_ledger,
    check,
    id_number,
    messages_of,
    outcomes,
    rezip,
    sheet_xml,
)
from tongxin.interop.tests.test_ledger_import import HEADERS as SHORT_HEADERS
from tongxin.interop.tests.test_template_ledger import HEADERS, TITLES, messy_rows
from tongxin.registry.models import Child, Household, Parent
from tongxin.testing import Actors, web_client

COLUMN = {header: i for i, header in enumerate(HEADERS)}
FIRST = 5  # the first row's line: three title rows and the header come first


@pytest.mark.parametrize(
    "value",
    [
        "²",
        "2012²",
        "20²²",
        "²⁰¹²-03-05",
        "2012-0²-05",
        "٢٠١٢-٠٣-٠٥",  # Arabic-Indic digits: \d took them, int() read them as 2012-03-05
        "२०१२०३०५",  # Devanagari digits, the compact form
        "4097³",
        "①",
    ],
)
def test_a_date_with_digits_other_than_ascii_is_a_cell_error(value: str) -> None:
    with pytest.raises(CellError, match="not"):
        cells.parse_date(value)


def _ledger(change: dict[str, Any], line: int = FIRST) -> bytes:
    rows = messy_rows()
    long: dict[str, str] = {}
    for header, value in change.items():
        if isinstance(value, str) and len(value) > 32_767:
            # openpyxl cuts a cell to Excel's 32,767 characters: the long one goes into the XML.
            long[f"占位{len(long)}"] = value
            value = f"占位{len(long) - 1}"
        rows[line - FIRST][COLUMN[header]] = value
    data = build_ledger(HEADERS, rows, titles=TITLES)
    if long:
        xml = sheet_xml(data)
        for placeholder, value in long.items():
            xml = xml.replace(f">{placeholder}<".encode(), f">{value}<".encode())
        data = rezip(data, xml)
    return data


def _only_error(batch: Any, line: int) -> str:
    assert batch.status == BatchStatus.CHECKED
    assert outcomes(batch) == {n: "error" if n == line else "new" for n in range(5, 10)}
    return messages_of(batch, line)


@pytest.mark.usefixtures("villages")
@pytest.mark.parametrize("column", ["出生日期", "父亲出生日期", "母亲外出时间", "登记日期"])
def test_a_superscript_in_a_date_cell_is_the_row_s_error(actors: Actors, column: str) -> None:
    # Today: "20²²".isdigit() is true, float("20²²") raises, the page is a 500.
    batch = check(actors.county_admin, _ledger({column: "20²²"}, line=7))

    message = _only_error(batch, 7)
    assert f"{column}: “20²²” is not a date." in message


@pytest.mark.usefixtures("villages")
def test_the_page_shows_the_row_and_column_of_a_superscript_date(
    actors: Actors, django_capture_on_commit_callbacks: Any
) -> None:
    client = web_client(actors.county_admin)
    with django_capture_on_commit_callbacks(execute=True):  # the check runs at the commit
        response = client.post(
            reverse("ledger:upload"),
            {"file": _upload(_ledger({"出生日期": "²"}, line=6))},
        )
    assert response.status_code == 302
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert page.status_code == 200
    assert "出生日期: “²”不是日期。" in page.text
    assert '<td class="line" data-label="行">6</td>' in page.text


def _upload(data: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("台账.xlsx", data)


def test_a_progress_file_with_a_superscript_is_no_progress(actors: Actors) -> None:
    from tongxin.interop.tests.test_ledger_import import good_rows

    batch = services.batch_upload(
        actor=actors.county_admin,
        name="台账.xlsx",
        size=1,
        chunks=[build_ledger(SHORT_HEADERS, good_rows())],
    )
    batch.progress_path.write_text("checking ² ²")
    assert services.progress(batch) is None
    batch.progress_path.write_text("checking 20 ²")
    assert services.progress(batch) is not None
    assert services.progress(batch)[:2] == (20, None)  # type: ignore[index]

    page = web_client(actors.county_admin).get(reverse("ledger:batch", args=[batch.public_id]))
    assert page.status_code == 200


@pytest.mark.usefixtures("villages")
@pytest.mark.parametrize(
    ("column", "name", "message"),
    [
        ("姓名", "王" * 100_000, "The name has 100000 characters; at most 50 are allowed."),
        ("姓名", "<script>alert(1)</script>", "The name may hold only Chinese characters"),
        ("姓名", "王小明2", "The name may hold only Chinese characters"),
        ("姓名", "²", "The name may hold only Chinese characters"),
        ("父亲姓名", "王建国" * 20, "The name has 60 characters"),
        ("母亲姓名", "李秀英1", "The name may hold only Chinese characters"),
        ("委托监护人姓名", "张" * 100_000, "The name has 100000 characters"),
        ("委托监护人姓名", "<b>张</b>", "The name may hold only Chinese characters"),
    ],
    ids=["long", "markup", "digit", "superscript", "father", "mother", "caregiver", "markup2"],
)
def test_a_name_that_is_no_name_is_the_row_s_error(
    actors: Actors, column: str, name: str, message: str
) -> None:
    data = _ledger({column: name}, line=8)
    batch = check(actors.county_admin, data)

    assert f"{column}: {message}" in _only_error(batch, 8)
    with pytest.raises(services.ApplyRefused, match="1 row"):
        services.batch_apply(actor=actors.county_admin, batch=batch)
    assert Child.objects.count() == 0
    # The preview keeps the name's start only: a row's result is no place for 100,000 characters.
    row = next(r for r in batch.results if r["line"] == 8)
    assert len(row["name"]) <= 41
    assert all(len(m) < 400 for m in row["messages"])


@pytest.mark.usefixtures("villages")
def test_names_are_kept_whole_and_normalised(actors: Actors) -> None:
    rows = messy_rows()
    rows[0][COLUMN["姓名"]] = "王  明"  # padded to line up with three-character names
    rows[1][COLUMN["姓名"]] = "阿依古丽・买买提"  # a minority name, with the Japanese-style dot
    rows[2][COLUMN["父亲姓名"]] = "欧阳" + "建" * 48  # 50 characters: the most allowed
    rows[3][COLUMN["委托监护人姓名"]] = "Ayse Yilmaz"
    batch = check(actors.county_admin, build_ledger(HEADERS, rows, titles=TITLES))
    assert batch.counts["error"] == 0, batch.results

    services.batch_apply(actor=actors.county_admin, batch=batch)

    names = set(Child.objects.values_list("name", flat=True))
    assert {"王明", "阿依古丽·买买提"} <= names
    assert Parent.objects.filter(name="欧阳" + "建" * 48).exists()
    assert Household.objects.filter(caregiver_name="Ayse Yilmaz").exists()


@pytest.mark.usefixtures("villages")
@pytest.mark.parametrize(
    ("change", "message"),
    [
        # No ID number, so the birth date is the cell's alone: a row to review today.
        (
            {"出生日期": "2030-01-01", "公民身份证号码": None},
            "The birth date 2030年1月1日 is in the future.",
        ),
        (
            {"出生日期": "1990-01-01", "公民身份证号码": id_number(date(1990, 1, 1), "male", 9)},
            "more than 25 years ago",
        ),
        (
            {"父亲出生日期": "0001-01-01"},
            "father: birth date: The birth date 1年1月1日 is too long ago",
        ),
        (
            {"母亲外出时间": "2099-01-01"},
            "mother: left on: The date 2099年1月1日 is in the future.",
        ),
        ({"登记日期": "2000-01-01"}, "before the child's birth"),
    ],
    ids=["future-birth", "adult", "parent-born-year-1", "left-in-2099", "registered-before-birth"],
)
def test_a_date_nobody_can_have_is_the_row_s_error(
    actors: Actors, change: dict[str, Any], message: str
) -> None:
    batch = check(actors.county_admin, _ledger(change, line=9))

    assert message in _only_error(batch, 9)
