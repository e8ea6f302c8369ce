"""``manage.py createuser``: the operator's way to make the first accounts."""

from __future__ import annotations

import io
import re
import sys

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils.translation import gettext

from tongxin.accounts.models import User
from tongxin.audit.models import AuditEvent
from tongxin.geo.models import Level
from tongxin.testing import Actors

COUNTY = "620724000000"


def _run(*args: str, stdin: str | None = None, monkeypatch: pytest.MonkeyPatch) -> str:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out = io.StringIO()
    call_command("createuser", *args, stdout=out)
    return out.getvalue()


def test_it_creates_a_user_and_prints_the_password_once(
    actors: Actors, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _run(
        "wang_fang",
        "--role",
        "county_admin",
        "--division",
        COUNTY,
        "--organisation",
        "高台县民政局",
        "--name",
        "王芳",
        monkeypatch=monkeypatch,
    )
    user = User.objects.select_related("organisation").get(username="wang_fang")
    assert (user.role, user.division_id, user.name) == ("county_admin", COUNTY, "王芳")
    assert user.organisation is not None
    assert user.organisation.name == "高台县民政局"
    # The last line ends with the password, after a colon (full-width in Chinese).
    password = re.split(r"[\s:：]", out.strip())[-1]
    assert user.check_password(password)
    assert out.count(password) == 1
    # In force at once (the operator bootstraps), but one-time: the person sets their own.
    assert not user.role_grants.exists()
    assert user.must_change_password
    assert user.one_time_password_expires_at is not None
    event = AuditEvent.objects.get(action="user.create")
    assert (event.actor, event.object_code) == (None, str(user.public_id))


def test_it_reads_the_password_from_stdin(actors: Actors, monkeypatch: pytest.MonkeyPatch) -> None:
    out = _run(
        "zhao_lei",
        "--role",
        "village_director",
        "--division",
        "620724100202",
        "--password-stdin",
        stdin="Heihe-River 58\n",
        monkeypatch=monkeypatch,
    )
    user = User.objects.get(username="zhao_lei")
    assert user.check_password("Heihe-River 58")
    assert user.must_change_password
    assert "Heihe-River 58" not in out


def test_it_refuses_a_weak_password_from_stdin(
    actors: Actors, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValidationError) as rules:
        password_validation.validate_password("short")
    with pytest.raises(CommandError) as exc:
        _run(
            "zhao_lei",
            "--role",
            "village_director",
            "--division",
            "620724100202",
            "--password-stdin",
            stdin="short\n",
            monkeypatch=monkeypatch,
        )
    assert all(message in str(exc.value) for message in rules.value.messages)
    assert not User.objects.filter(username="zhao_lei").exists()


def test_it_refuses_an_empty_password_from_stdin(
    actors: Actors, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(CommandError):
        _run(
            "zhao_lei",
            "--role",
            "auditor",
            "--division",
            COUNTY,
            "--password-stdin",
            stdin="\n",
            monkeypatch=monkeypatch,
        )
    assert not User.objects.filter(username="zhao_lei").exists()


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["--role", "boss", "--division", COUNTY], ["boss", "county_admin"]),
        (["--role", "auditor", "--division", "999999999999"], ["999999999999"]),
        (
            ["--role", "department_officer", "--division", COUNTY, "--organisation", "无此单位"],
            ["无此单位"],
        ),
        (["--role", "village_director", "--division", COUNTY], [str(Level.COUNTY.label)]),
        (["--role", "town_supervisor", "--division", "620724100201"], [str(Level.VILLAGE.label)]),
    ],
)
def test_it_explains_what_is_wrong(
    actors: Actors, monkeypatch: pytest.MonkeyPatch, args: list[str], mentions: list[str]
) -> None:
    with pytest.raises(CommandError) as exc:
        _run("new_person", *args, monkeypatch=monkeypatch)
    assert all(m in str(exc.value) for m in mentions), str(exc.value)
    assert not User.objects.filter(username="new_person").exists()


def test_it_refuses_a_taken_username(actors: Actors, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CommandError) as exc:
        _run("Village_Director", "--role", "auditor", "--division", COUNTY, monkeypatch=monkeypatch)
    assert str(exc.value) == gettext("This username is taken.")
    assert User.objects.filter(username__iexact="village_director").count() == 1


def test_it_refuses_a_username_with_spaces(actors: Actors, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CommandError):
        _run("li ming", "--role", "auditor", "--division", COUNTY, monkeypatch=monkeypatch)
    assert not User.objects.filter(username="li ming").exists()


def test_it_refuses_a_department_officer_without_a_department(
    actors: Actors, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(CommandError):
        _run(
            "new_person", "--role", "department_officer", "--division", COUNTY,
            monkeypatch=monkeypatch,
        )  # fmt: skip
    assert not User.objects.filter(username="new_person").exists()
