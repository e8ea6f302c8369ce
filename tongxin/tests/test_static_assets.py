"""Pico's stylesheet is served from node_modules (installed by `npm ci` at setup), and the system
check says so when it is missing (every page would fail in production without it). No other
front-end package and no build step (decision 013)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders

from tongxin.apps import pico_installed


def test_it_serves_picos_stylesheet_from_node_modules() -> None:
    found = finders.find("vendor/pico/pico.min.css")
    assert found == str(settings.BASE_DIR / "node_modules/@picocss/pico/css/pico.min.css")


def test_it_warns_when_pico_is_not_installed(settings: Any, tmp_path: Path) -> None:
    assert pico_installed() == []
    settings.PICO_DIR = tmp_path / "node_modules" / "@picocss" / "pico" / "css"
    (warning,) = pico_installed()
    assert warning.id == "tongxin.W001"
    assert "npm ci" in (warning.hint or "")


def test_npm_installs_pico_alone() -> None:
    package = json.loads((settings.BASE_DIR / "package.json").read_text())
    assert set(package["dependencies"]) == {"@picocss/pico"}
    assert "devDependencies" not in package
    assert "scripts" not in package
    lock = json.loads((settings.BASE_DIR / "package-lock.json").read_text())
    assert set(lock["packages"]) == {"", "node_modules/@picocss/pico"}
