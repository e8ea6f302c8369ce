"""Retention (PIPL: keep personal information no longer than needed; decision 019).

A file is *closed* when the child's status is anything but active (transferred out, aged out,
deceased, closed): ``status_since`` is the day it closed. A file closed for
``TONGXIN_RETENTION_YEARS`` years (default 5) is archived: its personal values are removed,
from the live rows and from their history rows, and what the county's statistics need stays
(village and so town, gender, year of birth, categories, status and its day, schooling,
health, registration day). A household is archived once every child of it is; until then its
family's details still serve a sibling's open file. Scanned agreements are deleted.

Nothing is encrypted under an archive key instead: a key the county holds to read the values
again would keep them, which is what retention must not do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import TruncYear

from tongxin.audit.database import history_rewrite, history_tables
from tongxin.audit.services import audit_record
from tongxin.registry.models import CareAgreement, Child, ChildStatus, Household, Migration, Parent
from tongxin.registry.signals import households_archived

# The values each archived row loses, and what they become. Dates of birth keep their year.
CHILD_BLANKS: dict[str, Any] = {
    "name": "",
    "name_pinyin": "",
    "name_initials": "",
    "id_number_enc": None,
    "id_number_hash": None,
    "phone": "",
    "hukou_place": "",
    "school": "",
    "grade": "",
    "disability_type": "",
    "disability_certificate": "",
    "disability_certificate_expiry": None,
    "illness": "",
    "status_reason": "",
    "guardianship_assessment": "",
}
HOUSEHOLD_BLANKS: dict[str, Any] = {
    "address": "",
    "phone": "",
    "income_source": "",
    "caregiver_name": "",
    "caregiver_relation": "",
    "caregiver_health": "",
    "caregiver_phone": "",
    "caregiver_id_enc": None,
    "caregiver_id_hash": "",
    "caregiver_address": "",
    "grandparents": "",
}
PARENT_BLANKS: dict[str, Any] = {
    "name": "",
    "birth_date": None,
    "id_number_enc": None,
    "id_number_hash": "",
    "phone": "",
    "capacity_note": "",
}
MIGRATION_BLANKS: dict[str, Any] = {"work_place": "", "phone": ""}
AGREEMENT_BLANKS: dict[str, Any] = {
    "caregiver_name": "",
    "caregiver_phone": "",
    "caregiver_id_enc": None,
    "caregiver_address": "",
    "document": "",
}


def retention_years() -> int:
    return int(getattr(settings, "TONGXIN_RETENTION_YEARS", 5))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@dataclass
class RetentionPlan:
    """What a run would archive: the files (by public code, never a name) and the rows."""

    closed_before: date
    children: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    child_ids: list[int] = field(default_factory=list)
    household_ids: list[int] = field(default_factory=list)


def _due(closed_before: date) -> models.QuerySet[Child]:
    return Child.objects.filter(archived_on__isnull=True, status_since__lt=closed_before).exclude(
        status=ChildStatus.ACTIVE
    )


def retention_plan(*, today: date, years: int | None = None) -> RetentionPlan:
    """The files closed before ``today`` minus ``years`` and not archived yet."""
    closed_before = _years_before(today, retention_years() if years is None else years)
    due = _due(closed_before)
    plan = RetentionPlan(closed_before=closed_before)
    plan.child_ids = list(due.order_by("pk").values_list("pk", flat=True))
    plan.children = [str(c) for c in due.order_by("pk").values_list("public_id", flat=True)]
    # A household is archived when none of its children stays unarchived after this run.
    still_open = Child.objects.filter(household=OuterRef("pk"), archived_on__isnull=True).exclude(
        pk__in=plan.child_ids
    )
    plan.household_ids = list(
        Household.objects.filter(children__pk__in=plan.child_ids)
        .exclude(Exists(still_open))
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    h = plan.household_ids
    plan.counts = {
        "children": len(plan.child_ids),
        "households": len(h),
        "parents": Parent.objects.filter(household__in=h).count(),
        "migrations": Migration.objects.filter(parent__household__in=h).count(),
        "agreements": CareAgreement.objects.filter(household__in=h).count(),
    }
    return plan


def _blank_dates(model: type[models.Model], **lookup: Any) -> None:
    """Birth dates keep their year only (1 January): ages for statistics, no birthday."""
    model._default_manager.filter(**lookup).update(birth_date=TruncYear("birth_date"))


def _scrub(model: type[models.Model], blanks: dict[str, Any], **lookup: Any) -> tuple[int, int]:
    """Blank ``blanks`` on the rows of ``model`` that ``lookup`` selects and on their history."""
    live = model._default_manager.filter(**lookup)
    ids = list(live.values_list("pk", flat=True))
    changed = live.update(**blanks)
    history: Any = getattr(model, "history", None)
    if history is None:
        return changed, 0
    kept = {f.name for f in history.model._meta.fields}
    historical = history.model.objects.filter(id__in=ids).update(
        **{k: v for k, v in blanks.items() if k in kept}
    )
    return changed, historical


def _history_tables_of(*models_: type[models.Model]) -> list[str]:
    tables = {m.history.model._meta.db_table for m in models_}  # type: ignore[attr-defined]
    return sorted(t for t in history_tables() if t in tables)


@transaction.atomic
def retention_apply(*, today: date, years: int | None = None) -> RetentionPlan:
    """Archive what ``retention_plan`` finds, in one transaction with one audit entry (the
    counts and the cut-off day, no file named). On PostgreSQL run as the tables' owner: only
    the owner can lift the history's append-only triggers (``history_rewrite``)."""
    plan = retention_plan(today=today, years=years)
    if not plan.child_ids:
        return plan
    h = plan.household_ids
    documents = [
        name
        for name in CareAgreement.objects.filter(household__in=h).values_list("document", flat=True)
        if name
    ]
    lifted = _history_tables_of(Child, Household, Parent, Migration, CareAgreement)
    with history_rewrite(connection, lifted):
        _scrub(Child, CHILD_BLANKS, pk__in=plan.child_ids)
        _blank_dates(Child, pk__in=plan.child_ids)
        _blank_dates(Child.history.model, id__in=plan.child_ids)
        Child.objects.filter(pk__in=plan.child_ids).update(archived_on=today)
        _scrub(Household, HOUSEHOLD_BLANKS, pk__in=h)
        _scrub(Parent, PARENT_BLANKS, household__in=h)
        _scrub(Migration, MIGRATION_BLANKS, parent__household__in=h)
        _scrub(CareAgreement, AGREEMENT_BLANKS, household__in=h)
        households_archived.send(sender=Household, households=h)
    audit_record(
        actor=None,
        action="child.archive",
        object_type="child",
        detail={**plan.counts, "closed_before": plan.closed_before.isoformat()},
    )
    transaction.on_commit(lambda: _delete_documents(documents))
    return plan


def _delete_documents(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        default_storage.delete(name)
