"""The words the visits rules share: the role keys, the obligations and what each asks
(``OBLIGATIONS``), the kinds of contact, the statuses of a worklist line and the risk levels.

Obligations (``Obligation``, ``OBLIGATIONS``)
    ``monthly_contact``: the village director (``village_director``), any kind, per child, each
    calendar month. ``quarterly_home_visit``: the village director, a home visit, per child,
    each calendar quarter. ``yearly_family_contact``: the town supervisor (``town_supervisor``),
    any kind, per household, each calendar year. A contact qualifies only when its author held
    the obligation's role at the time (``ContactFact.author_role`` is that role, not today's)
    and, for the home visit, its kind is ``home_visit``. A household visit is credited to each
    sibling by the caller, which passes the same contact with each child. Contacts dated after
    ``as_of`` are ignored everywhere (backfilled paper records judged "as of" a date).
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from tongxin.core.periods import PeriodKind

# Role keys, as in tongxin.accounts.roles.Role (kept as strings: this module stays Django-free).
VILLAGE_DIRECTOR = "village_director"
TOWN_SUPERVISOR = "town_supervisor"


class Obligation(StrEnum):
    MONTHLY_CONTACT = "monthly_contact"
    QUARTERLY_HOME_VISIT = "quarterly_home_visit"
    YEARLY_FAMILY_CONTACT = "yearly_family_contact"


class ContactKind(StrEnum):
    PHONE = "phone"
    VIDEO = "video"
    HOME_VISIT = "home_visit"  # 入户走访
    SCHOOL_VISIT = "school_visit"
    OTHER = "other"


class Status(StrEnum):
    DONE = "done"
    DUE = "due"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ObligationSpec(NamedTuple):
    role: str
    period: PeriodKind
    home_visit_only: bool
    per_household: bool


OBLIGATIONS: dict[Obligation, ObligationSpec] = {
    Obligation.MONTHLY_CONTACT: ObligationSpec(VILLAGE_DIRECTOR, PeriodKind.MONTH, False, False),
    Obligation.QUARTERLY_HOME_VISIT: ObligationSpec(
        VILLAGE_DIRECTOR, PeriodKind.QUARTER, True, False
    ),
    Obligation.YEARLY_FAMILY_CONTACT: ObligationSpec(TOWN_SUPERVISOR, PeriodKind.YEAR, False, True),
}
# The obligations on a child's worklist; the yearly one is per household (``family_line``).
CHILD_OBLIGATIONS = (Obligation.MONTHLY_CONTACT, Obligation.QUARTERLY_HOME_VISIT)
