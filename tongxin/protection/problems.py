"""Problems found (问题和解决方案): the owner's work on them, writes and reads.

A problem has a category, a severity, an owner (a person who keeps the file, or a department),
a due date and a status (open → in progress → resolved / not resolvable, with the solution or
the reason; reopened with a reason), and a timeline of actions. Closing or reopening it, or
changing its severity, refreshes the child's risk level. Changes name the version they were
based on: a stale one is refused with what changed meanwhile.

Every write is one transaction with its audit entry; every read of a problem is audited. Texts
(descriptions, actions, reasons, outcomes) never go to a log, an audit entry or a notification:
those carry codes, statuses and counts only.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from tongxin.accounts.models import Organisation, OrganisationKind, User
from tongxin.accounts.roles import CHILD_FILE_WRITER_ROLES, Role
from tongxin.audit.services import audit_denied, audit_object, audit_record
from tongxin.core.versions import FieldChange, StaleEdit, record_changes
from tongxin.notices import services as notifications
from tongxin.protection import access, rules
from tongxin.protection.models import ActionKind, Concern, ConcernAction
from tongxin.protection.rules import OPEN_STATUSES, ConcernCategory, ConcernStatus, Severity
from tongxin.protection.selectors import PanelLine
from tongxin.protection.services.common import in_chinese, list_opened
from tongxin.protection.services.problems import save_raised
from tongxin.protection.signals import problems_changed
from tongxin.registry.models import Child

PROBLEM_FIELDS = frozenset(
    {"category", "severity", "description", "solution", "owner", "owner_department", "due_on"}
)
PROBLEM_OBJECT = "concern"


class Conflict(Exception):
    """Not possible in the record's present state (the API answers 409)."""


# --- helpers ---------------------------------------------------------------------------------


def _county(village_code: str) -> str:
    return f"{village_code[:6]}000000"


def owner_choices(child: Child) -> QuerySet[User]:
    """The people who may own a problem of ``child``: active users who keep files in an area
    that holds the child's village (its director, the town's supervisor, the county)."""
    village = child.village_id
    return User.objects.filter(
        is_active=True,
        role__in=CHILD_FILE_WRITER_ROLES,
        division_id__in=[village, f"{village[:9]}000", _county(village)],
    ).order_by("role", "name", "username")


def department_choices(county_code: str, keys: Any = None) -> QuerySet[Organisation]:
    """The county's departments (optionally those with one of ``keys``)."""
    departments = Organisation.objects.filter(
        kind=OrganisationKind.DEPARTMENT, division_id=f"{county_code[:6]}000000"
    )
    if keys is not None:
        departments = departments.filter(department__in=list(keys))
    return departments.order_by("name")


def _check_owner(
    child: Child, owner: User | None, owner_department: Organisation | None
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if owner is not None and owner_department is not None:
        errors["owner"] = [_("Choose a person or a department as the owner, not both.")]
    elif owner is not None and not owner_choices(child).filter(pk=owner.pk).exists():
        errors["owner"] = [_("The owner must be someone who keeps this child's file.")]
    elif (
        owner_department is not None
        and not department_choices(child.village_id).filter(pk=owner_department.pk).exists()
    ):
        errors["owner_department"] = [_("Choose a department of this county.")]
    return errors


def _check_problem_fields(fields: dict[str, Any], child: Child, *, new: bool) -> None:
    """``fields``: all of a new problem's, or only those a change changes."""
    if unknown := set(fields) - PROBLEM_FIELDS:
        raise ValueError(f"not problem fields: {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    due_on = fields.get("due_on")
    if due_on is not None and due_on < timezone.localdate():
        errors["due_on"] = [_("The due date cannot be in the past.")]
    if (new or "category" in fields) and fields.get("category") not in ConcernCategory.values:
        errors["category"] = [_("Choose the kind of problem.")]
    if "severity" in fields and fields["severity"] not in Severity.values:
        errors["severity"] = [_("Choose how serious it is.")]
    if (new or "description" in fields) and not str(fields.get("description", "")).strip():
        errors["description"] = [_("Describe the problem found.")]
    for name, limit in (("description", 2000), ("solution", 2000)):
        if len(str(fields.get(name, ""))) > limit:
            errors[name] = [_("At most %(n)d characters.") % {"n": limit}]
    errors.update(_check_owner(child, fields.get("owner"), fields.get("owner_department")))
    if errors:
        raise ValidationError(errors)


def _notify_owner(concern: Concern) -> None:
    """Tell a problem's new owner (a person, or a department's officers): codes only."""
    recipients: list[User] = []
    if concern.owner is not None:
        recipients.append(concern.owner)
    elif concern.owner_department_id is not None:
        recipients.extend(
            User.objects.filter(
                is_active=True,
                role=Role.DEPARTMENT_OFFICER,
                organisation_id=concern.owner_department_id,
            ).order_by("pk")
        )
    title = in_chinese(
        lambda: (
            _("A problem found is now yours: %(category)s, %(area)s")
            % {"category": concern.get_category_display(), "area": concern.child.village.name}
        )
    )
    url = reverse("reports:problem_detail", args=[concern.public_id])
    for user in recipients:
        notifications.notify(
            recipient=user,
            kind="problem_assigned",
            title=title,
            url=url,
            key=f"problem:{concern.public_id}:owner:{concern.version}",
        )


# --- problems: writes ------------------------------------------------------------------------


@transaction.atomic
def problem_raise(
    *, actor: User, child: Child, fields: dict[str, Any], request: HttpRequest | None = None
) -> Concern:
    """Record a problem found on the child's file (outside a contact's checklist)."""
    if not access.raises_problems(actor, child.village_id):
        raise PermissionDenied
    _check_problem_fields(fields, child, new=True)
    concern = Concern(
        child=child,
        created_by=actor,
        **{
            **fields,
            "description": str(fields["description"]).strip(),
            "solution": str(fields.get("solution", "")).strip(),
        },
    )
    concern.full_clean(exclude=["contact", "created_by", "report", "child"])
    save_raised(concern, actor, request)
    if concern.owner_id or concern.owner_department_id:
        _notify_owner(concern)
    problems_changed.send(sender=Concern, children=(child,))
    return concern


def _locked(concern: Concern, version: int) -> Concern:
    locked = (
        Concern.objects.select_for_update(of=("self",))
        .select_related("child__village", "owner", "owner_department")
        .get(pk=concern.pk)
    )
    if locked.version != version:
        raise StaleEdit(locked.version, problem_changes(locked, version))
    return locked


def problem_changes(concern: Concern, since_version: int) -> list[FieldChange]:
    """What changed on the problem after ``since_version`` (for a stale edit's answer)."""
    if since_version < 1 or since_version >= concern.version:
        return []
    records = list(concern.history.order_by("history_date", "history_id"))
    label = str(Concern._meta.verbose_name)
    return record_changes(Concern, records, label, since_version)


@transaction.atomic
def problem_update(
    *,
    actor: User,
    concern: Concern,
    version: int,
    changes: dict[str, Any] | None = None,
    status: str | None = None,
    text: str = "",
    request: HttpRequest | None = None,
) -> Concern:
    """Change a problem based on ``version``: its fields (owner, due date, category, severity,
    description, solution: those who keep the file), and/or its status with the solution or
    the reason (they, or its owner). A stale version → StaleEdit; a move the workflow does not
    allow, or any status change of a problem a mandatory report holds open → Conflict."""
    changes = dict(changes or {})
    view = access.problem_view(actor, concern)
    if not view.visible:
        raise Http404
    if (changes and not view.assigns) or (status is not None and not view.acts):
        raise PermissionDenied
    locked = _locked(concern, version)
    before_status = rules.ProblemStatus(locked.status)
    after_status = before_status
    if status is not None and status != locked.status:
        try:
            after_status = rules.ProblemStatus(status)
        except ValueError as exc:
            raise ValidationError({"status": [_("Choose the status from the list.")]}) from exc
        if locked.report_id is not None:
            raise Conflict(
                _("This problem follows its mandatory report: it is closed when the report ends.")
            )
        if not rules.problem_move_allowed(before_status, after_status):
            raise Conflict(
                _("A problem cannot go from “%(before)s” to “%(after)s”.")
                % {
                    "before": locked.get_status_display(),
                    "after": ConcernStatus(after_status).label,
                }
            )
        if rules.problem_move_needs_text(before_status, after_status) and not text.strip():
            message = (
                _("Say why it is reopened.")
                if before_status in rules.PROBLEM_CLOSED
                else _("Give the solution, or the reason it cannot be resolved.")
            )
            raise ValidationError({"text": [message]})
    if "owner" in changes or "owner_department" in changes:
        # A new owner replaces the old one, whichever kind it was.
        changes.setdefault("owner", None)
        changes.setdefault("owner_department", None)
    if unknown := set(changes) - PROBLEM_FIELDS:
        raise ValueError(f"not problem fields: {sorted(unknown)}")
    changed = [k for k, v in changes.items() if getattr(locked, k) != v]
    checked = {k: changes[k] for k in changed}
    if {"owner", "owner_department"} & set(changed):
        checked.update(owner=changes["owner"], owner_department=changes["owner_department"])
    _check_problem_fields(checked, locked.child, new=False)
    moved = after_status != before_status
    if not changed and not moved:
        return locked
    now = timezone.now()
    for key in changed:
        value = changes[key]
        setattr(locked, key, value.strip() if isinstance(value, str) else value)
    if moved:
        locked.status = after_status
        if after_status in rules.PROBLEM_CLOSED:
            locked.outcome = text.strip()
            locked.closed_on = timezone.localdate(now)
        else:
            locked.closed_on = None
    locked.version = version + 1
    locked._history_user = actor  # type: ignore[attr-defined]
    locked.save()
    if moved:
        ConcernAction.objects.create(
            concern=locked,
            at=now,
            actor=actor,
            kind=ActionKind.STATUS,
            text=text.strip(),
            from_status=before_status,
            to_status=after_status,
        )
    reassigned = {"owner", "owner_department"} & set(changed)
    if reassigned or "due_on" in changed:
        due_on = locked.due_on
        ConcernAction.objects.create(
            concern=locked,
            at=now,
            actor=actor,
            kind=ActionKind.ASSIGN,
            owner=locked.owner,
            owner_department=locked.owner_department,
            text=(
                in_chinese(lambda: _("Due on %(day)s") % {"day": date_format(due_on)})
                if due_on
                else ""
            ),
        )
    detail: dict[str, Any] = {"fields": sorted(changed), "version": locked.version}
    if moved:
        detail.update({"from": before_status.value, "to": after_status.value})
    audit_object(
        actor,
        "concern.update",
        locked,
        request=request,
        detail={"child": str(locked.child.public_id), **detail},
    )
    if reassigned and (locked.owner_id or locked.owner_department_id):
        _notify_owner(locked)
    if moved or "severity" in changed or "category" in changed:
        problems_changed.send(sender=Concern, children=(locked.child,))
    return locked


@transaction.atomic
def problem_action_add(
    *, actor: User, concern: Concern, text: str, request: HttpRequest | None = None
) -> ConcernAction:
    """Record what was done about the problem (an entry of its timeline; the problem itself
    does not change, so no version is needed)."""
    if not access.problem_view(actor, concern).acts:
        raise PermissionDenied
    if not text.strip():
        raise ValidationError({"text": [_("Say what was done.")]})
    if len(text) > 2000:
        raise ValidationError({"text": [_("At most %(n)d characters.") % {"n": 2000}]})
    action = ConcernAction.objects.create(
        concern=concern, actor=actor, kind=ActionKind.ACTION, text=text.strip()
    )
    audit_object(
        actor,
        "concern.action",
        concern,
        request=request,
        detail={"child": str(concern.child.public_id)},
    )
    return action


# --- problems: reads -------------------------------------------------------------------------


def problems_for(user: User) -> QuerySet[Concern]:
    return Concern.objects.filter(access.problems_q(user)).select_related(
        "child__village", "owner", "owner_department"
    )


def get_problem_for_user(user: User, code: Any) -> tuple[Concern, access.ProblemView]:
    """One problem and what the user may do with it, or 404 alike for "not there" and "not
    yours"."""
    try:
        concern = problems_for(user).get(public_id=uuid.UUID(str(code)))
    except (Concern.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    view = access.problem_view(user, concern)
    if not view.visible:
        raise Http404
    return concern, view


def _open_first(problems: QuerySet[Concern]) -> QuerySet[Concern]:
    return problems.order_by(
        Case(
            When(status__in=OPEN_STATUSES, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        F("due_on").asc(nulls_last=True),
        "-created_at",
        "pk",
    )


def child_problems(child: Child) -> QuerySet[Concern]:
    """The child's problems, open ones first (the nearest due first), then the closed."""
    return _open_first(
        Concern.objects.filter(child=child).select_related("owner", "owner_department")
    )


def overdue_q(today: date | None = None) -> Q:
    return Q(status__in=OPEN_STATUSES, due_on__lt=today or timezone.localdate())


def my_problems(user: User) -> QuerySet[Concern]:
    """The problems the user owns, in person or through their department."""
    q = Q(owner=user)
    if user.role == Role.DEPARTMENT_OFFICER and user.organisation_id is not None:
        q |= Q(owner_department_id=user.organisation_id)
    return _open_first(
        Concern.objects.filter(q).select_related("child__village", "owner", "owner_department")
    )


def problem_timeline(concern: Concern) -> list[ConcernAction]:
    return list(
        ConcernAction.objects.filter(concern=concern).select_related("actor", "owner_department")
    )


def problem_opened(*, actor: User, concern: Concern, request: HttpRequest | None = None) -> None:
    audit_object(
        actor,
        "concern.view",
        concern,
        request=request,
        detail={"child": str(concern.child.public_id)},
    )


def problem_list_opened(
    *, actor: User, count: int, child: Child | None = None, request: HttpRequest | None = None
) -> None:
    """The problems of one child (filed under the child), or the actor's list of problems."""
    if child is None:
        list_opened(
            actor=actor,
            action="concern.list",
            object_type=PROBLEM_OBJECT,
            count=count,
            request=request,
        )
        return
    audit_record(
        actor=actor,
        action="concern.list",
        object_type="child",
        object_code=str(child.public_id),
        division_code=child.village_id,
        request=request,
        detail={"count": count},
    )


def problem_access_denied(*, actor: User, code: str, request: HttpRequest | None = None) -> None:
    audit_denied(
        actor=actor, action="concern.view", object_type=PROBLEM_OBJECT, code=code, request=request
    )


def _problem_line(concern: Concern, today: date, *, with_owner: bool = False) -> PanelLine:
    overdue = concern.is_overdue(today)
    text = f"{concern.child.name} — {concern.get_category_display()}"
    if concern.due_on:
        text += " · " + _("due by %(due)s") % {"due": date_format(concern.due_on, "DATE_FORMAT")}
    if overdue:
        text += " · " + _("overdue")
    if with_owner and (concern.owner or concern.owner_department):
        text += f" · {concern.owner or concern.owner_department}"
    url = reverse("reports:problem_detail", args=[concern.public_id])
    return PanelLine(text, url, "field-error" if overdue else "")


def my_problems_panel(user: User, limit: int = 10) -> tuple[list[PanelLine], int]:
    """The owner's open problems, the overdue first: a home panel."""
    today = timezone.localdate()
    open_ = my_problems(user).filter(status__in=OPEN_STATUSES)
    return [_problem_line(c, today) for c in open_[:limit]], open_.count()


def overdue_problems_panel(user: User, limit: int = 10) -> tuple[list[PanelLine], int]:
    """Overdue problems in the supervisor's area (a town supervisor's villages, the county),
    with their owners: a home panel."""
    if not user.reads_child_files:
        return [], 0
    today = timezone.localdate()
    overdue = (
        Concern.objects.visible_to(user)
        .filter(overdue_q(today))
        .select_related("child__village", "owner", "owner_department")
        .order_by("due_on", "pk")
    )
    return [_problem_line(c, today, with_owner=True) for c in overdue[:limit]], overdue.count()
