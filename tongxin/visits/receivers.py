"""Keeps the stored risk level in step with the child's facts and open problems, and blanks
the notes of contacts with a household that retention archived (decision 019)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from tongxin.protection.signals import problems_changed
from tongxin.registry.models import Child, Household
from tongxin.registry.signals import child_facts_changed, households_archived


@receiver(child_facts_changed, sender=Child, dispatch_uid="visits.risk_refresh")
def _facts_changed(sender: type[Child], child: Child, **kwargs: Any) -> None:
    from tongxin.visits.risk import risk_refresh

    risk_refresh(child)


@receiver(problems_changed, dispatch_uid="visits.risk_refresh_problems")
def _problems_changed(sender: Any, children: tuple[Child, ...], **kwargs: Any) -> None:
    from tongxin.visits.risk import risk_refresh

    for child in children:
        risk_refresh(child)


@receiver(households_archived, sender=Household, dispatch_uid="visits.contacts_archive")
def _households_archived(sender: type[Household], households: list[int], **kwargs: Any) -> None:
    from django.db import connection

    from tongxin.audit.database import history_rewrite
    from tongxin.visits.models import Contact, ContactAddendum

    blanks = {"notes": "", "child_not_seen_reason": "", "latitude": None, "longitude": None}
    contacts = list(Contact.objects.filter(household__in=households).values_list("pk", flat=True))
    if not contacts:
        return
    history: Any = Contact.history
    with history_rewrite(connection, [history.model._meta.db_table]):
        Contact.objects.filter(pk__in=contacts).update(**blanks)
        history.model.objects.filter(id__in=contacts).update(**blanks)
    ContactAddendum.objects.filter(contact__in=contacts).update(text="")
