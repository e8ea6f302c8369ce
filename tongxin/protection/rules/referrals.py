"""Referrals between departments (转介) as pure rules: their statuses, the steps between them,
and the acceptance deadline."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from tongxin.protection.rules.clocks import DEFAULT_POLICY, ClockPolicy, deadline
from tongxin.workdays.rules import WorkCalendar

# --- referrals (转介) --------------------------------------------------------------------------
#
#     sent ─accept─▶ accepted ─complete (the outcome)─▶ done
#     sent ─decline (the reason)─▶ declined
#
# Only the receiving department's officers move a referral. It must be accepted (or declined)
# within ``ClockPolicy.referral_acceptance`` (3 working days); past it, it is escalated.


class ReferralStatus(StrEnum):
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    DONE = "done"


REFERRAL_OPEN = frozenset({ReferralStatus.SENT, ReferralStatus.ACCEPTED})


class ReferralTransition(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    COMPLETE = "complete"


# transition → (from, to, what it needs: "reason" or "outcome" or "")
REFERRAL_STEPS: dict[ReferralTransition, tuple[ReferralStatus, ReferralStatus, str]] = {
    ReferralTransition.ACCEPT: (ReferralStatus.SENT, ReferralStatus.ACCEPTED, ""),
    ReferralTransition.DECLINE: (ReferralStatus.SENT, ReferralStatus.DECLINED, "reason"),
    ReferralTransition.COMPLETE: (ReferralStatus.ACCEPTED, ReferralStatus.DONE, "outcome"),
}


def referral_target(status: ReferralStatus, transition: ReferralTransition) -> ReferralStatus:
    """The status ``transition`` leads to from ``status``; ValueError when it may not."""
    source, target, _needs = REFERRAL_STEPS[transition]
    if status != source:
        raise ValueError(f"{transition} refused from {status}")
    return target


def referral_transitions(status: ReferralStatus) -> tuple[ReferralTransition, ...]:
    return tuple(t for t, (source, _t, _n) in REFERRAL_STEPS.items() if source == status)


def referral_acceptance_due(
    sent_at: datetime, policy: ClockPolicy = DEFAULT_POLICY, *, calendar: WorkCalendar
) -> datetime:
    return deadline(sent_at, policy.referral_acceptance, policy.tz, calendar)


def referral_overdue(status: ReferralStatus, due: datetime, now: datetime) -> bool:
    """Not accepted (nor declined) by its deadline: escalated."""
    return status == ReferralStatus.SENT and now > due
