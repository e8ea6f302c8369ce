"""The checks a division file must pass, without a database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from tongxin.geo.rules import (
    DivisionRow,
    RowError,
    check_division_rows,
    code_fits_level,
    parents_first,
    parse_division_file,
)

HEADER = "code,name,level,parent_code"
# What the database already holds, as the service passes it: code → level.
EXISTING = {
    "620000000000": "province",
    "620700000000": "city",
    "620724000000": "county",
    "620724100000": "town",
    "620724100009": "village",
}


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    # The messages are asserted in their English msgids, whatever translations exist.
    with translation.override("en"):
        yield


def errors_of(text: str, existing: dict[str, str] | None = None) -> list[RowError]:
    rows, errors = parse_division_file(text.splitlines(keepends=True))
    return errors + check_division_rows(rows, existing=EXISTING if existing is None else existing)


# id, the rows after the header, the line and a fragment of the one message expected.
ONE_ERROR_CASES: list[tuple[str, list[str], int, str]] = [
    (
        "missing parent",
        ["620724199201,新村,village,620724199000"],
        2,
        "parent 620724199000 is neither in the file nor among the loaded divisions",
    ),
    (
        "duplicate code",
        ["620724100201,东关村,village,620724100000", "620724100201,东关村,village,620724100000"],
        3,
        "code 620724100201 is repeated (first on line 2)",
    ),
    (
        "code too short",
        ["62072410020,东关村,village,620724100000"],
        2,
        "code 62072410020 must have 12 digits",
    ),
    (
        "code too long",
        ["6207241002011,东关村,village,620724100000"],
        2,
        "code 6207241002011 must have 12 digits",
    ),
    (
        "code with a letter",
        ["62072410020X,东关村,village,620724100000"],
        2,
        "code 62072410020X must have 12 digits",
    ),
    (
        "code in full-width digits",
        ["６２０７２４１００２０１,东关村,village,620724100000"],
        2,
        "must have 12 digits",
    ),
    ("empty code", [",东关村,village,620724100000"], 2, 'code "" must have 12 digits'),
    (
        "unknown level",
        ["620724100201,东关村,hamlet,620724100000"],
        2,
        "unknown level hamlet; use one of province, city, county, town, village, community",
    ),
    ("empty level", ["620724100201,东关村,,620724100000"], 2, 'unknown level ""'),
    (
        "village in a county",
        ["620724109201,新村,village,620724000000"],
        2,
        "a Village cannot lie in a County (620724000000)",
    ),
    (
        "province with a parent",
        ["620000000000,甘肃省,province,620000000000"],
        2,
        "a Province cannot lie in a Province (620000000000)",
    ),
    (
        "town without a parent",
        ["620724109000,新镇,town,"],
        2,
        "a Town needs a parent_code; only a province has none",
    ),
    (
        "code outside its parent",
        ["620725100201,东关村,village,620724100000"],
        2,
        "code 620725100201 must start with 620724100, the prefix of its parent 620724100000",
    ),
    (
        "code of a village given to a town",
        ["620724100201,东关村,town,620724000000"],
        2,
        "code 620724100201 is not the code of a Town",
    ),
    ("empty name", ["620724100201,,village,620724100000"], 2, "the name is empty"),
    ("blank name", ["620724100201,  ,village,620724100000"], 2, "the name is empty"),
    (
        "level change of a loaded division",
        ["620724100009,东关社区,community,620724100000"],
        2,
        "620724100009 is already loaded as a Village; a file cannot change it to a Community",
    ),
    (
        "too few cells",
        ["620724100201,东关村,village"],
        2,
        "3 cells, expected 4 (code,name,level,parent_code)",
    ),
    (
        "too many cells",
        ["620724100201,东关村,village,620724100000,x"],
        2,
        "5 cells, expected 4",
    ),
    (
        "line numbers count blank lines",
        ["620724100201,东关村,village,620724100000", "", "620724100202,,village,620724100000"],
        4,
        "the name is empty",
    ),
]


@pytest.mark.parametrize(
    ("rows", "line", "fragment"),
    [pytest.param(rows, line, fragment, id=id_) for id_, rows, line, fragment in ONE_ERROR_CASES],
)
def test_it_reports_each_kind_of_error_naming_the_line(
    rows: list[str], line: int, fragment: str
) -> None:
    errors = errors_of("\n".join([HEADER, *rows]) + "\n")

    assert len(errors) == 1, errors
    assert errors[0].line == line
    assert errors[0].message.startswith(f"Line {line}: ")
    assert fragment in errors[0].message


HEADER_CASES: list[tuple[str, str, list[str]]] = [
    ("missing column", "code,name,level", ["lacks the column(s) parent_code"]),
    (
        "extra column",
        "code,name,level,parent_code,note",
        ["unexpected or repeated column(s) note"],
    ),
    (
        "repeated column",
        "code,name,level,parent_code,name",
        ["unexpected or repeated column(s) name"],
    ),
    ("trailing comma", "code,name,level,parent_code,", ['unexpected or repeated column(s) ""']),
    (
        "missing and extra",
        "code,name,kind,parent",
        ["lacks the column(s) level, parent_code", "column(s) kind, parent"],
    ),
]


@pytest.mark.parametrize(
    ("header", "fragments"),
    [pytest.param(header, fragments, id=id_) for id_, header, fragments in HEADER_CASES],
)
def test_it_refuses_a_header_without_exactly_the_four_columns(
    header: str, fragments: list[str]
) -> None:
    rows, errors = parse_division_file([header + "\n", "620724100201,,village,\n"])

    assert rows == []
    assert errors
    assert all(e.line == 1 and e.message.startswith("Line 1: ") for e in errors)
    text = "\n".join(e.message for e in errors)
    for fragment in fragments:
        assert fragment in text
    assert "the header must be code,name,level,parent_code" in text


def test_it_refuses_an_empty_file() -> None:
    rows, errors = parse_division_file([])

    assert rows == []
    assert [e.line for e in errors] == [1]
    assert "the header is missing" in errors[0].message


def test_it_accepts_columns_in_any_order_and_a_byte_order_mark() -> None:
    rows, errors = parse_division_file(
        ["\ufeffname,code,parent_code,level\r\n", "东关村, 620724100201 ,620724100000,village\r\n"]
    )

    assert errors == []
    assert rows == [DivisionRow(2, "620724100201", "东关村", "village", "620724100000")]


def test_it_reports_every_bad_row_not_just_the_first() -> None:
    errors = errors_of(
        "\n".join(
            [
                HEADER,
                "620724109000,新镇,town,620724000000",
                "620724109201,新村,village,620724199000",  # missing parent
                "620724109202,,village,620724109000",  # empty name
                "620724109201,新村,village,620724109000",  # duplicate
                "620724109203,新村,village,620724109000",
                "62072410920,新村,village,620724109000",  # short code
            ]
        )
    )

    assert [e.line for e in errors] == [3, 4, 5, 7]


def test_it_reports_every_error_of_one_row() -> None:
    errors = errors_of(f"{HEADER}\n62072410920,,hamlet,620724100000\n")

    assert [e.line for e in errors] == [2, 2, 2]
    text = "\n".join(e.message for e in errors)
    assert "must have 12 digits" in text
    assert "the name is empty" in text
    assert "unknown level hamlet" in text


def test_it_finds_parents_in_the_file_whatever_their_order() -> None:
    errors = errors_of(
        "\n".join(
            [
                HEADER,
                "630121100201,新村,village,630121100000",
                "630121100000,新镇,town,630121000000",
                "630121000000,大通县,county,630100000000",
                "630100000000,西宁市,city,630000000000",
                "630000000000,青海省,province,",
            ]
        ),
        existing={},
    )

    assert errors == []


def test_it_takes_the_parent_level_from_the_file_over_the_database() -> None:
    # The file says 620724100009 is a community: a village cannot lie in it, whatever the
    # database holds (the level change itself is reported on the community's own line).
    errors = errors_of(
        "\n".join(
            [
                HEADER,
                "620724100009,东关社区,community,620724100000",
                "620724100010,东关村,village,620724100009",
            ]
        )
    )

    assert [e.line for e in errors] == [2, 3, 3]
    assert "cannot lie in a Community" in errors[1].message + errors[2].message


def test_it_does_not_repeat_a_parent_error_on_its_children() -> None:
    # The town's level is unknown: said once, on the town's line, not again on each village.
    errors = errors_of(
        "\n".join(
            [
                HEADER,
                "620724109000,新镇,township,620724000000",
                "620724109201,新村,village,620724109000",
                "620724109202,新村,village,620724109000",
            ]
        )
    )

    assert [e.line for e in errors] == [2]


@pytest.mark.parametrize(
    ("code", "level", "fits"),
    [
        ("620000000000", "province", True),
        ("000000000000", "province", False),
        ("620700000000", "province", False),
        ("620700000000", "city", True),
        ("620000000000", "city", False),
        ("620724000000", "county", True),
        ("620724100000", "county", False),
        ("620724100000", "town", True),
        ("620724001000", "town", True),  # a subdistrict (街道)
        ("620724000000", "town", False),
        ("620724100201", "village", True),
        ("620724100200", "village", True),
        ("620724100001", "community", True),
        ("620724100000", "community", False),
    ],
)
def test_it_knows_which_codes_fit_a_level(code: str, level: str, fits: bool) -> None:
    assert code_fits_level(code, level) is fits


def test_it_orders_parents_before_children() -> None:
    rows = [
        DivisionRow(2, "620724100201", "东关村", "village", "620724100000"),
        DivisionRow(3, "620724100001", "东街社区", "community", "620724100000"),
        DivisionRow(4, "620724100000", "城关镇", "town", "620724000000"),
        DivisionRow(5, "620724000000", "高台县", "county", "620700000000"),
        DivisionRow(6, "620700000000", "张掖市", "city", "620000000000"),
        DivisionRow(7, "620000000000", "甘肃省", "province", ""),
    ]

    ordered = [r.code for r in parents_first(rows)]

    assert ordered == [
        "620000000000",
        "620700000000",
        "620724000000",
        "620724100000",
        "620724100001",
        "620724100201",
    ]
