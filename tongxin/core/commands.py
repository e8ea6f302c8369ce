"""Helpers of management commands: argument types that answer in the user's language."""

from __future__ import annotations

import argparse
from datetime import date

from django.utils.translation import gettext as _


def iso_date(value: str) -> date:
    """An argparse type for a date like 2024-07-01 (``--as-of``): a clear error otherwise."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("%(value)s is not a date like 2024-07-01.") % {"value": value}
        ) from None
