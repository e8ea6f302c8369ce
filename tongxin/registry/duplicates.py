"""Duplicate files (疑似重复档案).

Detection: two active files are candidates when they share the birth date and either the name
in pinyin (王小明 / 王晓明), or the town and a similar name (same pinyin initials, or at most one
character apart). The pairs are found by a self-join in the database (one query, two
equi-joins); only that small set is compared in Python. Two files that both carry an ID number
are never candidates: the numbers are unique, so the files are different children (twins).

A pair is stored once (the older file first) and keeps its decision: a pair marked distinct is not
proposed again. Merging keeps one file, moves everything linked to the other onto it, and closes
the other ("merged into <code>"), never deleting it.

Transfer requests, the way out for a user who finds the child already on a file elsewhere, are in
``transfers``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from simple_history.models import HistoricalChanges

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.audit.services import audit_object, audit_record
from tongxin.geo.scope import get_for_user_or_404, in_scope, scope_q
from tongxin.registry import services
from tongxin.registry.models import (
    CandidateStatus,
    CategorySpan,
    Child,
    ChildStatus,
    DuplicateCandidate,
    ManualDecision,
    MatchedField,
)

TOWN_PREFIX = 9  # the first 9 digits of a village code name its town
COUNTY_PREFIX = 6

# Who sees the review queue (inside their area), and who decides on it.
QUEUE_READER_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWN_SUPERVISOR, Role.AUDITOR})
DECIDER_ROLES = frozenset({Role.COUNTY_ADMIN})


def reads_queue(user: User) -> bool:
    return user.is_authenticated and user.role in QUEUE_READER_ROLES


def decides(user: User) -> bool:
    return user.is_authenticated and user.role in DECIDER_ROLES and not user.is_read_only


# --- the name test (pure) --------------------------------------------------------------------


def within_one_edit(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with at most one character replaced, added or removed."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def names_similar(name_a: str, name_b: str, initials_a: str, initials_b: str) -> bool:
    """Similar names: the same pinyin initials (王小明 / 汪晓敏: wxm), or at most one character
    apart (王小明 / 王小名, 王明 / 王小明)."""
    a, b = name_a.strip(), name_b.strip()
    if not a or not b:
        return False
    if initials_a and initials_a == initials_b and len(initials_a) >= 2:
        return True
    return within_one_edit(a, b)


@dataclass(frozen=True)
class _Row:
    id: int
    name: str
    pinyin: str
    initials: str
    village: str
    gender: str


def matched_fields(a: _Row, b: _Row) -> list[str]:
    """What the pair has in common (the birth date, by construction), or [] when it is no
    candidate: same pinyin, or similar name in the same town."""
    same_pinyin = bool(a.pinyin) and a.pinyin == b.pinyin
    same_town = a.village[:TOWN_PREFIX] == b.village[:TOWN_PREFIX]
    similar = not same_pinyin and names_similar(a.name, b.name, a.initials, b.initials)
    if not (same_pinyin or (same_town and similar)):
        return []
    found = {
        MatchedField.NAME: a.name.strip() == b.name.strip(),
        MatchedField.NAME_PINYIN: same_pinyin,
        MatchedField.NAME_SIMILAR: similar,
        MatchedField.BIRTH_DATE: True,
        MatchedField.GENDER: a.gender == b.gender,
        MatchedField.TOWN: same_town,
        MatchedField.VILLAGE: a.village == b.village,
    }
    return [str(f.value) for f in MatchedField if found[f]]


# --- detection -------------------------------------------------------------------------------

_PAIR_COLUMNS = (
    "a.id, a.name, a.name_pinyin, a.name_initials, a.village_id, a.gender, "
    "b.id, b.name, b.name_pinyin, b.name_initials, b.village_id, b.gender"
)


def _pairs_sql(table: str) -> str:
    """Both equi-joins in one statement: each side uses its own index or hash join, which an OR
    inside one join condition would not."""
    common = (
        "a.status = %s AND b.status = %s AND a.village_id LIKE %s AND b.village_id LIKE %s "
        "AND (a.id_number_hash IS NULL OR b.id_number_hash IS NULL)"
    )
    return (
        f"SELECT {_PAIR_COLUMNS} FROM {table} a JOIN {table} b "  # noqa: S608  (no user input)
        "ON b.birth_date = a.birth_date AND b.name_pinyin = a.name_pinyin AND b.id > a.id "
        f"WHERE a.name_pinyin <> '' AND {common} "
        "UNION "
        f"SELECT {_PAIR_COLUMNS} FROM {table} a JOIN {table} b "
        "ON b.birth_date = a.birth_date "
        f"AND SUBSTR(b.village_id, 1, {TOWN_PREFIX}) = SUBSTR(a.village_id, 1, {TOWN_PREFIX}) "
        f"AND b.id > a.id WHERE {common}"
    )


def candidate_pairs(
    prefix: str = "", children: Collection[int] | None = None
) -> dict[tuple[int, int], list[str]]:
    """Pairs of active files inside the division ``prefix`` that may be one child, with what
    they have in common: one query, then the name test on that small set. With ``children``,
    only the pairs one of those files is part of (the join stays one query over the division:
    faster than looking the files up a few hundred at a time)."""
    unnumbered = Child.objects.filter(
        status=ChildStatus.ACTIVE, id_number_hash__isnull=True, village__code__startswith=prefix
    )
    if not unnumbered.exists():
        return {}  # two files that both carry an ID number are never a pair
    table = connection.ops.quote_name(Child._meta.db_table)
    like = f"{prefix}%"
    active = ChildStatus.ACTIVE.value
    wanted = set(children) if children is not None else None
    params = [active, active, like, like] * 2
    found: dict[tuple[int, int], list[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(_pairs_sql(table), params)
        for row in cursor.fetchall():
            a, b = _Row(*row[:6]), _Row(*row[6:])
            if wanted is not None and a.id not in wanted and b.id not in wanted:
                continue
            if fields := matched_fields(a, b):
                found[(a.id, b.id)] = fields
    return found


@dataclass(frozen=True)
class Refreshed:
    open: int
    created: int
    updated: int
    removed: int


def _inside(prefix: str) -> Q:
    return Q(child_a__village__code__startswith=prefix, child_b__village__code__startswith=prefix)


def _stored_pairs(where: Q) -> dict[tuple[int, int], DuplicateCandidate]:
    return {
        (c.child_a_id, c.child_b_id): c
        for c in DuplicateCandidate.objects.filter(where).only(
            "id", "child_a_id", "child_b_id", "status", "matched_fields"
        )
    }


@transaction.atomic
def candidates_refresh(
    *,
    actor: User | None = None,
    prefix: str = "",
    children: Collection[int] | None = None,
    request: HttpRequest | None = None,
) -> Refreshed:
    """Bring the open candidates inside ``prefix`` up to date with the files: new pairs are
    queued, pairs that no longer match (a name corrected, a file closed, an ID number added)
    leave the queue, decided pairs stay decided. With ``children`` (the files a ledger import
    wrote), only the pairs inside ``prefix`` that those files are part of."""
    if actor is not None and not (decides(actor) and in_scope(actor, prefix.ljust(12, "0"))):
        raise PermissionDenied
    pairs = candidate_pairs(prefix, children)
    existing = _stored_pairs(_inside(prefix))
    if children is not None:
        wanted = set(children)
        existing = {key: c for key, c in existing.items() if wanted.intersection(key)}
    stale = [
        c.pk for key, c in existing.items() if c.status == CandidateStatus.OPEN and key not in pairs
    ]
    DuplicateCandidate.objects.filter(pk__in=stale).delete()
    changed = []
    for key, fields in pairs.items():
        c = existing.get(key)
        if c is not None and c.status == CandidateStatus.OPEN and c.matched_fields != fields:
            c.matched_fields = fields
            changed.append(c)
    DuplicateCandidate.objects.bulk_update(changed, ["matched_fields"])
    new_keys = [key for key in pairs if key not in existing]
    villages = dict(
        Child.objects.filter(pk__in=[a for a, _b in new_keys]).values_list("pk", "village_id")
    )
    DuplicateCandidate.objects.bulk_create(
        [
            DuplicateCandidate(
                child_a_id=a,
                child_b_id=b,
                matched_fields=pairs[(a, b)],
                county_code=villages[a][:COUNTY_PREFIX],
            )
            for a, b in new_keys
        ],
        ignore_conflicts=True,  # a concurrent run queued it first
    )
    result = Refreshed(
        open=DuplicateCandidate.objects.filter(
            _inside(prefix), status=CandidateStatus.OPEN
        ).count(),
        created=len(new_keys),
        updated=len(changed),
        removed=len(stale),
    )
    audit_record(
        actor=actor,
        action="duplicates.refresh",
        object_type="duplicate_candidate",
        division_code=prefix.ljust(12, "0") if prefix else "",
        request=request,
        detail={
            "open": result.open,
            "created": result.created,
            "removed": result.removed,
            **({"children": len(set(children))} if children is not None else {}),
        },
    )
    return result


# --- the queue (selectors) -------------------------------------------------------------------


def candidates_visible_to(user: User) -> QuerySet[DuplicateCandidate]:
    """Pairs whose two files both lie inside the user's area, for the roles that read the queue."""
    if not reads_queue(user):
        return DuplicateCandidate.objects.none()
    return DuplicateCandidate.objects.filter(
        scope_q(user, "child_a__village__code") & scope_q(user, "child_b__village__code")
    )


def candidate_list(user: User, status: str = CandidateStatus.OPEN) -> QuerySet[DuplicateCandidate]:
    """The queue as a page shows it: both files with their village and town, in one query."""
    queryset = candidates_visible_to(user).select_related(
        "child_a__village__parent", "child_b__village__parent", "decided_by"
    )
    if status in CandidateStatus.values:
        queryset = queryset.filter(status=status)
    return queryset


def get_candidate_for_user(user: User, public_id: Any) -> DuplicateCandidate:
    return get_for_user_or_404(
        candidate_list(user, status="").select_related("child_a__household", "child_b__household"),
        public_id=public_id,
    )


def open_candidate_count(user: User) -> int:
    return candidates_visible_to(user).filter(status=CandidateStatus.OPEN).count()


class PanelLink:
    """One line of a home-page panel that is a link: the page renders ``str(item)``, which is
    the escaped link as safe HTML."""

    def __init__(self, url: str, text: str) -> None:
        self.url, self.text = url, text

    def __html__(self) -> SafeString:
        return format_html('<a href="{}">{}</a>', self.url, self.text)

    def __str__(self) -> str:
        return self.__html__()


def home_panel_items(user: User, limit: int = 5) -> list[object]:
    """The county officer's home panel: the newest ``limit`` open pairs (the home page adds
    how many there are in all, ``open_candidate_count``, and the link to the queue)."""
    from django.urls import reverse

    if not reads_queue(user):
        return []
    return [
        PanelLink(
            reverse("registry:duplicate_detail", args=[c.public_id]),
            f"{c.child_a.name} / {c.child_b.name}",
        )
        for c in candidate_list(user)[:limit]
    ]


# --- decisions -------------------------------------------------------------------------------


def _check_decider(actor: User, candidate: DuplicateCandidate) -> None:
    if not decides(actor):
        raise PermissionDenied
    for child in (candidate.child_a, candidate.child_b):
        if not in_scope(actor, child.village_id):
            raise PermissionDenied


def _set_history_user(obj: Model, actor: User | None) -> None:
    obj._history_user = actor  # type: ignore[attr-defined]  # read by simple-history


def _open_for_decision(candidate: DuplicateCandidate) -> DuplicateCandidate:
    locked = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
    if locked.status != CandidateStatus.OPEN:
        raise ValidationError(_("This pair has already been decided."))
    return locked


def need_reason(reason: str) -> str:
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reason.")]})
    return reason.strip()[:500]


# Linked rows the merge treats itself; every other reverse relation to Child is moved as is,
# except a model that says its rows stay with the file they were computed for
# (``stays_on_merge = True``: a history derived from that file's own facts, such as its risk
# levels, would interleave with the kept file's; the kept file's is recomputed instead).
_MERGE_HANDLED: tuple[type[Model], ...] = (CategorySpan, ManualDecision, DuplicateCandidate)


def _links_to_child() -> Iterable[tuple[type[Model], str, bool]]:
    """(model, field name, one-to-one) of every foreign key to Child held by another model,
    including those of other apps, many-to-many through tables and hidden relations, but not
    history tables (a record of what was, it stays as it was)."""
    for rel in Child._meta.get_fields(include_hidden=True):
        if not rel.auto_created or rel.concrete or rel.many_to_many:
            continue
        model = rel.related_model
        if not isinstance(model, type) or issubclass(model, (*_MERGE_HANDLED, HistoricalChanges)):
            continue
        if getattr(model, "stays_on_merge", False):
            continue
        yield model, rel.field.name, bool(rel.one_to_one)  # type: ignore[union-attr]


def _move_links(other: Child, kept: Child) -> tuple[dict[str, int], dict[str, int]]:
    """Point everything linked to ``other`` at ``kept``. A row that cannot move (it would break
    a uniqueness rule of its table, e.g. both files hold the record for the same month) stays on
    the closed file, where it is still found; both counts go to the audit."""
    moved: dict[str, int] = defaultdict(int)
    left: dict[str, int] = defaultdict(int)
    for model, name, one_to_one in _links_to_child():
        label = model._meta.label_lower
        rows = model._base_manager.filter(**{name: other})
        if one_to_one:
            if rows.exists():
                if model._base_manager.filter(**{name: kept}).exists():
                    left[label] += 1
                else:
                    moved[label] += rows.update(**{name: kept})
            continue
        try:
            with transaction.atomic():
                count = rows.update(**{name: kept})
            if count:
                moved[label] += count
        except IntegrityError:
            for pk in list(rows.values_list("pk", flat=True)):
                try:
                    with transaction.atomic():
                        moved[label] += model._base_manager.filter(pk=pk).update(**{name: kept})
                except IntegrityError:
                    left[label] += 1
    return dict(moved), dict(left)


def _move_manual_decisions(other: Child, kept: Child) -> int:
    """The other file's decisions move over; where both files hold a standing decision on the
    same category, the latest stands and the older is withdrawn."""
    count = ManualDecision.objects.filter(child=other).update(child=kept)
    standing: dict[str, list[ManualDecision]] = defaultdict(list)
    for d in ManualDecision.objects.filter(child=kept, withdrawn_at__isnull=True).order_by(
        "-decided_at", "-id"
    ):
        standing[d.code].append(d)
    superseded = [d.pk for ds in standing.values() for d in ds[1:]]
    ManualDecision.objects.filter(pk__in=superseded).update(withdrawn_at=timezone.now())
    return count


@transaction.atomic
def candidate_merge(
    *,
    actor: User,
    candidate: DuplicateCandidate,
    keep: Child,
    reason: str,
    request: HttpRequest | None = None,
) -> Child:
    """One child, two files: keep ``keep`` and fold the other into it. Everything linked to the
    other file moves over (manual decisions, transfer requests, and the records of other apps);
    its ID number too when the kept file has none. The other file is closed as "merged into
    <code>", never deleted, so its history and the links left on it survive. The kept file's
    history starts at the earlier registration and its categories are recomputed; the closed
    file keeps no category spans, so reports never count the child twice."""
    _check_decider(actor, candidate)
    reason = need_reason(reason)
    candidate = _open_for_decision(candidate)
    if keep.pk not in (candidate.child_a_id, candidate.child_b_id):
        raise ValidationError({"keep": [_("Choose one of the two files.")]})
    other_pk = candidate.child_b_id if keep.pk == candidate.child_a_id else candidate.child_a_id
    locked = {
        c.pk: c
        for c in Child.objects.select_for_update(of=("self",))
        .select_related("household", "village")
        .filter(pk__in=[keep.pk, other_pk])
    }
    kept, other = locked[keep.pk], locked[other_pk]
    if ChildStatus.CLOSED in (kept.status, other.status):
        raise ValidationError(_("One of the files is closed already."))
    if kept.id_number_hash and other.id_number_hash and kept.id_number_hash != other.id_number_hash:
        raise ValidationError(
            _("The two files carry different ID numbers: they are two children, not one.")
        )
    moved, left = _move_links(other, kept)
    decisions = _move_manual_decisions(other, kept)
    today = timezone.localdate()

    kept_fields: list[str] = []
    id_moved = bool(other.id_number_hash and not kept.id_number_hash)
    number = (other.id_number_enc, other.id_number_hash)
    other.status = ChildStatus.CLOSED
    other.status_reason = _("Merged into %(code)s") % {"code": kept.public_id}
    other.status_since = today
    other.version += 1
    other_fields = ["status", "status_reason", "status_since", "version", "updated_at"]
    if id_moved:
        other.id_number_enc, other.id_number_hash = None, None
        other_fields += ["id_number_enc", "id_number_hash"]
    _set_history_user(other, actor)
    other.save(update_fields=other_fields)  # first: the number is unique
    if id_moved:
        kept.id_number_enc, kept.id_number_hash = number
        kept.id_missing_reason = ""
        kept_fields += ["id_number_enc", "id_number_hash", "id_missing_reason"]
    if other.registered_on < kept.registered_on:
        kept.registered_on = other.registered_on
        kept_fields.append("registered_on")
    kept.version += 1
    _set_history_user(kept, actor)
    kept.save(update_fields=[*kept_fields, "version", "updated_at"])

    CategorySpan.objects.filter(child=other).delete()
    services.child_reclassify(kept, as_of=today)

    candidate.status = CandidateStatus.MERGED
    candidate.decided_by, candidate.decided_at, candidate.reason = actor, timezone.now(), reason
    candidate.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    # Undecided pairs with the closed file are void; the next refresh pairs the kept file.
    DuplicateCandidate.objects.filter(
        Q(child_a=other) | Q(child_b=other), status=CandidateStatus.OPEN
    ).delete()
    detail = {
        "kept": str(kept.public_id),
        "closed": str(other.public_id),
        "candidate": str(candidate.public_id),
        "moved": moved,
        "left": left,
        "manual_decisions": decisions,
        "id_number_moved": id_moved,
        "fields": sorted(kept_fields),
    }
    # One entry on each file, each naming the other.
    for child, pair in ((kept, other), (other, kept)):
        detail_pair = {"other": str(pair.public_id), **detail}
        audit_object(actor, "child.merge", child, request=request, detail=detail_pair)
    return kept


@transaction.atomic
def candidate_mark_distinct(
    *,
    actor: User,
    candidate: DuplicateCandidate,
    reason: str,
    request: HttpRequest | None = None,
) -> DuplicateCandidate:
    """Two children after all (twins, namesakes): the pair leaves the queue for good."""
    _check_decider(actor, candidate)
    reason = need_reason(reason)
    locked = _open_for_decision(candidate)
    locked.status = CandidateStatus.DISTINCT
    locked.decided_by, locked.decided_at, locked.reason = actor, timezone.now(), reason
    locked.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    # One entry on each file, each naming the other.
    a, b = candidate.child_a, candidate.child_b
    for child, pair in ((a, b), (b, a)):
        detail = {"other": str(pair.public_id), "candidate": str(locked.public_id)}
        audit_object(actor, "child.mark_distinct", child, request=request, detail=detail)
    return locked
