"""The plausible-value checks every form, API and import share (issue 10)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tongxin.lib import plausible

TODAY = date(2026, 12, 7)


@pytest.mark.parametrize(
    ("birth", "ok"),
    [
        (TODAY, True),
        (date(2011, 5, 1), True),
        (date(2001, 12, 7), True),  # exactly 25 years back
        (date(2001, 12, 6), False),
        (date(1900, 1, 1), False),
        (date(1, 1, 1), False),
        (date(2026, 12, 8), False),
        (date(2099, 1, 1), False),
        (date(9999, 12, 31), False),
    ],
)
def test_birth_dates_in_the_last_25_years_up_to_today_are_plausible(birth: date, ok: bool) -> None:
    assert (plausible.birth_date_error(birth, today=TODAY) is None) is ok


def test_a_birth_date_on_29_february_counts_back_to_28_february() -> None:
    assert plausible.earliest_birth_date(date(2028, 2, 29)) == date(2003, 2, 28)


@pytest.mark.parametrize(
    ("day", "not_before", "ok"),
    [
        (TODAY, None, True),
        (datetime(2026, 12, 7, 23, 0), None, True),
        (date(2026, 12, 8), None, False),
        (date(1, 1, 1), None, False),
        (date(2015, 1, 1), date(2014, 12, 31), True),
        (date(2014, 12, 30), date(2014, 12, 31), False),
    ],
)
def test_an_event_is_not_in_the_future_nor_before_the_child_was_born(
    day: date, not_before: date | None, ok: bool
) -> None:
    assert (plausible.event_date_error(day, today=TODAY, not_before=not_before) is None) is ok


def test_the_messages_name_the_date() -> None:
    message = plausible.event_date_error(date(2014, 1, 2), today=TODAY, not_before=date(2015, 3, 4))
    assert message is not None
    assert "2014" in message
    assert "2015" in message


@pytest.mark.parametrize(
    ("day", "ok"),
    [(date(2030, 1, 1), True), (date(2036, 12, 8), False), (date(9999, 1, 1), False)],
)
def test_a_planned_date_may_be_ahead_but_not_absurdly(day: date, ok: bool) -> None:
    assert (plausible.plan_date_error(day, today=TODAY) is None) is ok


@pytest.mark.parametrize(
    "name",
    ["王小明", "阿依古丽·买买提", "阿依古丽・买买提", "Maria Lopez", "𠮷田", "ＡＢ"],
)
def test_chinese_minority_and_latin_names_are_accepted(name: str) -> None:
    assert plausible.name_error(plausible.normalise_name(name)) is None


@pytest.mark.parametrize(
    "name",
    [
        "",
        "<script>alert(1)</script>",
        "王1",
        "·王",
        "王·",
        "王··明",
        "王\x00明",
        "x" * 51,
        "王" * 100_000,
    ],
)
def test_markup_digits_stray_dots_and_huge_names_are_refused(name: str) -> None:
    assert plausible.name_error(plausible.normalise_name(name)) is not None


def test_normalising_folds_the_dot_and_spaces() -> None:
    assert plausible.normalise_name("  阿依古丽 ・ 买买提 ") == "阿依古丽 · 买买提"


@pytest.mark.parametrize(
    ("day", "ok"),
    [
        (TODAY, True),
        (date(1970, 1, 1), True),  # a parent's disability since long before the child
        (date(1926, 12, 7), True),  # exactly 100 years back
        (date(1926, 12, 6), False),
        (date(2040, 3, 1), True),  # a long sentence's end
        (date(2076, 12, 7), True),  # exactly 50 years ahead
        (date(2076, 12, 8), False),
        (date(1, 1, 1), False),
        (date(9999, 12, 31), False),
    ],
)
def test_a_parents_legal_fact_may_lie_decades_away_but_not_in_year_1_or_9999(
    day: date, ok: bool
) -> None:
    assert (plausible.legal_fact_date_error(day, today=TODAY) is None) is ok
