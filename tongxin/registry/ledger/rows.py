"""What a ledger import exchanges with its caller: the rows it is given (``LedgerRow``, with
its ``LedgerParent``s, plain values the caller read from the spreadsheet) and what it makes
of each (``RowResult``, with its ``Outcome``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    NEW = "new"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    REVIEW = "review"
    ERROR = "error"


@dataclass(slots=True)
class LedgerParent:
    """What a row says of the father or the mother. ``fields``: ``PARENT_FIELDS`` given."""

    role: str
    fields: dict[str, Any] = field(default_factory=dict)
    id_number: str = ""
    work_place: str = ""
    destination: str | None = None  # derived from the work place by the caller when not given
    left_on: date | None = None

    @property
    def away(self) -> bool:
        return bool(self.work_place or self.destination or self.left_on)


@dataclass(slots=True)
class LedgerRow:
    """One spreadsheet row as plain values. ``child``/``household`` hold only the fields the
    row gives (``CHILD_FIELDS``/``HOUSEHOLD_FIELDS``; the household also the caregiver's
    ``caregiver_id_hash`` once the number is checked); ``errors`` found while reading the
    cells make the row an error without further checks."""

    line: int
    name: str = ""
    village_code: str = ""
    id_number: str = ""
    # The entrusted caregiver's (委托监护人) number: checked like a parent's, stored encrypted
    # on the household with its keyed hash (the household's caregiver, see interop.mapping).
    caregiver_id_number: str = ""
    child: dict[str, Any] = field(default_factory=dict)
    household: dict[str, Any] = field(default_factory=dict)
    parents: list[LedgerParent] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RowResult:
    """What importing one row does (or did)."""

    line: int
    outcome: Outcome
    name: str = ""
    village: str = ""
    id_masked: str = ""
    messages: list[str] = field(default_factory=list)  # errors, or why the row needs review
    warnings: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # labels of the facts that change
    categories: list[tuple[str, str]] = field(default_factory=list)  # (code, reason)


class LedgerRejected(Exception):
    """Applying stopped at an error row; the caller's transaction rolls everything back."""

    def __init__(self, result: RowResult) -> None:
        super().__init__(f"row {result.line}: {'; '.join(result.messages)}")
        self.result = result
