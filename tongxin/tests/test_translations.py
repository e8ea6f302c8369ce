"""Every user-facing message has its Chinese translation, and the compiled catalogue matches."""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

PO = settings.BASE_DIR / "tongxin" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _key(entry: polib.POEntry) -> str:
    return f"{entry.msgctxt}|{entry.msgid}" if entry.msgctxt else entry.msgid


def _translated(entry: polib.POEntry) -> bool:
    if entry.msgid_plural:
        return all(entry.msgstr_plural.values())
    return bool(entry.msgstr) and "fuzzy" not in entry.flags


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_it_translates_every_message_in_the_code(tmp_path: Path) -> None:
    # Extract from a copy of the code, so the real catalogue is never rewritten by the test.
    src = tmp_path / "src"
    shutil.copytree(
        settings.BASE_DIR / "tongxin",
        src / "tongxin",
        ignore=shutil.ignore_patterns("locale", "__pycache__"),
    )
    shutil.copy(settings.BASE_DIR / "manage.py", src)
    env = {**os.environ, "TONGXIN_VAR_DIR": str(tmp_path / "var")}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location"],
        cwd=src,
        env=env,
        check=True,
        capture_output=True,
    )
    extracted = {_key(e) for e in polib.pofile(str(src / PO.relative_to(settings.BASE_DIR)))}
    catalogue = {_key(e) for e in polib.pofile(str(PO)) if _translated(e)}
    missing = sorted(extracted - catalogue)
    assert not missing, f"untranslated (run `make messages` and translate): {missing}"


def test_it_ships_a_compiled_catalogue_matching_the_po_file() -> None:
    with PO.with_suffix(".mo").open("rb") as f:
        mo = gettext.GNUTranslations(f)
    stale = [
        _key(e)
        for e in polib.pofile(str(PO))
        if not e.msgid_plural
        and _translated(e)
        and (mo.pgettext(e.msgctxt, e.msgid) if e.msgctxt else mo.gettext(e.msgid)) != e.msgstr
    ]
    assert not stale, f"django.mo is out of date (run `make messages`): {stale[:5]}"
