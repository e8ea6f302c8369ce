"""Boundaries between apps that the import contracts (``.importlinter``, run by ``make test``)
cannot see: a name with a leading underscore is private to its app, and no module outside it
imports one. Tests are exempt: they may reach into what they test."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

PACKAGE = Path(settings.BASE_DIR) / "tongxin"


def _app(module: str) -> str:
    """The app a dotted module belongs to: ``tongxin.visits.views.x`` → ``visits``; a top-level
    module of the project (``tongxin.urls``) is its own."""
    parts = module.split(".")
    return ".".join(parts[:2])


def private_crossings(module: str, source: str) -> list[str]:
    """The private names ``module`` (whose code is ``source``) imports from another app."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.ImportFrom) and node.module and node.level == 0):
            continue
        if not node.module.startswith("tongxin.") or _app(node.module) == _app(module):
            continue
        found += [
            f"{module} (l.{node.lineno}) imports {node.module}.{alias.name}"
            for alias in node.names
            if alias.name.startswith("_")
        ]
    return found


def test_no_app_imports_another_apps_private_names() -> None:
    crossings = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if "tests" in parts or "migrations" in parts:
            continue
        module = ".".join(parts).removesuffix(".__init__")
        crossings += private_crossings(module, path.read_text())
    assert not crossings, "private names used across apps:\n" + "\n".join(crossings)


def test_it_sees_a_private_name_imported_across_apps_only() -> None:
    source = (
        "from tongxin.visits.views.compliance import _picker, period_label\n"
        "from tongxin.protection.rules import _local\n"
    )
    assert private_crossings("tongxin.protection.views_stats", source) == [
        "tongxin.protection.views_stats (l.1) imports tongxin.visits.views.compliance._picker"
    ]
