"""Checking the audit trail's hash chain and its anchors (``manage.py audit_verify``).

The entries are read in order of their number, a chunk at a time (a million entries never sit
in memory at once), and each is checked four ways, stopping at the first that fails:

1. its number follows the one before (else entries were removed);
2. it names the hash of the entry before it (else one before it was removed, put in or moved);
3. its hash is the hash of its own content (else it was changed, or written without the key);
4. where an anchor names it, it has the anchor's hash (else the chain was recomputed, which
   needs the key, after the anchor was written).

Then the end: the chain's head and every anchor must name an entry that is still there (else
entries were removed from the end).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Max, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from tongxin.audit.anchors import Anchor
from tongxin.audit.chain import GENESIS, HASHED_FIELDS, entry_hash
from tongxin.audit.models import AuditChainHead, AuditEvent

CHUNK = 5000


@dataclass(frozen=True)
class Break:
    """The first broken link: what is wrong, at which entry."""

    kind: str  # missing | link | altered | anchor | truncated | head
    seq: int
    id: int | None = None
    at: datetime | None = None
    before: int = 0  # missing: the last entry present before the gap; link: the entry before
    anchor: Anchor | None = None

    def message(self) -> str:
        where = self._where()
        if self.kind == "missing":
            return _(
                "Entries %(first)d to %(last)d are missing: the trail goes from entry %(before)d "
                "to entry %(seq)d%(where)s."
            ) % {
                "first": self.before + 1,
                "last": self.seq - 1,
                "before": self.before,
                "seq": self.seq,
                "where": where,
            }
        if self.kind == "link":
            return _(
                "Entry %(seq)d%(where)s does not follow entry %(before)d: an entry between "
                "them was removed, put in or moved."
            ) % {"seq": self.seq, "where": where, "before": self.before}
        if self.kind == "altered":
            return _("Entry %(seq)d%(where)s was changed: its content does not match its hash.") % {
                "seq": self.seq,
                "where": where,
            }
        if self.kind == "anchor":
            assert self.anchor is not None
            return _(
                "Entry %(seq)d%(where)s does not match the anchor of %(day)s: the trail up to "
                "it was rewritten."
            ) % {"seq": self.seq, "where": where, "day": self.anchor.day.isoformat()}
        if self.kind == "truncated":
            assert self.anchor is not None
            return _(
                "The anchor of %(day)s names entry %(seq)d, which is not in the trail (it ends "
                "at entry %(last)d): entries were removed from its end."
            ) % {"day": self.anchor.day.isoformat(), "seq": self.seq, "last": self.before}
        return _(
            "The chain's head names entry %(seq)d, but the trail ends at entry %(last)d: "
            "entries were removed from its end."
        ) % {"seq": self.seq, "last": self.before}

    def _where(self) -> str:
        if self.id is None or self.at is None:
            return ""
        return _(" (id %(id)d, written %(at)s)") % {
            "id": self.id,
            "at": timezone.localtime(self.at).strftime("%Y-%m-%d %H:%M:%S"),
        }


@dataclass(frozen=True)
class Outcome:
    checked: int  # entries read
    first: int  # number of the first entry checked (0: none)
    last: int  # number of the last entry checked (0: none)
    anchors: int  # anchors matched
    broken: Break | None


def _ends() -> tuple[int, int]:
    """The last entry's number and the head's, read in one statement: one snapshot, so that
    entries committed meanwhile cannot make them differ."""
    row = (
        AuditChainHead.objects.filter(pk=AuditChainHead.ONE)
        .annotate(last=Subquery(AuditEvent.objects.values("seq").order_by("-seq")[:1]))
        .values_list("last", "seq")
        .first()
    )
    if row is None:  # no head row: only a hand at the database removes it
        last = AuditEvent.objects.aggregate(m=Max("seq"))["m"] or 0
        return last, last
    return row[0] or 0, row[1]


def verify_chain(
    *, anchors: Sequence[Anchor] = (), start: Anchor | None = None, chunk: int = CHUNK
) -> Outcome:
    """Check the chain from its first entry, or from the entry an anchor names (``start``,
    trusted as the anchor says), to its last, and against ``anchors``."""
    last_seq, head_seq = _ends()
    by_seq: dict[int, Anchor] = {}
    for anchor in anchors:
        by_seq.setdefault(anchor.seq, anchor)
    if start is not None:
        by_seq[start.seq] = start
    expected = start.seq if start else 1
    prev: str | None = None if start else GENESIS
    checked = matched = 0
    columns = ("id", "prev_hash", "hash", *HASHED_FIELDS)

    def outcome(broken: Break | None) -> Outcome:
        first = start.seq if start else 1
        return Outcome(checked, first if checked else 0, expected - 1, matched, broken)

    while expected <= last_seq:
        rows: list[dict[str, Any]] = list(
            AuditEvent.objects.filter(seq__gte=expected, seq__lte=last_seq)
            .order_by("seq")
            .values(*columns)[:chunk]
        )
        if not rows:
            break
        for row in rows:
            seq, where = row["seq"], {"id": row["id"], "at": row["at"]}
            if seq != expected:
                return outcome(Break("missing", seq, before=expected - 1, **where))
            if prev is not None and row["prev_hash"] != prev:
                return outcome(Break("link", seq, before=seq - 1, **where))
            if entry_hash(row["prev_hash"], row) != row["hash"]:
                return outcome(Break("altered", seq, **where))
            pinned = by_seq.get(seq)
            if pinned is not None:
                if pinned.hash != row["hash"]:
                    return outcome(Break("anchor", seq, anchor=pinned, **where))
                matched += 1
            checked += 1
            prev = row["hash"]
            expected += 1
    end = expected - 1
    for later in sorted(anchors, key=lambda a: a.seq):
        if later.seq > end:
            return outcome(Break("truncated", later.seq, before=end, anchor=later))
    if head_seq > end:
        return outcome(Break("head", head_seq, before=end))
    return outcome(None)
