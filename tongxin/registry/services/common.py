"""What the registry's writes share: the user simple-history records on a row, and the check
that refuses an edit of a file or a household based on a version someone else's edit replaced."""

from __future__ import annotations

from typing import Any

from django.db.models import Model

from tongxin.accounts.models import User
from tongxin.core.versions import StaleEdit
from tongxin.registry.models import Child, Household


def set_history_user(obj: Model, actor: User | None) -> None:
    obj._history_user = actor  # type: ignore[attr-defined]  # read by simple-history


def bump(
    model: type[Child] | type[Household],
    obj: Child | Household,
    version: int,
    changed: list[str],
    meanwhile: Any,
) -> None:
    """Refuse the edit when the stored version is not the one it was based on. The row is
    locked until the transaction ends (SQLite: the IMMEDIATE transaction serialises writers),
    so two edits based on the same version cannot both pass."""
    current = (
        model.objects.select_for_update()
        .filter(pk=obj.pk)
        .values_list("version", flat=True)
        .first()
    )
    if current != version:
        raise StaleEdit(int(current or 0), meanwhile())
