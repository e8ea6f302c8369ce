"""Demo contacts: a plausible year of work for the synthetic population, so the worklist,
compliance and reminders have something to show from the first sign-in.

Every village with children gets a director and every town a supervisor (the demo's own
accounts where they exist; otherwise accounts that cannot sign in). Most children are
contacted monthly and visited quarterly, most families once a year by the supervisor; the
misses are random, so some lines are overdue. Written in bulk, not through the services: the
demo is not a user's act and writes no audit events."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

from django.db import transaction

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.core import periods
from tongxin.geo.models import Division, Level
from tongxin.registry.models import Child, ChildStatus
from tongxin.visits.models import Check, Contact, ContactCredit, ContactKind
from tongxin.visits.risk import risk_refresh_all

MONTHS_BACK = 14
P_MONTHLY = 0.88
P_QUARTERLY = 0.8
P_YEARLY = 0.75


def _worker(division: Division, role: str) -> User:
    """The demo account of that role in that division, or a new one that cannot sign in."""
    found = User.objects.filter(division=division, role=role, is_active=True).first()
    if found is not None:
        return found
    title = "儿童主任" if role == Role.VILLAGE_DIRECTOR else "儿童督导员"
    user = User(
        username=f"demo_{role}_{division.code}",
        name=f"{division.name}{title}",
        role=role,
        division=division,
        is_demo=True,
    )
    user.set_unusable_password()
    user.save()
    return user


def _day_in(period: periods.Period, rng: random.Random, until: date) -> date | None:
    last = min(period.end, until)
    if last < period.start:
        return None
    return period.start + timedelta(days=rng.randrange((last - period.start).days + 1))


@transaction.atomic
def contacts_generate(*, county: str, as_of: date, seed: int) -> int:
    """Contacts for every active child of the county, over the last ``MONTHS_BACK`` months."""
    rng = random.Random(seed)  # noqa: S311  (synthetic data, not secrets)
    children = list(
        Child.objects.filter(village__code__startswith=county[:6], status=ChildStatus.ACTIVE)
        .select_related("village__parent")
        .order_by("pk")
    )
    by_household: dict[int, list[Child]] = defaultdict(list)
    for child in children:
        by_household[child.household_id].append(child)
    directors: dict[str, User] = {}
    supervisors: dict[str, User] = {}
    start = periods.shift_period(periods.period_of(as_of, periods.PeriodKind.MONTH), -MONTHS_BACK)
    contacts: list[Contact] = []
    credits: list[list[Child]] = []

    def add(household_children: list[Child], who: User, kind: str, day: date) -> None:
        first = household_children[0]
        concern = rng.random() < 0.04
        contacts.append(
            Contact(
                household_id=first.household_id,
                village_id=first.village_id,
                author=who,
                author_role=who.role,
                kind=kind,
                day=day,
                met_child=True,
                met_caregiver=kind == ContactKind.HOME_VISIT or rng.random() < 0.5,
                check_living=Check.GOOD,
                check_safety=Check.CONCERN if concern else Check.GOOD,
                check_mood=Check.GOOD if rng.random() < 0.9 else Check.NOT_SEEN,
            )
        )
        credits.append(
            [c for c in household_children if c.registered_on <= day]
            if kind == ContactKind.HOME_VISIT
            else [c for c in household_children if c.registered_on <= day][:1]
        )

    for members in by_household.values():
        village: Division = members[0].village
        town = village.parent
        if village.level not in (Level.VILLAGE, Level.COMMUNITY) or town is None:
            continue
        director = directors.get(village.code) or directors.setdefault(
            village.code, _worker(village, Role.VILLAGE_DIRECTOR)
        )
        supervisor = supervisors.get(town.code) or supervisors.setdefault(
            town.code, _worker(town, Role.TOWN_SUPERVISOR)
        )
        registered = min(c.registered_on for c in members)
        diligent = rng.random() < 0.85  # some families fall through the net for months
        month = start
        while month.start <= as_of:
            if month.end >= registered:
                for child in members:
                    if rng.random() < (P_MONTHLY if diligent else 0.4):
                        day = _day_in(month, rng, as_of)
                        if day and day >= child.registered_on:
                            add([child], director, ContactKind.PHONE, day)
                if month.start.month in (2, 5, 8, 11) and rng.random() < (
                    P_QUARTERLY if diligent else 0.3
                ):
                    day = _day_in(month, rng, as_of)
                    if day and day >= registered:
                        add(members, director, ContactKind.HOME_VISIT, day)
            month = periods.shift_period(month, 1)
        for year in (as_of.year - 1, as_of.year):
            if rng.random() < P_YEARLY:
                period = periods.period_of(date(year, 1, 1), periods.PeriodKind.YEAR)
                day = _day_in(period, rng, as_of)
                if day and day >= registered:
                    add(members, supervisor, ContactKind.PHONE, day)
    Contact.objects.bulk_create(contacts, batch_size=2000)
    ContactCredit.objects.bulk_create(
        (
            ContactCredit(
                contact=contact,
                child=child,
                household_id=contact.household_id,
                day=contact.day,
                author_role=contact.author_role,
                home_visit=contact.kind == ContactKind.HOME_VISIT,
            )
            for contact, credited in zip(contacts, credits, strict=True)
            for child in credited
        ),
        batch_size=2000,
    )
    risk_refresh_all(as_of=as_of)
    return len(contacts)
