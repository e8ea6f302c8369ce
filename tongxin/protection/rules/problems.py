"""Problems found (问题和解决方案) as pure rules: their category, severity and status, and the
moves between statuses."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# --- problems found (问题和解决方案) ------------------------------------------------------------
#
#     open ─start─▶ in_progress ─resolve (the solution)─▶ resolved
#     open / in_progress ─give_up (the reason)─▶ not_resolvable
#     resolved / not_resolvable ─reopen (the reason)─▶ open


# The problem's category, severity and status as stored (labelled for forms, pages and the
# API): protection's public names for them, read by the apps that raise or count problems.


class ConcernCategory(TextChoices):
    GUARDIANSHIP = "guardianship", _("Guardianship")
    SAFETY = "safety", _("Safety")
    SCHOOLING = "schooling", _("Schooling")
    HEALTH = "health", _("Health")
    PSYCHOLOGICAL = "psychological", _("Psychological or behavioural")
    ECONOMIC = "economic", _("Economic")
    LEGAL = "legal", _("Legal")
    OTHER = "other", _("Other")


class Severity(TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class ConcernStatus(TextChoices):
    OPEN = "open", pgettext_lazy("problem status", "Open")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    NOT_RESOLVABLE = "not_resolvable", _("Cannot be resolved")


OPEN_STATUSES = (ConcernStatus.OPEN, ConcernStatus.IN_PROGRESS)


class ProblemStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    NOT_RESOLVABLE = "not_resolvable"


PROBLEM_OPEN = frozenset({ProblemStatus.OPEN, ProblemStatus.IN_PROGRESS})
PROBLEM_CLOSED = frozenset(ProblemStatus) - PROBLEM_OPEN

# From → the statuses a problem may move to; closing needs a text (the solution or the reason),
# and so does reopening (why it is not over).
PROBLEM_MOVES: dict[ProblemStatus, frozenset[ProblemStatus]] = {
    ProblemStatus.OPEN: frozenset(
        {ProblemStatus.IN_PROGRESS, ProblemStatus.RESOLVED, ProblemStatus.NOT_RESOLVABLE}
    ),
    ProblemStatus.IN_PROGRESS: frozenset({ProblemStatus.RESOLVED, ProblemStatus.NOT_RESOLVABLE}),
    ProblemStatus.RESOLVED: frozenset({ProblemStatus.OPEN}),
    ProblemStatus.NOT_RESOLVABLE: frozenset({ProblemStatus.OPEN}),
}


def problem_move_allowed(before: ProblemStatus, after: ProblemStatus) -> bool:
    return after in PROBLEM_MOVES[before]


def problem_move_needs_text(before: ProblemStatus, after: ProblemStatus) -> bool:
    """Closing needs the solution or the reason; reopening needs the reason."""
    return after in PROBLEM_CLOSED or before in PROBLEM_CLOSED


def problem_overdue(status: ProblemStatus, due_on: date | None, today: date) -> bool:
    """Still open after its due date (the due day itself is not late)."""
    return status in PROBLEM_OPEN and due_on is not None and due_on < today
