"""The password rules: 10 characters, 3 character classes, not common, not like the name."""

from __future__ import annotations

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

from tongxin.accounts.credentials import generate_password
from tongxin.accounts.models import User
from tongxin.accounts.validators import character_classes

# password, the validators' error codes (empty: accepted)
CASES: list[tuple[str, set[str]]] = [
    ("Ab1-xyz89", {"password_too_short"}),
    ("Ab1-xyz890", set()),
    ("abcdefghk1", {"password_too_simple"}),
    ("ABCDEFGHK-", {"password_too_simple"}),
    ("Abcdefghkm", {"password_too_simple"}),
    ("abcdefgh-1", set()),
    ("Password123", {"password_too_common"}),
    ("Qwertyuiop1", {"password_too_common"}),
    ("1234567890", {"password_too_common", "password_entirely_numeric", "password_too_simple"}),
    ("Zhangwei2024!", {"password_too_similar"}),
    ("zhangwei.2024", {"password_too_similar"}),
    ("Lanzhou-Niurou-58", set()),
    ("河西走廊-Hexi-2024", set()),
]


@pytest.mark.parametrize(("password", "codes"), CASES)
def test_it_applies_the_password_rules(password: str, codes: set[str]) -> None:
    user = User(username="zhangwei2024", name="张伟")
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        found = {e.code for e in exc.error_list}
    else:
        found = set()
    assert found == codes


@pytest.mark.parametrize(
    ("password", "classes"),
    [("abc", 1), ("aB", 2), ("aB3", 3), ("aB3-", 4), ("河", 1), ("a河", 2), ("ABC123", 2)],
)
def test_it_counts_character_classes(password: str, classes: int) -> None:
    assert character_classes(password) == classes


def test_it_generates_passwords_that_pass_the_rules() -> None:
    user = User(username="someone")
    for _ in range(50):
        password_validation.validate_password(generate_password(), user)
