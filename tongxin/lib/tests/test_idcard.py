import random
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from tongxin.lib.idcard import (
    PROVINCE_PREFIXES,
    IdCheck,
    check_character,
    generate,
    mask,
    normalise,
    validate,
)

TODAY = date(2025, 6, 1)
GAOTAI = "620724"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    # The messages are asserted in their English msgids; the Chinese catalogue comes later.
    with translation.override("en"):
        yield


def _number(first17: str) -> str:
    return first17 + check_character(first17)


def _with_bad_check(first17: str) -> str:
    good = check_character(first17)
    return first17 + ("0" if good != "0" else "1")


def _child(birth: str = "20150615", sequence: str = "123") -> str:
    return _number(GAOTAI + birth + sequence)


@st.composite
def valid_numbers(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(sorted(PROVINCE_PREFIXES))) + draw(
        st.text("0123456789", min_size=4, max_size=4)
    )
    birth = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    gender = draw(st.sampled_from(["male", "female"]))
    rng = random.Random(draw(st.integers(0, 2**32)))
    return generate(rng, region=region, birth_date=birth, gender=gender)


# check_character ------------------------------------------------------------------------------


def test_it_computes_the_check_character_of_the_standards_example() -> None:
    # GB 11643-1999's own example number.
    assert check_character("11010519491231002") == "X"


@pytest.mark.parametrize(
    "first17", ["", "1101051949123100", "110105194912310021", "1101051949123100a"]
)
def test_it_refuses_to_compute_a_check_character_from_anything_but_17_digits(first17: str) -> None:
    with pytest.raises(ValueError, match="17 ASCII digits"):
        check_character(first17)


def test_it_refuses_full_width_digits_in_check_character() -> None:
    with pytest.raises(ValueError, match="17 ASCII digits"):
        check_character("１１０１０５１９４９１２３１００２")


# normalise ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("11010519491231002X", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２ｘ", "11010519491231002X"),
        (" 110105 19491231 002X ", "11010519491231002X"),
        ("110105\u300019491231\u3000002X", "11010519491231002X"),
        ("\t110105\n19491231\r\n002X\xa0", "11010519491231002X"),
        ("\ufeff110105\u200b19491231002X", "11010519491231002X"),
        ("", ""),
    ],
)
def test_it_normalises_what_people_type_and_paste(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_it_accepts_a_full_width_number_with_spaces_and_a_lowercase_x() -> None:
    check = validate("１１０１０５ １９４９１２３１\u3000００２ｘ", today=TODAY)
    assert check.errors == ()
    assert check.number == "11010519491231002X"


# hard rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param("", "Enter the ID number.", id="empty"),
        pytest.param("   ", "Enter the ID number.", id="blank"),
        pytest.param(
            "62072420150615123", "An ID number has 18 characters; this one has 17.", id="17-chars"
        ),
        pytest.param(
            "6207242015061512345", "An ID number has 18 characters; this one has 19.", id="19-chars"
        ),
        pytest.param(
            "620724150615123",
            "15-digit numbers are not accepted; use the 18-digit number",
            id="15-digit",
        ),
        pytest.param(
            "62072415061512X", "An ID number has 18 characters; this one has 15.", id="15-with-x"
        ),
        pytest.param(
            "6207242015061512X3",
            "Only the last character of an ID number may be X; the others are digits.",
            id="x-inside",
        ),
        pytest.param(
            "62072420150615A234",
            "The first 17 characters of an ID number must all be digits.",
            id="letter-inside",
        ),
        pytest.param(
            "62072420150615-234",
            "The first 17 characters of an ID number must all be digits.",
            id="dash-inside",
        ),
        pytest.param(
            "6207242015061512٣4",
            "The first 17 characters of an ID number must all be digits.",
            id="arabic-indic-digit",
        ),
        pytest.param(
            "62072420150615123Y",
            "The last character of an ID number must be a digit or X.",
            id="last-not-digit-or-x",
        ),
        pytest.param(
            _number("002724" + "20150615123"), "The first two digits (00)", id="province-00"
        ),
        pytest.param(
            _number("162724" + "20150615123"), "The first two digits (16)", id="province-16"
        ),
        pytest.param(
            _number("722724" + "20150615123"), "The first two digits (72)", id="province-72"
        ),
        pytest.param(
            _number("912724" + "20150615123"), "The first two digits (91)", id="province-91"
        ),
        pytest.param(
            _child("20230229"),
            "Digits 7 to 14 (20230229) should be the birth date but are not a real date.",
            id="feb-29-common-year",
        ),
        pytest.param(
            _child("19000229"),
            "Digits 7 to 14 (19000229) should be the birth date",
            id="feb-29-1900-not-leap",
        ),
        pytest.param(_child("20151315"), "Digits 7 to 14 (20151315)", id="month-13"),
        pytest.param(_child("20150600"), "Digits 7 to 14 (20150600)", id="day-00"),
        pytest.param(_child("20150431"), "Digits 7 to 14 (20150431)", id="april-31"),
        pytest.param(_child("20250602"), "is in the future", id="tomorrow"),
        pytest.param(_child("20990101"), "is in the future", id="far-future"),
        pytest.param(_child("18991231"), "is before 1900", id="1899"),
        pytest.param(
            _with_bad_check(GAOTAI + "20150615123"),
            "The last character (the check character) should be",
            id="check-character",
        ),
    ],
)
def test_it_reports_each_hard_rule(raw: str, message: str) -> None:
    check = validate(raw, today=TODAY)
    assert not check.ok
    assert len(check.errors) == 1, check.errors
    assert message in check.errors[0]
    assert check.warnings == ()


def test_it_names_the_expected_and_found_check_character() -> None:
    first17 = GAOTAI + "20150615123"
    expected = check_character(first17)
    found = "0" if expected != "0" else "1"
    (error,) = validate(first17 + found, today=TODAY).errors
    assert f"should be {expected}, not {found}" in error


def test_it_reports_a_bad_province_date_and_check_character_together() -> None:
    raw = _with_bad_check("002724" + "20230229" + "123")
    errors = validate(raw, today=TODAY).errors
    assert [e.split(" ")[:3] for e in errors] == [
        ["The", "first", "two"],
        ["Digits", "7", "to"],
        ["The", "last", "character"],
    ]


@pytest.mark.parametrize("birth", ["20240229", "20000229", "19000101", "20250601"])
def test_it_accepts_real_birth_dates_up_to_today(birth: str) -> None:
    check = validate(_child(birth), today=TODAY)
    assert check.errors == ()
    assert check.birth_date == date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))


def test_it_reads_birth_date_and_gender_even_when_the_check_character_is_wrong() -> None:
    check = validate(_with_bad_check(GAOTAI + "20150615" + "124"), today=TODAY)
    assert not check.ok
    assert check.birth_date == date(2015, 6, 15)
    assert check.gender == "female"


def test_it_reads_nothing_from_a_number_of_the_wrong_shape() -> None:
    assert validate("6207242015061512", today=TODAY) == IdCheck(
        number="6207242015061512",
        errors=("An ID number has 18 characters; this one has 16.",),
    )


@pytest.mark.parametrize(("sequence", "gender"), [("121", "male"), ("128", "female")])
def test_it_reads_the_gender_from_the_17th_digit(sequence: str, gender: str) -> None:
    assert validate(_child(sequence=sequence), today=TODAY).gender == gender


@pytest.mark.parametrize("prefix", sorted(PROVINCE_PREFIXES))
def test_it_accepts_every_province(prefix: str) -> None:
    assert validate(_number(prefix + "0101" + "20150615123"), today=TODAY).ok


def test_it_knows_exactly_the_province_prefixes_of_gb_t_2260() -> None:
    assert len(PROVINCE_PREFIXES) == 34
    assert {"11", "15", "21", "23", "31", "37", "41", "46", "50", "54", "61", "65"} <= (
        PROVINCE_PREFIXES
    )
    assert {"71", "81", "82"} <= PROVINCE_PREFIXES
    assert not {"10", "16", "20", "24", "30", "38", "40", "47", "55", "60", "66", "72", "83"} & (
        PROVINCE_PREFIXES
    )


# warnings -------------------------------------------------------------------------------------


def _unknown(_code: str) -> bool:
    return False


def _known(_code: str) -> bool:
    return True


@pytest.mark.parametrize(
    ("known_region", "birth_date", "gender", "today", "message"),
    [
        pytest.param(
            _unknown,
            None,
            None,
            TODAY,
            "The region code 620724 (the first six digits) is not in our list of regions.",
            id="unknown-region",
        ),
        pytest.param(
            None,
            date(2015, 6, 16),
            None,
            TODAY,
            "The number gives the birth date June 15, 2015, but June 16, 2015 was entered.",
            id="birth-date-differs",
        ),
        pytest.param(
            None,
            None,
            "female",
            TODAY,
            "The 17th digit says the person is male, but female was entered.",
            id="gender-differs",
        ),
        pytest.param(
            None,
            None,
            None,
            date(2033, 6, 15),
            "By this number the person is 18 years old, no longer a child",
            id="turns-18-today",
        ),
        pytest.param(
            None,
            None,
            None,
            date(2060, 1, 1),
            "By this number the person is 44 years old",
            id="long-grown-up",
        ),
    ],
)
def test_it_warns(
    known_region: Callable[[str], bool] | None,
    birth_date: date | None,
    gender: str | None,
    today: date,
    message: str,
) -> None:
    check = validate(
        _child(sequence="123"),
        today=today,
        known_region=known_region,
        birth_date=birth_date,
        gender=gender,
    )
    assert check.ok
    assert len(check.warnings) == 1, check.warnings
    assert check.warnings[0].startswith(message)


def test_it_does_not_warn_when_everything_agrees() -> None:
    check = validate(
        _child(sequence="123"),
        today=date(2033, 6, 14),
        known_region=_known,
        birth_date=date(2015, 6, 15),
        gender="male",
    )
    assert check.warnings == ()


def test_it_passes_the_six_digit_region_code_to_known_region() -> None:
    seen: list[str] = []

    def known(code: str) -> bool:
        seen.append(code)
        return True

    validate(_child(), today=TODAY, known_region=known)
    assert seen == [GAOTAI]


@pytest.mark.parametrize(
    ("today", "warned"), [(date(2026, 2, 28), False), (date(2026, 3, 1), True)]
)
def test_it_makes_a_leap_day_child_18_on_the_first_of_march(today: date, warned: bool) -> None:
    check = validate(_child("20080229"), today=today)
    assert bool(check.warnings) is warned


def test_it_ignores_a_gender_it_does_not_know() -> None:
    assert validate(_child(), today=TODAY, gender="").warnings == ()


def test_it_warns_of_every_disagreement_at_once() -> None:
    check = validate(
        _child(sequence="123"),
        today=date(2040, 1, 1),
        known_region=_unknown,
        birth_date=date(2015, 1, 1),
        gender="female",
    )
    assert len(check.warnings) == 4


def test_it_gives_no_warnings_when_there_is_a_hard_error() -> None:
    check = validate(
        _with_bad_check(GAOTAI + "20000615123"),
        today=TODAY,
        known_region=_unknown,
        birth_date=date(2015, 1, 1),
        gender="female",
    )
    assert len(check.errors) == 1
    assert check.warnings == ()


# generate -------------------------------------------------------------------------------------


@given(number=valid_numbers())
@settings(max_examples=300, deadline=None)
def test_it_generates_numbers_that_validate(number: str) -> None:
    check = validate(number, today=TODAY)
    assert check.errors == ()
    assert check.number == number


def test_it_generates_what_it_was_asked_for() -> None:
    rng = random.Random(7)
    number = generate(rng, region=GAOTAI, birth_date=date(2016, 2, 29), gender="female")
    check = validate(number, today=TODAY)
    assert number.startswith("62072420160229")
    assert (check.birth_date, check.gender, check.errors) == (date(2016, 2, 29), "female", ())


def test_it_generates_the_same_numbers_from_the_same_seed() -> None:
    def batch(seed: int) -> list[str]:
        rng = random.Random(seed)
        return [
            generate(rng, region=GAOTAI, birth_date=date(2015, 1, 1), gender="male")
            for _ in range(20)
        ]

    assert batch(1) == batch(1)
    assert len(set(batch(1))) > 1


@pytest.mark.parametrize(
    ("region", "gender"), [("62072", "male"), ("62072a", "male"), ("620724", "boy")]
)
def test_it_refuses_to_generate_from_bad_arguments(region: str, gender: str) -> None:
    rng = random.Random(0)
    with pytest.raises(ValueError, match="must be"):
        generate(rng, region=region, birth_date=date(2015, 1, 1), gender=gender)


# what the check character catches -------------------------------------------------------------


@given(number=valid_numbers())
@settings(max_examples=300, deadline=None)
def test_it_catches_every_single_character_change(number: str) -> None:
    for position in range(18):
        alphabet = "0123456789" if position < 17 else "0123456789X"
        for replacement in alphabet:
            if replacement == number[position]:
                continue
            changed = number[:position] + replacement + number[position + 1 :]
            assert validate(changed, today=TODAY).errors, changed


@given(number=valid_numbers())
@settings(max_examples=300, deadline=None)
def test_it_catches_every_swap_of_adjacent_characters(number: str) -> None:
    for position in range(17):
        a, b = number[position], number[position + 1]
        if a == b:
            continue
        swapped = number[:position] + b + a + number[position + 2 :]
        assert validate(swapped, today=TODAY).errors, swapped


# mask -----------------------------------------------------------------------------------------


def test_it_masks_a_valid_number_to_the_documented_shape() -> None:
    assert mask("62072420150615123X") == "620724********123X"


def test_it_masks_the_normalised_number() -> None:
    assert mask("６２０７２４ 20150615 123ｘ") == "620724********123X"


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("", "********"),
        ("1234", "********"),
        ("12345678", "********"),
        ("123456789", "1********"),
        ("1234567890", "12********"),
        ("12345678901234", "123456********"),
        ("620724150615123", "620724********3"),
        ("62072420150615123", "620724********123"),
        ("6207242015061512345", "620724********2345"),
    ],
)
def test_it_masks_odd_lengths_without_giving_them_away(value: str, masked: str) -> None:
    assert mask(value) == masked


@given(value=st.text())
@settings(max_examples=300, deadline=None)
def test_it_never_reveals_more_than_ten_characters(value: str) -> None:
    masked = mask(value)
    shown = normalise(value)
    # Some head of at most 6 and tail of at most 4 characters around exactly 8 asterisks, with
    # at least 8 characters (or all of a shorter value) left out.
    assert any(
        masked == shown[:head] + "********" + shown[len(shown) - tail :][:tail]
        and len(shown) - head - tail >= min(8, len(shown))
        for head in range(7)
        for tail in range(5)
    ), (value, masked)


@given(number=valid_numbers())
@settings(max_examples=100, deadline=None)
def test_it_masks_every_valid_number_alike(number: str) -> None:
    assert mask(number) == number[:6] + "********" + number[-4:]
