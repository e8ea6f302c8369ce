"""Every drop-down's empty choice reads "请选择": Django's own label ("- Select an option -") has
no Chinese in Django's catalogue, so ours carries it (marked in tongxin/apps.py)."""

from __future__ import annotations

import re

from django.utils import translation
from django.utils.translation import gettext

from tongxin.testing import Actors, web_client
from tongxin.tests.test_scope import cases

_EMPTY_OPTION = re.compile(r'<option value=""[^>]*>([^<]*)</option>')
# What an empty choice said before: Django's English label, its old dashes, a bare dash.
_PLACEHOLDERS = {"- Select an option -", "---------", "—", "-", ""}


def test_it_translates_the_blank_choice_label() -> None:
    with translation.override("zh-hans"):
        assert gettext("- Select an option -") == "请选择"


def test_it_labels_every_empty_choice_of_every_page_in_chinese(actors: Actors) -> None:
    """Every HTML page a stock actor may open (the URL table of test_scope.py, so a new page is
    covered as soon as its access case is written)."""
    chinese = 0
    wrong: list[str] = []
    for name, accesses in cases(actors).items():
        for access in accesses:
            if access.api or access.method != "get":
                continue
            for key in access.allowed[:2]:
                response = web_client(getattr(actors, key)).get(access.url)
                if "text/html" not in response.get("Content-Type", ""):
                    continue
                html = response.content.decode()
                labels = [label.strip() for label in _EMPTY_OPTION.findall(html)]
                chinese += labels.count("请选择")
                if "Select an option" in html or "---------" in html:
                    wrong.append(f"{name} as {key}: {access.url}")
                wrong += [
                    f"{name} as {key}: {label!r}" for label in labels if label in _PLACEHOLDERS
                ]
    # The walk did reach the forms (a broken walk must not pass for a clean one).
    assert chinese >= 20
    assert not wrong, "\n".join(sorted(set(wrong)))
