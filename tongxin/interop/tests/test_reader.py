"""Reading a workbook with calamine: lines as Excel numbers them wherever the table starts on
the sheet, chart sheets passed over, numbers and dates as Excel stores them."""

from __future__ import annotations

from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference

from tongxin.interop.tests.conftest import check, id_number, messages_of, outcomes
from tongxin.interop.xlsx import open_ledger
from tongxin.testing import Actors

HEADERS = ["姓名", "性别", "出生日期", "公民身份证号码", "现居住地", "母亲联系电话"]


def _save(workbook: Workbook) -> bytes:
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


def _offset_ledger() -> bytes:
    """The table from C4: three blank rows above, two blank columns left, a blank row inside,
    a date cell, an Excel serial number, a phone number typed into a number cell."""
    workbook = Workbook()
    sheet = workbook.active
    for column, header in enumerate(HEADERS, start=3):
        sheet.cell(row=4, column=column, value=header)
    rows = [
        ["王小明", "男", date(2012, 3, 5), id_number(date(2012, 3, 5)), "东关村", 13812345678],
        None,  # a blank line in the middle of the table
        ["李小红", "女", 41338, id_number(date(2013, 3, 4), "female", 1), "西关村", "13900001111"],
        ["赵小刚", "男", "2012-13-40", id_number(date(2012, 1, 1), "male", 2), "东关村", ""],
    ]
    for line, values in enumerate(rows, start=5):
        for column, value in enumerate(values or [], start=3):
            sheet.cell(row=line, column=column, value=value)
    return _save(workbook)


@pytest.mark.usefixtures("villages")
def test_lines_are_the_sheets_wherever_the_table_starts(actors: Actors) -> None:
    batch = check(actors.county_admin, _offset_ledger())

    assert outcomes(batch) == {5: "new", 7: "new", 8: "error"}
    assert "2012-13-40" in messages_of(batch, 8)
    by_line = {r["line"]: r for r in batch.results}
    assert by_line[5]["village"] == "东关村"
    assert by_line[7]["village"] == "西关村"


def test_numbers_and_dates_read_as_excel_stores_them(tmp_path: Path) -> None:
    path = tmp_path / "offset.xlsx"
    path.write_bytes(_offset_ledger())
    ledger = open_ledger(path)
    try:
        assert ledger.header.header_row == 4
        assert ledger.total_rows == 4  # lines 5 to 8
        rows = dict(ledger.rows())
    finally:
        ledger.close()
    name, birth, phone = (ledger.header.columns[k] for k in ("name", "birth_date", "mother_phone"))
    assert rows[5][name] == "王小明"
    assert rows[5][birth] == date(2012, 3, 5)  # a date cell
    assert rows[7][birth] == 41338  # a serial number: the importer reads it as 2013-03-04
    assert rows[5][phone] == 13812345678  # a number cell (a float): written without ".0"


@pytest.mark.usefixtures("villages")
def test_a_chart_sheet_before_the_table_is_passed_over(actors: Actors) -> None:
    workbook = Workbook()
    data = workbook.active
    data.title = "登记表"
    data.append(HEADERS)
    data.append(["王小明", "男", "2012-03-05", id_number(date(2012, 3, 5)), "东关村", ""])
    chart = BarChart()
    chart.add_data(Reference(data, min_col=3, min_row=1, max_row=2))
    workbook.create_chartsheet("图表", 0).add_chart(chart)

    batch = check(actors.county_admin, _save(workbook))

    assert batch.sheet == "登记表"
    assert outcomes(batch) == {2: "new"}
