"""Reminders and escalation (issue 4), run daily by ``manage.py remind``.

- Each village director and town supervisor with worklist lines due within the "due soon"
  window or overdue gets one digest a day (key ``digest:YYYY-MM-DD``): the counts and the most
  urgent children, names masked (王*明), never an ID number.
- A child whose village director's line is overdue by more than ``escalate_after_days`` (the
  cadence policy in force, 15 by default) is escalated to the supervisor(s) of its town
  (``worklist.escalations``, the same list as their home page): one notification per child and
  missed due date (key ``overdue:<child>:<due>``), however many days it stays so.
- A village with active children and no active village director account is reported to the
  county officers whose scope holds it: one notification per officer a day listing those
  villages (key ``no-director:YYYY-MM-DD``).

Every notification written by the run is e-mailed (one message per recipient) to the users who
have an address. A second run on the same day writes and sends nothing new. The run is audited
once, with counts only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db.models import Count
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.audit.services import audit_record
from tongxin.geo.models import Division
from tongxin.geo.scope import in_scope
from tongxin.notices import services as notifications
from tongxin.notices.models import Notification
from tongxin.registry.models import Child, ChildStatus
from tongxin.visits import rules

if TYPE_CHECKING:
    from tongxin.visits.worklist_sql import WorkLine

# How many children (families) a digest names; the rest are counted.
DIGEST_NAMES = 10

# The kinds of notification the run writes (``Notification.kind``).
DIGEST = "digest"
ESCALATION_OVERDUE = "escalation_overdue"
ESCALATION_NO_DIRECTOR = "escalation_no_director"
ALERT_STATUSES = frozenset({rules.Status.OVERDUE, rules.Status.DUE_SOON})

OBLIGATION_LABELS = {
    rules.Obligation.MONTHLY_CONTACT: gettext_lazy("monthly contact"),
    rules.Obligation.QUARTERLY_HOME_VISIT: gettext_lazy("quarterly home visit"),
    rules.Obligation.YEARLY_FAMILY_CONTACT: gettext_lazy("yearly family contact"),
}


@dataclass
class RemindSummary:
    as_of: date
    workers: int = 0
    digests: int = 0
    escalations: int = 0
    villages_without_director: int = 0
    county_alerts: int = 0
    emails_sent: int = 0
    emails_failed: int = 0
    written: list[Notification] = field(default_factory=list, repr=False)

    def counts(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "workers": self.workers,
            "digests": self.digests,
            "escalations": self.escalations,
            "villages_without_director": self.villages_without_director,
            "county_alerts": self.county_alerts,
            "emails_sent": self.emails_sent,
            "emails_failed": self.emails_failed,
        }


def _day(day: date) -> str:
    return date_format(day, "DATE_FORMAT")


def digest_text(lines: list[WorkLine]) -> tuple[str, str]:
    """The digest's title and body from the worker's due-soon and overdue lines (most urgent
    first, as the worklist orders them): one row per child (family) at its most urgent line."""
    overdue = sum(1 for line in lines if line.status is rules.Status.OVERDUE)
    title = _("Contacts to make: %(overdue)d overdue, %(soon)d due soon") % {
        "overdue": overdue,
        "soon": len(lines) - overdue,
    }
    rows: dict[Any, WorkLine] = {}
    for line in lines:
        rows.setdefault(line.child or line.household, line)
    body: list[str] = []
    for line in list(rows.values())[:DIGEST_NAMES]:
        template = (
            _("%(name)s · %(obligation)s · overdue since %(due)s")
            if line.status is rules.Status.OVERDUE
            else _("%(name)s · %(obligation)s · due by %(due)s")
        )
        body.append(
            template
            % {
                "name": line.masked_name,
                "obligation": OBLIGATION_LABELS[line.obligation],
                "due": _day(line.due),
            }
        )
    if len(rows) > DIGEST_NAMES:
        body.append(_("… and %(n)d more.") % {"n": len(rows) - DIGEST_NAMES})
    return title, "\n".join(body)


def _digests(workers: list[User], as_of: date, summary: RemindSummary) -> None:
    from tongxin.visits.worklist import worklist_lines

    url = reverse("visits:worklist")
    for user in workers:
        summary.workers += 1
        lines = [line for line in worklist_lines(user, as_of) if line.status in ALERT_STATUSES]
        if not lines:
            continue
        title, body = digest_text(lines)
        note, created = notifications.notify(
            recipient=user,
            kind=DIGEST,
            title=title,
            body=body,
            url=url,
            key=f"digest:{as_of.isoformat()}",
        )
        summary.digests += created
        summary.written.append(note)


def _escalate_overdue(supervisors: list[User], as_of: date, summary: RemindSummary) -> None:
    """Each town supervisor's children overdue by more than the policy's days
    (``worklist.escalations``): one notification per child and missed due date."""
    from tongxin.visits.worklist import escalate_after_days, escalations

    limit = escalate_after_days(as_of)
    for supervisor in supervisors:
        for line in escalations(supervisor, as_of):
            assert line.child is not None
            days = line.days_overdue(as_of)
            note, created = notifications.notify(
                recipient=supervisor,
                kind=ESCALATION_OVERDUE,
                title=_("Overdue by %(days)d days: %(name)s (%(village)s)")
                % {"days": days, "name": line.masked_name, "village": line.village_name},
                body=_(
                    "%(name)s of %(village)s: %(obligation)s missed since %(due)s, more than "
                    "%(limit)d days ago. Please follow up with the village child director."
                )
                % {
                    "name": line.masked_name,
                    "village": line.village_name,
                    "obligation": OBLIGATION_LABELS[line.obligation],
                    "due": _day(line.due),
                    "limit": limit,
                },
                url=reverse("registry:child_detail", args=[line.child]),
                key=f"overdue:{line.child}:{line.due.isoformat()}",
            )
            summary.escalations += created
            summary.written.append(note)


def villages_without_director() -> list[tuple[Division, int]]:
    """Villages with active children and no active village director account, with the number
    of active children: three queries."""
    staffed = set(
        User.objects.filter(
            role=Role.VILLAGE_DIRECTOR, is_active=True, division__isnull=False
        ).values_list("division_id", flat=True)
    )
    counts = {
        row["village_id"]: row["n"]
        for row in Child.objects.filter(status=ChildStatus.ACTIVE)
        .values("village_id")
        .annotate(n=Count("pk"))
        .order_by()
        if row["village_id"] not in staffed
    }
    divisions = Division.objects.in_bulk(list(counts))
    return sorted(
        ((divisions[code], n) for code, n in counts.items() if code in divisions),
        key=lambda item: item[0].code,
    )


def _alert_county(as_of: date, summary: RemindSummary) -> None:
    unstaffed = villages_without_director()
    summary.villages_without_director = len(unstaffed)
    if not unstaffed:
        return
    url = reverse("accounts:user_list")
    for admin in User.objects.filter(
        role=Role.COUNTY_ADMIN, is_active=True, division__isnull=False
    ):
        mine = [(v, n) for v, n in unstaffed if in_scope(admin, v.code)]
        if not mine:
            continue
        note, created = notifications.notify(
            recipient=admin,
            kind=ESCALATION_NO_DIRECTOR,
            title=_("%(n)d villages have children but no active child director") % {"n": len(mine)},
            body="\n".join(
                _("%(village)s (%(code)s): %(children)d active children")
                % {"village": v.name, "code": v.code, "children": n}
                for v, n in mine
            ),
            url=url,
            key=f"no-director:{as_of.isoformat()}",
        )
        summary.county_alerts += created
        summary.written.append(note)


def remind(*, as_of: date) -> RemindSummary:
    """The daily run: digests, escalations, e-mail, one audit event with the counts."""
    summary = RemindSummary(as_of=as_of)
    workers = list(
        User.objects.filter(
            role__in=(Role.VILLAGE_DIRECTOR, Role.TOWN_SUPERVISOR),
            is_active=True,
            division__isnull=False,
        )
        .select_related("division")
        .order_by("pk")
    )
    _digests(workers, as_of, summary)
    _escalate_overdue([u for u in workers if u.role == Role.TOWN_SUPERVISOR], as_of, summary)
    _alert_county(as_of, summary)
    pending = Notification.objects.filter(
        pk__in=[n.pk for n in summary.written], emailed_at__isnull=True
    ).select_related("recipient")
    mailed = notifications.email_pending(pending)
    summary.emails_sent, summary.emails_failed = mailed.sent, mailed.failed
    audit_record(
        actor=None,
        action="visits.remind",
        object_type="remind",
        object_code=as_of.isoformat(),
        detail=summary.counts(),
    )
    return summary
