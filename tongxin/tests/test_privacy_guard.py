"""The guard that fails any test whose pages or logs show a full ID number really catches one."""

from __future__ import annotations

import logging
import random
from datetime import date

import pytest
from django.test import Client

from tongxin.lib.idcard import generate
from tongxin.privacy_guard import full_id_numbers, guard
from tongxin.tests.leaky_urls import LEAKED

pytestmark = pytest.mark.no_privacy_guard


def test_it_finds_valid_numbers_only() -> None:
    number = generate(random.Random(3), region="620724", birth_date=date(2014, 5, 1), gender="male")
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    assert full_id_numbers(f"x {number} y") == {number}
    assert full_id_numbers(f"x {wrong} y") == set()
    assert full_id_numbers("620724********123X") == set()
    assert full_id_numbers(f"a{number}") == set()  # part of a longer token


def test_the_leak_is_a_real_number() -> None:
    assert full_id_numbers(LEAKED) == {LEAKED}


@pytest.mark.urls("tongxin.tests.leaky_urls")
def test_it_fails_a_page_that_shows_a_full_number() -> None:
    with pytest.raises(AssertionError, match="full ID number"), guard():
        Client().get("/leaky/")


@pytest.mark.urls("tongxin.tests.leaky_urls")
def test_it_allows_the_users_own_input_shown_again() -> None:
    with guard():
        response = Client().post("/echo/", {"id": LEAKED})
    assert LEAKED in response.content.decode()


def test_it_fails_a_log_record_with_a_full_number() -> None:
    with pytest.raises(AssertionError, match="log records"), guard():
        logging.getLogger("tongxin.test").warning("looked up %s", LEAKED)
