"""Reads of the child's file: scoped fetches, the facts the rules take, the change history."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongxin.accounts.models import User
from tongxin.core.versions import FieldChange, record_changes
from tongxin.geo.models import Division, Level
from tongxin.geo.scope import get_for_user_or_404, scope_prefix
from tongxin.lib import crypto, idcard, plausible
from tongxin.lib.idcard import mask
from tongxin.lib.params import QueryParams, ascii_int
from tongxin.lib.pinyin import name_keys
from tongxin.registry import rules
from tongxin.registry.models import (
    CategoryCode,
    CategorySpan,
    Child,
    ChildStatus,
    Enrolment,
    Household,
    Migration,
    Parent,
    ParentRole,
)

_FILE_PREFETCH = (
    Prefetch("household__parents", queryset=Parent.objects.prefetch_related("migrations")),
)


def get_child_for_user(user: User, public_id: Any) -> Child:
    """One child's file, or 404 alike for "not there" and "not yours"."""
    queryset = Child.objects.visible_to(user).select_related("household", "village")
    return get_for_user_or_404(queryset.prefetch_related(*_FILE_PREFETCH), public_id=public_id)


def get_household_for_user(user: User, public_id: Any) -> Household:
    return get_for_user_or_404(
        Household.objects.visible_to(user).select_related("village"), public_id=public_id
    )


# --- facts for the rules -------------------------------------------------------------------

_ABSENT_PARENT = rules.ParentFacts(rules.ParentStatus.UNKNOWN, rules.Capacity.FULL)


def spell_facts(m: Migration) -> rules.MigrationSpell:
    return rules.MigrationSpell(
        left_on=m.left_on,
        returned_on=m.returned_on,
        destination=rules.Destination(m.destination),
        known_since=m.known_since,
    )


def parent_facts(parent: Parent | None, spells: list[Migration]) -> rules.ParentFacts:
    """A parent nobody recorded counts as status unknown (e.g. father unknown)."""
    if parent is None:
        return _ABSENT_PARENT
    return rules.ParentFacts(
        status=rules.ParentStatus(parent.status),
        capacity=rules.Capacity(parent.capacity),
        migrations=tuple(spell_facts(m) for m in spells),
    )


def child_facts(
    child: Child,
    household: Household,
    parents: dict[str, Parent],
    spells: dict[int, list[Migration]],
    village_level: str,
) -> rules.ChildFacts:
    father, mother = parents.get(ParentRole.FATHER), parents.get(ParentRole.MOTHER)
    return rules.ChildFacts(
        birth_date=child.birth_date,
        lives_in=rules.Residence.VILLAGE
        if village_level == Level.VILLAGE
        else rules.Residence.COMMUNITY,
        # .id, not .pk: for a history record (facts_timeline) the pk is its history_id.
        father=parent_facts(father, spells.get(father.id, []) if father else []),
        mother=parent_facts(mother, spells.get(mother.id, []) if mother else []),
        parents_divorced=household.parents_divorced,
        dibao=household.dibao,
        tekun=household.tekun,
        disability_grade=child.disability_grade,
        serious_illness=child.serious_illness,
    )


def current_facts(child: Child) -> rules.ChildFacts:
    """The facts as recorded now (3 queries; fewer when the file was fetched with its parents)."""
    household = child.household
    parents = {p.role: p for p in household.parents.all()}
    spells = {p.pk: list(p.migrations.all()) for p in parents.values()}
    return child_facts(child, household, parents, spells, child.village.level)


def facts_timeline(child: Child) -> list[tuple[date, rules.ChildFacts]]:
    """The child's facts as recorded over time: one version per day on which the child, the
    household or a parent was changed, read from their history. Facts entered at registration
    count from the registration date; later changes from the day they were recorded. Migration
    spells carry their own dates, so each version holds the spells as they are known now."""
    household = child.household
    village_level = child.village.level
    parents_now = list(household.parents.all())
    spells = {p.pk: list(p.migrations.all()) for p in parents_now}
    child_hist = list(child.history.order_by("history_date", "history_id"))
    household_hist = list(household.history.order_by("history_date", "history_id"))
    parent_hist = list(
        Parent.history.filter(household_id=household.pk).order_by("history_date", "history_id")
    )
    days = sorted(
        {timezone.localdate(h.history_date) for h in [*child_hist, *household_hist, *parent_hist]}
    )
    if not days:
        return [(child.registered_on, current_facts(child))]
    versions: list[tuple[date, rules.ChildFacts]] = []
    for day in days:
        c = _as_of(child_hist, day)
        h = _as_of(household_hist, day)
        if c is None or h is None:
            continue
        by_parent: dict[int, Any] = {}
        for record in parent_hist:
            if timezone.localdate(record.history_date) <= day:
                by_parent[record.id] = record
        parents = {r.role: r for r in by_parent.values() if r.history_type != "-"}
        facts = child_facts(c, h, parents, spells, village_level)
        since = day if versions else min(child.registered_on, day)
        if versions and versions[-1][1] == facts:
            continue
        versions.append((since, facts))
    return versions


def _as_of(records: list[Any], day: date) -> Any:
    found = None
    for r in records:
        if timezone.localdate(r.history_date) > day:
            break
        found = r
    if found is not None and found.history_type == "-":
        return None
    return found


# --- the change history, as people read it ---------------------------------------------------


def child_changes(child: Child, since_version: int | None = None) -> list[FieldChange]:
    records = list(child.history.order_by("history_date", "history_id"))
    return record_changes(Child, records, str(Child._meta.verbose_name), since_version)


def household_changes(household: Household, since_version: int | None = None) -> list[FieldChange]:
    records = list(household.history.order_by("history_date", "history_id"))
    changes = record_changes(Household, records, str(Household._meta.verbose_name), since_version)
    if since_version is None:
        by_parent: dict[int, list[Any]] = defaultdict(list)
        for r in Parent.history.filter(household_id=household.pk).order_by("history_date"):
            by_parent[r.id].append(r)
        for records_ in by_parent.values():
            label = str(ParentRole(records_[-1].role).label)
            changes += record_changes(Parent, records_, label)
        changes.sort(key=lambda ch: ch.at, reverse=True)
    return changes


def masked_id(enc: bytes | memoryview | None) -> str:
    """The masked form of a stored ID number (decrypts in memory only)."""
    if not enc:
        return ""
    from tongxin.lib.crypto import decrypt

    return mask(decrypt(enc))


# --- lists -----------------------------------------------------------------------------------

# What the category filter accepts: the two umbrella flags, then each computed category.
UMBRELLA_CATEGORIES = ("left_behind", "in_difficulty")
# The division levels a list can be narrowed to, by the length of the user's scope prefix:
# the one or two levels below the user's own division.
_FILTER_LEVELS: dict[int, tuple[str, ...]] = {
    2: (Level.CITY, Level.COUNTY),
    4: (Level.COUNTY, Level.TOWN),
    6: (Level.TOWN, Level.VILLAGE, Level.COMMUNITY),
    9: (Level.VILLAGE, Level.COMMUNITY),
}


# The names of the filters, as the list page labels them (the errors name them so).
_AGE_FROM = gettext_lazy("Age from")
_AGE_TO = gettext_lazy("Age to")
_DIVISION = gettext_lazy("Town or village")
_CATEGORY = gettext_lazy("Category")
_RISK = gettext_lazy("Risk level")
_STATUS = gettext_lazy("File status")
_ENROLMENT = gettext_lazy("Schooling")

# The risk levels a list can be narrowed by (visits.models.RiskLevel; named here so that the
# registry does not import the app built on it).
RISK_LEVELS = ("low", "medium", "high")
_CATEGORY_CHOICES = [
    ("left_behind", CategoryCode.LEFT_BEHIND.label),
    ("in_difficulty", gettext_lazy("Children in difficulty")),
    *[(code, label) for code, label in CategoryCode.choices if code != CategoryCode.LEFT_BEHIND],
]


@dataclass(frozen=True)
class ChildFilters:
    """What a list of children can be narrowed by (the list page, its export, the API)."""

    division: str = ""  # a town or village code inside the user's scope
    category: str = ""  # a category code, or "left_behind" / "in_difficulty"
    risk: str = ""  # low / medium / high: the level the visits app stores (ChildRisk)
    status: str = "active"  # "" for any
    age_from: int | None = None
    age_to: int | None = None  # inclusive: age_to=5 keeps children not yet 6
    enrolment: str = ""
    q: str = ""  # a name, its pinyin or initials; never an ID number (see ``id_hash``)
    # An ID number searched for, as its keyed hash: a number never travels in a query string
    # (a URL lands in access logs and browser history); the views put it here from a POST.
    id_hash: str = ""

    @classmethod
    def from_params(cls, params: Any) -> ChildFilters:
        """From a QueryDict or dict: ValidationError naming every parameter whose value is
        not one the list takes (the API answers 400 with it)."""
        filters, errors = cls.parse(params)
        if errors:
            raise ValidationError(errors)
        return filters

    @classmethod
    def parse(cls, params: Any) -> tuple[ChildFilters, dict[str, list[str]]]:
        """The filters a query string asks for, and the errors of the parameters it got wrong
        (each left out of the filters: the page shows the rest of the list and the errors on
        its filter form). An age band ``age=6-11`` (or ``age=16-``) stands for ``age_from`` and
        ``age_to`` when neither is given."""
        read = QueryParams(params)
        top = plausible.MAX_FILE_AGE_YEARS
        age_from = read.integer("age_from", label=_AGE_FROM, maximum=top)
        age_to = read.integer("age_to", label=_AGE_TO, maximum=top)
        if not read.text("age_from") and not read.text("age_to") and (band := read.text("age")):
            low, dash, high = band.partition("-")
            age_from, age_to = ascii_int(low), ascii_int(high) if high else None
            if (
                not dash
                or age_from is None
                or (high and age_to is None)
                or age_from > top
                or (age_to is not None and not age_from <= age_to <= top)
            ):
                read.add_error("age", _("The age band must read like 6-11 or 16-."))
                age_from = age_to = None
        filters = cls(
            division=read.digits("division", label=_DIVISION, length=12),
            category=read.choice("category", _CATEGORY_CHOICES, label=_CATEGORY),
            risk=read.choice("risk", RISK_LEVELS, label=_RISK),
            status=read.choice(
                "status", ChildStatus.choices, label=_STATUS, default=ChildStatus.ACTIVE.value
            ),
            age_from=age_from,
            age_to=age_to,
            enrolment=read.choice("enrolment", Enrolment.choices, label=_ENROLMENT),
            q=read.text("q", max_length=50),
        )
        if looks_like_id_number(filters.q):
            read.add_error("q", str(ID_IN_QUERY))
            filters = replace(filters, q="")
        return filters, read.errors

    def as_audit_detail(self) -> dict[str, Any]:
        """The filters for an audit row: codes only. The search text may be a name or an ID
        number, so only whether there was one is kept."""
        detail: dict[str, Any] = {
            key: value
            for key, value in (
                ("division", self.division),
                ("category", self.category),
                ("risk", self.risk),
                ("status", self.status),
                ("age_from", self.age_from),
                ("age_to", self.age_to),
                ("enrolment", self.enrolment),
            )
            if value not in ("", None)
        }
        if self.q or self.id_hash:
            detail["search"] = True
        return detail


ID_IN_QUERY = gettext_lazy(
    "An ID number is not searched for through the address bar: type it into the search box."
)


def looks_like_id_number(text: str) -> str:
    """The ID number ``text`` is (normalised), if it reads like one or most of one (15 to 18
    characters); else "". Such a search goes by POST and as a keyed hash, never in a URL."""
    number = idcard.normalise(text)
    return number if re.fullmatch(r"\d{14,17}[\dX]", number) else ""


def id_search_hash(text: str) -> str:
    """The keyed hash to search for the ID number ``text`` by (``ChildFilters.id_hash``)."""
    return crypto.lookup_hash(idcard.normalise(text))


def children_for_list(
    user: User, filters: ChildFilters, *, today: date | None = None
) -> QuerySet[Child]:
    """The children a user may see, narrowed by ``filters``: one query, in the database,
    ordered by village and name (pinyin) so that pages are stable."""
    today = today or timezone.localdate()
    qs = Child.objects.visible_to(user)
    if filters.division:
        # A division code: keep what lies inside it (scope still applies on top).
        division = Division.objects.filter(code=filters.division).first()
        qs = qs.filter(village__code__startswith=division.prefix) if division else qs.none()
    if filters.category == "in_difficulty":
        qs = qs.filter(in_difficulty=True)
    elif filters.category == "left_behind":
        qs = qs.filter(left_behind=True)
    elif filters.category in CategoryCode.values:
        # A subquery, not a join: no duplicate rows, no DISTINCT over the whole list.
        current = CategorySpan.objects.filter(
            child=OuterRef("pk"), code=filters.category, end__isnull=True
        )
        qs = qs.filter(Exists(current))
    if filters.risk:
        # The visits app stores each child's level (reverse one-to-one ``risk``); a child
        # without a row yet counts as low, as the worklist treats it.
        level = Q(risk__level=filters.risk)
        qs = qs.filter(level | Q(risk__isnull=True) if filters.risk == "low" else level)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.enrolment:
        qs = qs.filter(enrolment=filters.enrolment)
    if filters.age_from is not None:
        qs = qs.filter(birth_date__lte=_years_before(today, filters.age_from))
    if filters.age_to is not None:
        qs = qs.filter(birth_date__gt=_years_before(today, filters.age_to + 1))
    if filters.id_hash:
        qs = qs.filter(id_number_hash=filters.id_hash)
    if filters.q:
        if filters.q.isascii():
            key = filters.q.lower().replace(" ", "")
            qs = qs.filter(Q(name_pinyin__startswith=key) | Q(name_initials__startswith=key))
        else:
            full, _ = name_keys(filters.q)
            qs = qs.filter(Q(name__contains=filters.q) | Q(name_pinyin__startswith=full))
    return qs.order_by("village_id", "name_pinyin", "pk")


@dataclass(frozen=True)
class ChildCounts:
    """How many children a filtered list holds, in all and per category."""

    total: int
    by_category: dict[str, int]  # left_behind, in_difficulty and each category code


def child_counts(children: QuerySet[Child]) -> ChildCounts:
    """Counts over a list from ``children_for_list``: two queries, whatever its size."""
    children = children.order_by()
    totals = children.aggregate(
        total=Count("pk"),
        left_behind=Count("pk", filter=Q(left_behind=True)),
        in_difficulty=Count("pk", filter=Q(in_difficulty=True)),
    )
    per_code = dict(
        CategorySpan.objects.filter(child__in=children.values("pk"), end__isnull=True)
        .exclude(code=CategoryCode.LEFT_BEHIND)
        .order_by()
        .values_list("code")
        .annotate(n=Count("child_id", distinct=True))
    )
    by_category = {"left_behind": totals["left_behind"], "in_difficulty": totals["in_difficulty"]}
    by_category |= {
        code: per_code.get(code, 0) for code in CategoryCode.values if code not in by_category
    }
    return ChildCounts(total=totals["total"], by_category=by_category)


@dataclass(frozen=True, slots=True)
class DivisionChoice:
    """A division as a filter offers it: no model instance (a county lists some 150)."""

    code: str
    name: str
    level: str


def filter_divisions(user: User) -> list[DivisionChoice]:
    """The divisions a user's list can be narrowed to: the one or two levels below their own
    division, inside their scope, in code order (a town before its villages). One query."""
    prefix = scope_prefix(user)
    if prefix is None or len(prefix) not in _FILTER_LEVELS:
        return []
    return [
        DivisionChoice(*row)
        for row in Division.objects.filter(
            code__startswith=prefix, level__in=_FILTER_LEVELS[len(prefix)]
        )
        .order_by("code")
        .values_list("code", "name", "level")
    ]


def _years_before(today: date, years: int) -> date:
    """The date ``years`` before ``today`` (29 Feb → 28 Feb in a common year)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def age_on(birth_date: date, today: date) -> int:
    """Completed years on ``today``, as the age filter counts them (a child born on 29 February
    turns a year older on 1 March in a common year)."""
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )
