"""What the payment rolls paid, for the gap list (below standard, missing payment): read in a
constant number of queries whatever the number of children."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q

from tongxin.benefits.roll_models import PaymentLine
from tongxin.registry.models import Child

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Payment:
    """A payment in force: programme, month (its first day), amount."""

    programme: str
    month: date
    amount: Decimal


def payments_for(child_ids: Iterable[int], months: Iterable[date]) -> dict[int, list[Payment]]:
    """Child pk → the payments in force for ``months`` (first days), in month and programme
    order. A line counts for a child by the child's file or by the ID number's keyed hash (a
    line read before the child was registered). Two queries per 500 children."""
    ids = sorted(set(child_ids))
    wanted = sorted({m.replace(day=1) for m in months})
    found: dict[int, list[Payment]] = defaultdict(list)
    if not ids or not wanted:
        return {}
    for start in range(0, len(ids), _CHUNK):
        part: Sequence[int] = ids[start : start + _CHUNK]
        members = set(part)
        by_hash = dict(
            Child.objects.filter(pk__in=part, id_number_hash__isnull=False).values_list(
                "id_number_hash", "pk"
            )
        )
        lines = (
            PaymentLine.objects.current()
            .filter(month__in=wanted)
            .filter(Q(child_id__in=part) | Q(id_hash__in=list(by_hash)))
            .values_list("child_id", "id_hash", "programme", "month", "amount")
            .order_by("month", "programme", "pk")
        )
        for child_id, id_hash, programme, month, amount in lines:
            owner = child_id if child_id in members else by_hash.get(id_hash)
            if owner is not None:
                found[owner].append(Payment(programme, month, amount))
    return dict(found)
