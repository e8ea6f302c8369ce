"""The worklist page (待办), ``/visits/worklist/``, and the home page's panels that count it.

A village director sees a line per child and obligation, a town supervisor a line per family;
a county officer or an auditor picks a village (its director's lines) or a town (its
supervisor's lines) and reads them without the "record a contact" links. Other roles: 404.
``village`` outside the user's scope: 404, as for a division that is not there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.core.http import render_page_or_fragment, signed_in_user, staff_view, url_pattern
from tongxin.core.pagecache import keep_until_data_changes
from tongxin.core.panels import PanelLine
from tongxin.geo.models import Division, Level
from tongxin.geo.scope import get_for_user_or_404
from tongxin.registry.selectors import filter_divisions
from tongxin.visits import rules
from tongxin.visits.worklist import (
    OWN_WORKLIST_ROLES,
    VILLAGE_LEVELS,
    WORKLIST_ROLES,
    escalations,
    status_counts,
    worklist_lines,
)
from tongxin.visits.worklist_sql import WorkLine

PAGE_SIZE = 50

OBLIGATION_LABELS: dict[str, Promise] = {
    rules.Obligation.MONTHLY_CONTACT: gettext_lazy("Monthly contact"),
    rules.Obligation.QUARTERLY_HOME_VISIT: gettext_lazy("Quarterly home visit"),
    rules.Obligation.YEARLY_FAMILY_CONTACT: gettext_lazy("Yearly family contact"),
}
STATUS_LABELS: dict[str, Promise] = {
    rules.Status.OVERDUE: gettext_lazy("Overdue"),
    rules.Status.DUE_SOON: gettext_lazy("Due within 7 days"),
    rules.Status.DUE: gettext_lazy("Due"),
    rules.Status.DONE: gettext_lazy("Done for this period"),
}
RISK_LABELS: dict[str, Promise] = {
    rules.RiskLevel.LOW: gettext_lazy("Low risk"),
    rules.RiskLevel.MEDIUM: gettext_lazy("Medium risk"),
    rules.RiskLevel.HIGH: gettext_lazy("High risk"),
}
# Most urgent first, as the list is ordered.
STATUS_ORDER = (rules.Status.OVERDUE, rules.Status.DUE_SOON, rules.Status.DUE, rules.Status.DONE)


def _has_worklist(user: User) -> bool:
    return user.role in WORKLIST_ROLES


def _contact_url(child: Any, back: str, obligation: str = "") -> str:
    """The contact form for ``child``, coming back to ``back`` once saved; for a home visit's
    line, with the home visit chosen."""
    try:
        base = reverse("visits:contact_create")
    except NoReverseMatch:
        base = "/visits/contacts/new/"
    query = {"child": str(child), "next": back}
    if obligation == rules.Obligation.QUARTERLY_HOME_VISIT:
        query["kind"] = rules.ContactKind.HOME_VISIT.value
    return f"{base}?{urlencode(query)}"


@dataclass(frozen=True)
class WorkRow:
    """A line as the page shows it, its words made here rather than by template tags in the
    loop (a page's rows were most of its rendering time: issue 12, decision 021)."""

    line: WorkLine
    obligation: str
    status: str
    risk: str  # "" for low risk or a family line
    children: list[tuple[str, str]]  # (name, file url): the child, or the family's children
    record_url: str  # "" for read-only viewers
    interval: str  # "every 30 days", "" for a calendar line
    when: str  # when it is due, or how late
    last: str  # the last counted contact


def _when(line: WorkLine, as_of: date) -> str:
    due = date_format(line.due, "DATE_FORMAT")
    if line.status is rules.Status.OVERDUE:
        days = line.days_overdue(as_of)
        text = ngettext(
            "Due %(due)s, overdue by %(days)s day", "Due %(due)s, overdue by %(days)s days", days
        )
        return text % {"due": due, "days": days}
    if line.status is rules.Status.DONE:
        return _("Done; next period starts after %(due)s") % {"due": due}
    days = (line.due - as_of).days
    text = ngettext(
        "Due by %(due)s (%(days)s day left)", "Due by %(due)s (%(days)s days left)", days
    )
    return text % {"due": due, "days": days}


def _rows(lines: list[WorkLine], as_of: date, back: str, can_record: bool) -> list[WorkRow]:
    file_url = url_pattern("registry:child_detail")
    obligations = {code: str(label) for code, label in OBLIGATION_LABELS.items()}
    statuses = {code: str(label) for code, label in STATUS_LABELS.items()}
    risks = {code: str(label) for code, label in RISK_LABELS.items()}
    rows = []
    for line in lines:
        people = list(line.children) if line.child is None else [(line.child, line.name)]
        days = line.interval_days
        rows.append(
            WorkRow(
                line=line,
                obligation=obligations[line.obligation],
                status=statuses[line.status],
                risk=risks[line.risk] if line.risk and line.risk != rules.RiskLevel.LOW else "",
                children=[(name, file_url(code)) for code, name in people],
                record_url=(
                    _contact_url(people[0][0], back, line.obligation)
                    if can_record and people
                    else ""
                ),
                interval=(
                    ngettext("every %(days)s day", "every %(days)s days", days) % {"days": days}
                    if days
                    else ""
                ),
                when=_when(line, as_of),
                last=(
                    _("Last counted contact: %(day)s")
                    % {"day": date_format(line.last_contact, "DATE_FORMAT")}
                    if line.last_contact
                    else _("No counted contact yet")
                ),
            )
        )
    return rows


def _query(params: QueryDict, **changes: str) -> str:
    query = params.copy()
    query.pop("page", None)
    for name, value in changes.items():
        query.pop(name, None)
        if value:
            query[name] = value
    return query.urlencode()


def _as_of(request: HttpRequest, today: date) -> tuple[date, str]:
    """The "as of" day asked for (ISO), or today with a message saying why."""
    text = request.GET.get("as_of", "").strip()
    if not text:
        return today, ""
    try:
        return date.fromisoformat(text), ""
    except ValueError:
        return today, _("The date must be written as YYYY-MM-DD (for example 2024-06-30).")


def _division(user: User, code: str) -> Division | None:
    """The division chosen in the filter: inside the scope and of a level whose worklist the
    user may see, else 404."""
    if not code:
        return None
    division = get_for_user_or_404(Division.objects.visible_to(user), code=code)
    levels = VILLAGE_LEVELS if user.role in OWN_WORKLIST_ROLES else {*VILLAGE_LEVELS, Level.TOWN}
    if division.level not in levels:
        raise Http404
    return division


@staff_view(allow=_has_worklist)
@keep_until_data_changes
def worklist(request: HttpRequest) -> HttpResponse:
    """The worklist, most urgent first, with the counts per status over the whole list."""
    user = signed_in_user(request)
    today = timezone.localdate()
    as_of, as_of_error = _as_of(request, today)
    division = _division(user, request.GET.get("village", "").strip())
    status = request.GET.get("status", "")
    if status not in rules.Status.__members__.values():
        status = ""
    obligation = request.GET.get("obligation", "")
    if obligation not in rules.Obligation.__members__.values():
        obligation = ""
    lines = worklist_lines(user, as_of, village=division.code if division else None)
    if obligation:
        lines = [line for line in lines if line.obligation == obligation]
    counts = status_counts(lines)
    shown = [line for line in lines if line.status == status] if status else lines
    page = Paginator(shown, PAGE_SIZE).get_page(request.GET.get("page"))
    base = reverse("visits:worklist")
    back = f"{base}?{request.GET.urlencode()}" if request.GET else base
    own = user.role in OWN_WORKLIST_ROLES
    levels = VILLAGE_LEVELS if own else {*VILLAGE_LEVELS, Level.TOWN}
    family = user.role == Role.TOWN_SUPERVISOR or (
        division is not None and division.level == Level.TOWN
    )
    context = {
        "page": page,
        "rows": _rows(list(page), as_of, back, can_record=own and not user.is_read_only),
        "as_of": as_of,
        "as_of_text": request.GET.get("as_of", "") if as_of_error else as_of.isoformat(),
        "as_of_error": as_of_error,
        "is_today": as_of == today,
        "today": today,
        "status": status,
        "obligation": obligation,
        "obligation_choices": [
            (code, label)
            for code, label in OBLIGATION_LABELS.items()
            if (code == rules.Obligation.YEARLY_FAMILY_CONTACT) == family
        ],
        "division": division,
        "divisions": [d for d in filter_divisions(user) if d.level in levels],
        "needs_division": not own and division is None,
        "family": family,
        "total": len(lines),
        "all_url": f"{base}?{_query(request.GET, status='')}",
        "status_counts": [
            (
                code,
                STATUS_LABELS[code],
                counts[code],
                f"{base}?{_query(request.GET, status=code)}",
            )
            for code in STATUS_ORDER
        ],
        "status_choices": [(code, STATUS_LABELS[code]) for code in STATUS_ORDER],
        "base_url": base,
        "record_label": _("Record a contact"),
    }
    return render_page_or_fragment(
        request, "visits/worklist.html", "visits/worklist.html#results", context
    )


urlpatterns: list[URLPattern] = [path("worklist/", worklist, name="worklist")]


# --- home panels ------------------------------------------------------------------------------


def _today_lines(user: User) -> list[WorkLine]:
    """The user's lines today, computed once per request (the panels share them)."""
    today = timezone.localdate()
    cached = user.__dict__.get("_worklist_today")
    if cached is None or cached[0] != today:
        cached = (today, worklist_lines(user, today))
        user.__dict__["_worklist_today"] = cached
    lines: list[WorkLine] = cached[1]
    return lines


def _line_text(line: WorkLine) -> str:
    due = date_format(line.due, "DATE_FORMAT")
    if line.status is rules.Status.OVERDUE:
        text = _("%(name)s — overdue since %(due)s")
    else:
        text = _("%(name)s — due by %(due)s")
    return text % {"name": line.name, "due": due}


# Home panel → the obligation whose open lines it lists.
PANEL_OBLIGATIONS = {
    "contacts_due": rules.Obligation.MONTHLY_CONTACT,
    "visits_due": rules.Obligation.QUARTERLY_HOME_VISIT,
    "family_contacts_due": rules.Obligation.YEARLY_FAMILY_CONTACT,
}


def panel_lines(user: User, key: str) -> list[WorkLine]:
    """The lines a home panel counts: a worker's lines of one obligation not done yet
    (``contacts_due``, ``visits_due``, ``family_contacts_due``), or a town supervisor's
    children overdue by more than the policy's days (``escalations``)."""
    if key == "escalations":
        return escalations(user, timezone.localdate())
    obligation = PANEL_OBLIGATIONS[key]
    if user.role not in OWN_WORKLIST_ROLES:
        return []
    return [
        line
        for line in _today_lines(user)
        if line.obligation is obligation and line.status is not rules.Status.DONE
    ]


def home_panel(user: User, key: str, *, limit: int) -> tuple[list[object], int, str]:
    """A home panel: its first ``limit`` lines as links to the child's file, how many lines
    there are, and the worklist page that shows them ("" for the escalations, which are other
    workers' lines)."""
    lines = panel_lines(user, key)
    records = key in PANEL_OBLIGATIONS and not user.is_read_only and user.keeps_child_files
    home = reverse("home")
    items: list[object] = []
    for line in lines[:limit]:
        code = line.child if line.child is not None else line.children[0][0]
        record = _contact_url(code, home, line.obligation) if records else ""
        items.append(
            PanelLine(reverse("registry:child_detail", args=[code]), _line_text(line), record)
        )
    url = ""
    if key in PANEL_OBLIGATIONS:
        url = f"{reverse('visits:worklist')}?obligation={PANEL_OBLIGATIONS[key]}"
    return items, len(lines), url
