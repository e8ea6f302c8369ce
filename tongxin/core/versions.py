"""Record versions and the changes between them: what an edit based on an older version is
refused with (``StaleEdit``), and the field changes a record's history shows.

A record with a version column counts its saves; a row without one (a parent, a migration
spell) takes as its version the id of its latest history entry (``record_version``). Both keep
their history with django-simple-history, read here as people read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Model
from django.utils.translation import gettext as _


class StaleEdit(Exception):
    """The edit was based on an older version: someone else saved in between."""

    def __init__(self, current_version: int, changes: list[FieldChange]) -> None:
        super().__init__("stale edit")
        self.current_version = current_version
        self.changes = changes


# Fields never shown as values in the history (they are encrypted or derived): named here
# rather than passed in, since every versioned record keeps the same bookkeeping.
_HIDDEN = {
    "id_number_enc",
    "id_number_hash",
    "caregiver_id_enc",
    "caregiver_id_hash",
    "version",
    "categories",
    "left_behind",
    "in_difficulty",
    "classified_on",
    "created_by",
}


@dataclass(frozen=True)
class FieldChange:
    """One changed field of one record, as the file's history shows it."""

    at: datetime
    by: str
    record: str
    field: str
    label: str
    old: str
    new: str


def _display(model: type[Model], field: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    f = model._meta.get_field(field)
    choices = dict(getattr(f, "flatchoices", None) or [])
    if value in choices:
        return str(choices[value])
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日"
    return str(value)


def _tracked_fields(record: Any) -> list[str]:
    """The fields of a history record worth comparing: editable ones (simple-history compares
    only those), less the bookkeeping."""
    return [
        f.name
        for f in type(record)._meta.concrete_fields
        if f.editable
        and not f.name.startswith("history_")
        and f.name not in _HIDDEN
        and f.name not in ("id", "updated_at")
    ]


# Shown in place of an ID number that changed: that it changed, never what it was.
ID_CHANGED = "（已变更，号码不显示）"
# The keyed hash of each ID number a record may carry → the field the history names.
_ID_HASHES = {"id_number_hash": "id_number_enc", "caregiver_id_hash": "caregiver_id_enc"}
_ID_LABELS = {
    "id_number_enc": lambda: _("ID number"),
    "caregiver_id_enc": lambda: _("Caregiver's ID number"),
}


def record_changes(
    model: type[Model], records: list[Any], record_label: str, since_version: int | None = None
) -> list[FieldChange]:
    """Field changes between consecutive history records (oldest first in, newest first out).
    With ``since_version``, only changes that produced a version above it."""
    changes: list[FieldChange] = []
    users = {
        u.pk: u
        for u in get_user_model()._default_manager.filter(
            pk__in={r.history_user_id for r in records}
        )
    }
    for older, newer in pairwise(records):
        if since_version is not None and getattr(newer, "version", 0) <= since_version:
            continue
        who = str(users.get(newer.history_user_id) or "—")
        delta = newer.diff_against(older, included_fields=_tracked_fields(newer))
        found = [
            (c.field, _display(model, c.field, c.old), _display(model, c.field, c.new))
            for c in delta.changes
        ]
        # ID numbers are not editable (set only through their service), so diff_against skips
        # them: compare their keyed hash instead, and show only that they changed.
        for hashed, shown in _ID_HASHES.items():
            if getattr(older, hashed, None) != getattr(newer, hashed, None):
                found.append((shown, ID_CHANGED, ID_CHANGED))
        for field, old, new in found:
            label = (
                _ID_LABELS[field]()
                if field in _ID_LABELS
                else getattr(model._meta.get_field(field), "verbose_name", field)
            )
            changes.append(
                FieldChange(
                    at=newer.history_date,
                    by=who,
                    record=record_label,
                    field=field,
                    label=str(label),
                    old=old,
                    new=new,
                )
            )
    return sorted(changes, key=lambda ch: ch.at, reverse=True)


def record_version(model: type[Model], pk: int | None) -> int:
    """The version of a row that has no version column (a parent, a migration spell): the id
    of its latest history entry, which every write makes (the ledger import's too). 0 when
    there is no row."""
    if pk is None:
        return 0
    history = model.history  # type: ignore[attr-defined]
    latest = history.filter(id=pk).order_by("-history_id").values_list("history_id", flat=True)
    return int(latest.first() or 0)


def record_changes_since(
    model: type[Model], pk: int | None, version: int, label: str
) -> list[FieldChange]:
    """What changed in a parent's or a spell's row after its ``record_version`` ``version``."""
    if pk is None:
        return []
    history = model.history  # type: ignore[attr-defined]
    records = list(
        history.filter(id=pk, history_id__gte=version).order_by("history_date", "history_id")
    )
    return record_changes(model, records, label)
