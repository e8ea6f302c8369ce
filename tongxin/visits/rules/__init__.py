"""Contact cadence (任务9) and risk levels: pure rules over plain data (issue 4).

No ORM, no request, no Django. The worklist and compliance selectors compute the same answers in
the database; these functions are the reference the SQL is tested against, and what the
property tests pin down.

One module per seam, each with its part of the reference in its docstring; this package
re-exports every public name, and other modules import them from here:

- ``vocabulary``: the words the others share: role keys, obligations (``OBLIGATIONS``), contact
  kinds, line statuses, risk levels;
- ``cadence``: the policy versions, who counts, the calendar and rolling status, a child's
  worklist lines and the household's family line;
- ``compliance``: counted and met children (households) over a report period;
- ``risk``: the risk level and its factors, an officer's override, the risk history;
- ``contacts``: what a contact must record to count (issue 10).

``rules.compliance`` is the function; its module is ``tongxin.visits.rules.compliance``.
"""

from tongxin.visits.rules.cadence import (
    DEFAULT_POLICIES,
    MAX_CONTACT_INTERVAL,
    MAX_VISIT_INTERVAL,
    CadencePolicy,
    ChildWindow,
    ContactFact,
    HouseholdWindow,
    Line,
    Window,
    calendar_status,
    check_policies,
    family_line,
    last_qualifying,
    policy_on,
    qualifies,
    rolling_status,
    urgency,
    worklist_lines,
)
from tongxin.visits.rules.compliance import (
    Compliance,
    PeriodCount,
    RiskCount,
    compliance,
    judged_periods,
    report_day,
)
from tongxin.visits.rules.contacts import (
    CHECK_NOT_SEEN,
    HOME_VISIT_CHECKS,
    ContactGap,
    contact_gaps,
)
from tongxin.visits.rules.risk import (
    DEFAULT_RISK_THRESHOLDS,
    NO_RISK_HISTORY,
    POOR_ASSESSMENT,
    SEVERE_FACTORS,
    AgreementFact,
    EffectiveRisk,
    OverrideSpan,
    Risk,
    RiskFactor,
    RiskFacts,
    RiskHistory,
    RiskSpan,
    RiskThresholds,
    TimelineEntry,
    apply_override,
    record_level,
    risk_level,
    risk_rank,
    timeline,
)
from tongxin.visits.rules.vocabulary import (
    CHILD_OBLIGATIONS,
    OBLIGATIONS,
    TOWN_SUPERVISOR,
    VILLAGE_DIRECTOR,
    ContactKind,
    Obligation,
    ObligationSpec,
    RiskLevel,
    Status,
)

__all__ = [
    "CHECK_NOT_SEEN",
    "CHILD_OBLIGATIONS",
    "DEFAULT_POLICIES",
    "DEFAULT_RISK_THRESHOLDS",
    "HOME_VISIT_CHECKS",
    "MAX_CONTACT_INTERVAL",
    "MAX_VISIT_INTERVAL",
    "NO_RISK_HISTORY",
    "OBLIGATIONS",
    "POOR_ASSESSMENT",
    "SEVERE_FACTORS",
    "TOWN_SUPERVISOR",
    "VILLAGE_DIRECTOR",
    "AgreementFact",
    "CadencePolicy",
    "ChildWindow",
    "Compliance",
    "ContactFact",
    "ContactGap",
    "ContactKind",
    "EffectiveRisk",
    "HouseholdWindow",
    "Line",
    "Obligation",
    "ObligationSpec",
    "OverrideSpan",
    "PeriodCount",
    "Risk",
    "RiskCount",
    "RiskFactor",
    "RiskFacts",
    "RiskHistory",
    "RiskLevel",
    "RiskSpan",
    "RiskThresholds",
    "Status",
    "TimelineEntry",
    "Window",
    "apply_override",
    "calendar_status",
    "check_policies",
    "compliance",
    "contact_gaps",
    "family_line",
    "judged_periods",
    "last_qualifying",
    "policy_on",
    "qualifies",
    "record_level",
    "report_day",
    "risk_level",
    "risk_rank",
    "rolling_status",
    "timeline",
    "urgency",
    "worklist_lines",
]
