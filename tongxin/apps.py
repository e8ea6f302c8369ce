from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

# Django's label for a drop-down's empty choice (django.db.models.fields.BLANK_CHOICE_LABEL),
# which Django's own Chinese catalogue leaves in English. Named here so that `makemessages`
# keeps it in ours, where it reads "请选择" in every form at once.
gettext_noop("- Select an option -")


def pico_installed(**kwargs: Any) -> list[checks.CheckMessage]:
    """Every page loads Pico's stylesheet from node_modules (installed by `make setup`): without
    it, collectstatic leaves it out and every page fails in production."""
    if (settings.PICO_DIR / "pico.min.css").is_file():
        return []
    return [
        checks.Warning(
            f"Pico's stylesheet is not installed in {settings.PICO_DIR}.",
            hint="Run `make setup` (npm ci).",
            id="tongxin.W001",
        )
    ]


def data_key_outside_data_dir(**kwargs: Any) -> list[checks.CheckMessage]:
    """In production the data key is kept away from the data it opens (docs/data-key.md). A
    deployment check (``check --deploy``): DEBUG is off unless set, so as an ordinary check it
    would stop every ``migrate`` on a laptop. Serving is refused in ``tongxin/wsgi.py``."""
    from tongxin.lib.crypto import key_location_problem

    problem = key_location_problem()
    if problem is None:
        return []
    return [checks.Error(problem, id="tongxin.E001")]


class TongxinConfig(AppConfig):
    """The project itself: home page, shared templates, the demo loader."""

    name = "tongxin"
    verbose_name = _("Tongxin")

    def ready(self) -> None:
        checks.register(pico_installed)
        checks.register(data_key_outside_data_dir, checks.Tags.security, deploy=True)
