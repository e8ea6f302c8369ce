"""The production settings as docs/deploy.md documents them (deploy/tongxin.env.example) pass
Django's deployment checks without a warning, and the example names every variable the settings
read. On SQLite, and on PostgreSQL when DATABASE_URL is set."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
EXAMPLE = BASE_DIR / "deploy" / "tongxin.env.example"
SETTINGS = BASE_DIR / "tongxin" / "settings.py"


def _example() -> dict[str, str]:
    """The example's variables that are set (not commented out)."""
    return dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", EXAMPLE.read_text(), re.M))


def _production_env(var_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TONGXIN_", "DJANGO_")) and k != "DATABASE_URL"
    }
    env.update(_example())
    # The server's paths and secrets, made for the test; its database is the test run's.
    env.update(
        DEBUG="0",
        HTTPS="1",
        SECRET_KEY=secrets.token_urlsafe(50),
        TONGXIN_VAR_DIR=str(var_dir),
        STATIC_ROOT=str(var_dir / "static"),
        DJANGO_SETTINGS_MODULE="tongxin.settings",
    )
    env.pop("DATABASE_URL")
    if url := os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = url
    return env


def test_it_passes_the_deployment_checks_without_a_warning(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=_production_env(tmp_path),
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_fails_them_without_https(tmp_path: Path) -> None:
    """The check is a real one: the same settings without HTTPS are refused."""
    env = {**_production_env(tmp_path), "HTTPS": "0"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "security.W008" in result.stderr


def test_the_example_names_every_variable_the_settings_read() -> None:
    read = set(
        re.findall(r'(?:environ\.get|_env_bool)\(\s*"([A-Z][A-Z0-9_]*)"', SETTINGS.read_text())
    )
    assert read, "no variable found: the pattern no longer matches settings.py"
    listed = set(re.findall(r"^#?([A-Z][A-Z0-9_]*)=", EXAMPLE.read_text(), re.M))
    assert read - listed == set()
