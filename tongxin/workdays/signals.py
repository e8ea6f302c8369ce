"""Signals of the foundation that domain apps listen to (they never import upwards)."""

from __future__ import annotations

from django.dispatch import Signal

# The working-day calendar changed for ``years`` (a day added or removed, a year confirmed or
# reopened, a year loaded): deadlines stored by other apps that count those years are
# recomputed by their receivers, in the same transaction.
workdays_changed = Signal()
