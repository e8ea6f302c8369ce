"""With DEBUG off, the application refuses to serve while the data key sits inside the data
directory (docs/data-key.md): ``check --deploy`` reports it, and the WSGI application, which
gunicorn and ``runserver`` load and which runs no checks, will not start. The demo accepts the
risk in so many words."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import checks

from tongxin import e2e
from tongxin.lib.crypto import reset_keys_cache


@pytest.fixture(autouse=True)
def _key_in_var(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    settings.VAR_DIR = tmp_path / "var"
    settings.DEBUG = False
    settings.TONGXIN_DATA_KEY_FILE = ""
    settings.TONGXIN_ACCEPT_KEY_IN_DATA_DIR = False
    monkeypatch.delenv("TONGXIN_DATA_KEY", raising=False)
    reset_keys_cache()
    yield
    reset_keys_cache()


def _errors() -> list[str]:
    found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    return [m.id for m in found if m.id and m.level >= checks.ERROR]


def test_the_deployment_check_refuses_a_key_beside_the_data() -> None:
    assert "tongxin.E001" in _errors()


def test_the_deployment_check_accepts_the_risk_when_told(settings: Any) -> None:
    settings.TONGXIN_ACCEPT_KEY_IN_DATA_DIR = True
    assert "tongxin.E001" not in _errors()


def test_the_check_is_not_one_every_command_runs() -> None:
    # DEBUG is off unless set, so an ordinary check would stop every `migrate` on a laptop.
    found = checks.run_checks(tags=[checks.Tags.security])
    assert "tongxin.E001" not in [m.id for m in found]


def _start_wsgi(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TONGXIN_")},
        "TONGXIN_VAR_DIR": str(tmp_path / "served"),
        "DEBUG": "0",
        **env,
    }
    environment.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-c", "import tongxin.wsgi"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_wsgi_application_will_not_start_with_the_key_beside_the_data(
    tmp_path: Path,
) -> None:
    started = _start_wsgi(tmp_path)
    assert started.returncode != 0
    assert "inside the data directory" in started.stderr
    assert "TONGXIN_DATA_KEY_FILE" in started.stderr


@pytest.mark.parametrize("how", ["accepted", "key-file-outside", "key-in-environment", "debug"])
def test_the_wsgi_application_starts_otherwise(tmp_path: Path, how: str) -> None:
    outside = tmp_path / "etc" / "data_key"
    outside.parent.mkdir()
    outside.write_text("A" * 43 + "\n")
    env = {
        "accepted": {"TONGXIN_ACCEPT_KEY_IN_DATA_DIR": "1"},
        "key-file-outside": {"TONGXIN_DATA_KEY_FILE": str(outside)},
        "key-in-environment": {"TONGXIN_DATA_KEY": "A" * 43},
        "debug": {"DEBUG": "1"},
    }[how]
    started = _start_wsgi(tmp_path, **env)
    assert started.returncode == 0, started.stderr[-2000:]


def test_the_demo_servers_accept_the_key_in_their_var_folder(tmp_path: Path) -> None:
    assert e2e._environment(tmp_path, None)["TONGXIN_ACCEPT_KEY_IN_DATA_DIR"] == "1"


def test_make_run_accepts_the_key_in_var() -> None:
    make = shutil.which("make")
    assert make is not None
    plan = subprocess.run(
        [make, "-n", "-B", "run"], cwd=settings.BASE_DIR, capture_output=True, text=True
    ).stdout
    serve = plan[plan.index("unset DATABASE_URL; export") : plan.index("runserver")]
    assert "TONGXIN_ACCEPT_KEY_IN_DATA_DIR=1" in serve
