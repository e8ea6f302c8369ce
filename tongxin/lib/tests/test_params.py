"""Typed query parameters (issue 10): ASCII digits only, bounded, choices named with the values
they take; nothing echoed back."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict

from tongxin.lib.params import QueryParams, ascii_int


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("17", 17),
        ("007", 7),
        ("²", None),  # str.isdigit() is true, int() raises
        ("٣", None),  # Arabic-Indic three: int() would read it
        ("１２", None),  # full-width
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1e9", None),
        ("9" * 30, None),
        ("9" * 5000, None),  # int() raises past 4,300 digits
        ("", None),
    ],
)
def test_ascii_int_reads_ascii_digits_only(text: str, expected: int | None) -> None:
    assert ascii_int(text) == expected


@pytest.mark.parametrize("value", ["²", "-1", "26", "9" * 30, "AAA", "1e9", "1.5"])
def test_a_bad_number_is_named_with_its_bounds(value: str) -> None:
    read = QueryParams(QueryDict(f"age_from={value}"))
    assert read.integer("age_from", label="年龄下限", maximum=25) is None
    (message,) = read.errors["age_from"]
    assert "年龄下限" in message
    assert "25" in message
    assert value not in message or value in "25"


def test_a_number_in_bounds_is_read_and_an_absent_one_is_none() -> None:
    read = QueryParams(QueryDict("age_from=6&age_to="))
    assert read.integer("age_from", label="a", maximum=25) == 6
    assert read.integer("age_to", label="b", maximum=25) is None
    assert read.integer("missing", label="c", maximum=25) is None
    assert read.errors == {}


def test_an_unknown_choice_is_named_with_the_values_it_takes() -> None:
    read = QueryParams(QueryDict("status=AAA"))
    assert read.choice("status", ["open", "ended"], label="状态", default="open") == "open"
    (message,) = read.errors["status"]
    assert "状态" in message
    assert "open" in message
    assert "ended" in message
    assert "AAA" not in message
    with pytest.raises(ValidationError) as raised:
        read.raise_errors()
    assert raised.value.message_dict == {"status": [message]}


def test_an_empty_choice_means_any_and_an_absent_one_the_default() -> None:
    assert QueryParams(QueryDict("status=")).choice("status", ["x"], label="s", default="x") == ""
    assert QueryParams(QueryDict("")).choice("status", ["x"], label="s", default="x") == "x"


def test_text_drops_nul_and_is_cut() -> None:
    read = QueryParams(QueryDict("q=%00ab%00c"))
    assert read.text("q") == "abc"
    assert QueryParams({"q": "x" * 500}).text("q", max_length=50) == "x" * 50


@pytest.mark.parametrize(
    "value", ["62072410020", "6207241002011", "６２０７２４１００２０１", "abc"]
)
def test_a_division_code_is_twelve_ascii_digits(value: str) -> None:
    read = QueryParams({"division": value})
    assert read.digits("division", label="乡镇", length=12) == ""
    assert "division" in read.errors
    assert QueryParams({"division": "620724100201"}).digits("d", label="x", length=12) == ""
    assert QueryParams({"d": "620724100201"}).digits("d", label="x", length=12) == "620724100201"
