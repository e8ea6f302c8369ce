"""Importing a monthly payment roll (发放花名册): upload and preview, apply, all or nothing
(decision 023).

1. ``roll_upload`` reads the workbook with the ledger import's reader (``interop.services.
   table_open``: the worker process and its limits), checks every row (name, ID number,
   programme, month, amount, town and village) and matches it to a file by the ID number's
   keyed hash. A file the reader refuses is a ``BadFile`` (nothing kept, audited). A roll with
   any bad row is kept ``refused``, every bad row listed, and can never be applied; otherwise
   it is ``previewed``: each line new, unchanged, or changed (another amount for the same
   person, programme and month than the line in force). The workbook itself is not kept.
2. ``roll_apply`` checks the lines again against what is stored now and writes them in one
   transaction with its audit entry: new lines are added, changed lines replace the line in
   force (kept, out of force), unchanged lines are left alone. Applying the same file twice, or
   the same lines in another file, changes nothing and says so.

Lines whose ID number matches no file are kept with the masked number, the name, the village
and the number encrypted with the data key: each is a child to register (未建档). The audit
entries hold the file's SHA-256, its size and the counts, never a name or a number.
"""

from __future__ import annotations

import base64
import hashlib
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.audit.models import Result
from tongxin.audit.services import audit_object, audit_record
from tongxin.benefits.roll_models import PaymentLine, PaymentRoll, RollStatus
from tongxin.benefits.roll_rows import COLUMNS as COLUMNS
from tongxin.benefits.roll_rows import Places, RollRow, RowReader
from tongxin.geo.models import Division
from tongxin.interop import services as interop
from tongxin.lib import crypto, idcard
from tongxin.registry.models import Child

# A roll is one county's month (or a few): a few thousand lines. Its preview is kept whole.
MAX_LINES = 50_000
_CHUNK = 500


class RollRefused(Exception):
    """The roll cannot be applied now; the message says why. Nothing was written."""


# --- who ---------------------------------------------------------------------------------


def may_upload(user: User) -> bool:
    """The county's civil-affairs officer imports the rolls of their division."""
    return user.role == Role.COUNTY_ADMIN and user.division_id is not None


def may_read_rolls(user: User) -> bool:
    return user.role in (Role.COUNTY_ADMIN, Role.AUDITOR) and user.division_id is not None


# --- matching -------------------------------------------------------------------------


def _chunks[T](items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _children_by_hash(actor: User, hashes: Sequence[str]) -> dict[str, tuple[int, str, str, str]]:
    """id hash → (child pk, public id, village) of the files in the actor's scope: the registry
    is searched by the keyed hash, as its own look-ups are."""
    found: dict[str, tuple[int, str, str, str]] = {}
    for part in _chunks(hashes):
        for h, pk, public_id, village, name in (
            Child.objects.visible_to(actor)
            .filter(id_number_hash__in=part)
            .values_list("id_number_hash", "pk", "public_id", "village_id", "name")
        ):
            if h is not None:
                found[h] = (pk, str(public_id), village, name)
    return found


def _lines_in_force(keys: Iterable[tuple[str, str, date]]) -> dict[tuple[str, str, date], Any]:
    """(id hash, programme, month) → (line pk, amount) of the lines in force."""
    keys = list(keys)
    found: dict[tuple[str, str, date], Any] = {}
    hashes = sorted({k[0] for k in keys})
    months = sorted({k[2] for k in keys})
    for part in _chunks(hashes):
        for pk, h, programme, month, amount in (
            PaymentLine.objects.current()
            .filter(id_hash__in=part, month__in=months)
            .values_list("pk", "id_hash", "programme", "month", "amount")
        ):
            found[(h, programme, month)] = (pk, amount)
    return found


def _month_text(month: date) -> str:
    return f"{month:%Y-%m}"


def _preview(actor: User, rows: list[RollRow]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Every row as the preview shows it and the apply writes it, and the counts."""
    seen: dict[tuple[str, str, date], int] = {}
    for row in rows:
        if row.number and row.programme and row.month:
            key = (row.id_hash, row.programme, row.month)
            if key in seen:
                row.errors.append(
                    _("The same person, programme and month as row %(line)d.") % {"line": seen[key]}
                )
            else:
                seen[key] = row.line
    good = [r for r in rows if not r.errors]
    children = _children_by_hash(actor, sorted({r.id_hash for r in good}))
    stored = _lines_in_force(seen) if good else {}
    counts = {"total": len(rows), "errors": 0, "new": 0, "unchanged": 0, "changed": 0}
    counts["unmatched"] = 0
    result: list[dict[str, Any]] = []
    for row in rows:
        entry: dict[str, Any] = {
            "line": row.line,
            "name": row.name,
            "id": idcard.mask(row.number) if row.number else "",
            "programme": row.programme,
            "month": _month_text(row.month) if row.month else "",
            "amount": str(row.amount) if row.amount is not None else "",
            "town": row.town,
            "village": row.village,
            "place": f"{row.town_name}{row.village_name}",
            "errors": row.errors,
            "warnings": [],
        }
        if row.errors:
            entry["kind"] = "error"
            counts["errors"] += 1
            result.append(entry)
            continue
        child = children.get(row.id_hash)
        entry["hash"] = row.id_hash
        entry["child"] = child[0] if child else None
        entry["child_code"] = child[1] if child else ""
        if child is None:
            counts["unmatched"] += 1
            # The number, sealed with the data key: the child to register is found from it.
            entry["enc"] = base64.b64encode(crypto.encrypt(row.number)).decode("ascii")
        else:
            if child[3] != row.name:
                entry["warnings"].append(
                    _("The name on the child's file is another: check the ID number.")
                )
            if child[2] != row.village:
                entry["warnings"].append(_("The child's file is in another village."))
        old = stored.get((row.id_hash, row.programme, row.month)) if row.month else None
        if old is None:
            entry["kind"] = "new"
        elif old[1] == row.amount:
            entry["kind"] = "unchanged"
        else:
            entry["kind"], entry["replaces"], entry["was"] = "changed", old[0], str(old[1])
        counts[entry["kind"]] += 1
        result.append(entry)
    return result, counts


# --- upload and preview -----------------------------------------------------------------


def _read(path: Path, actor: User, size: int) -> tuple[str, list[RollRow]]:
    county = Division.objects.get(code=actor.division_id)
    places = Places(county.prefix)
    table = interop.table_open(path, COLUMNS, limit=max(size, interop.max_bytes()))
    try:
        reader = RowReader(table.header, places, timezone.localdate())
        rows: list[RollRow] = []
        for line, values in table.rows():
            row = reader.read(line, values)
            if row is None:
                continue
            if len(rows) >= MAX_LINES:
                raise interop.BadFile(
                    _("The roll has more than %(limit)s lines: split it by town.")
                    % {"limit": f"{MAX_LINES:,}"}
                )
            rows.append(row)
        return table.sheet_name, rows
    finally:
        table.close()


def _audit(
    actor: User,
    action: str,
    roll: PaymentRoll,
    *,
    request: HttpRequest | None = None,
    result: str = Result.OK,
    **detail: Any,
) -> None:
    audit_object(
        actor,
        action,
        roll,
        object_type="payment_roll",
        division_code=roll.county_code,
        request=request,
        result=result,
        detail={"sha256": roll.sha256, "size": roll.size, **detail},
    )


def roll_upload(
    *,
    actor: User,
    name: str,
    size: int,
    chunks: Iterable[bytes],
    request: HttpRequest | None = None,
) -> PaymentRoll:
    """Read, check and match a roll: a ``previewed`` roll, or a ``refused`` one listing every
    bad row. A file that cannot be read raises ``BadFile`` (audited, nothing kept). The
    workbook is read from a private temporary file, deleted before this returns."""
    if actor.is_read_only or not may_upload(actor):
        raise PermissionDenied
    digest, stored = hashlib.sha256(), 0
    try:
        interop.check_size(size)  # before anything is copied
        with tempfile.TemporaryDirectory(prefix="roll-") as folder:
            path = Path(folder) / "roll.xlsx"
            with path.open("wb") as out:
                path.chmod(0o600)
                for chunk in chunks:
                    digest.update(chunk)
                    stored += len(chunk)
                    interop.check_size(stored)
                    out.write(chunk)
            sheet, rows = _read(path, actor, stored)
        if not rows:
            raise interop.BadFile(_("The roll has a header but no lines."))
    except interop.BadFile as exc:
        audit_record(
            actor=actor,
            action="payment_roll.upload",
            object_type="payment_roll",
            division_code=actor.division_id or "",
            request=request,
            result=Result.FAILED,
            detail={"sha256": digest.hexdigest(), "size": stored, "reason": str(exc)[:500]},
        )
        raise
    sha256 = digest.hexdigest()
    with transaction.atomic():
        preview, counts = _preview(actor, rows)
        roll = PaymentRoll(
            uploaded_by=actor,
            county_code=actor.division_id or "",
            file_name=Path(name).name[:200],
            size=stored,
            sha256=sha256,
            sheet=sheet[:100],
            months=sorted({r["month"] for r in preview if r["month"]}),
            counts=counts,
        )
        if counts["errors"]:
            roll.status = RollStatus.REFUSED
            roll.message = _(
                "%(errors)d of the %(total)d lines have errors: nothing was written. Correct "
                "them in the file and upload it again."
            ) % {"errors": counts["errors"], "total": counts["total"]}
            roll.rows = [_without_secrets(r) for r in preview]
        else:
            roll.rows = preview
        roll.save()
        _audit(actor, "payment_roll.upload", roll, request=request, counts=counts)
        if roll.status == RollStatus.REFUSED:
            bad = [r["line"] for r in preview if r["kind"] == "error"]
            _audit(
                actor, "payment_roll.refuse", roll, request=request, counts=counts, rows=bad[:200]
            )
    return roll


def _without_secrets(row: dict[str, Any]) -> dict[str, Any]:
    """A row of a refused roll: it will never be applied, so it keeps neither the hash nor the
    sealed number."""
    return {k: v for k, v in row.items() if k not in ("hash", "enc", "child")}


def applied_before(roll: PaymentRoll) -> PaymentRoll | None:
    """An applied roll of the same file (same SHA-256), other than this one."""
    return (
        PaymentRoll.objects.filter(
            sha256=roll.sha256, county_code=roll.county_code, status=RollStatus.APPLIED
        )
        .exclude(pk=roll.pk)
        .order_by("-applied_at")
        .first()
    )


def roll_read(*, actor: User, roll: PaymentRoll, request: HttpRequest | None = None) -> None:
    """A read of a roll's preview (names and masked numbers): audited."""
    _audit(actor, "payment_roll.preview", roll, request=request, counts=roll.counts)


# --- apply -------------------------------------------------------------------------------


def _kinds(counts: dict[str, int]) -> tuple[int, ...]:
    return tuple(int(counts.get(k, 0)) for k in ("new", "unchanged", "changed", "unmatched"))


def roll_apply(*, actor: User, roll: PaymentRoll, request: HttpRequest | None = None) -> int:
    """Write the previewed roll's new and changed lines, all together, with the audit entry;
    the number of lines written (0: the roll changed nothing). ``RollRefused`` when the roll
    may not be applied, or the stored lines changed since the preview (the preview is then
    made again, to be read and applied anew)."""
    if actor.is_read_only or not may_upload(actor):
        raise PermissionDenied
    refusal = ""
    with transaction.atomic():
        locked = PaymentRoll.objects.select_for_update().get(pk=roll.pk)
        written = 0
        if locked.status != RollStatus.PREVIEWED:
            refusal = _("This roll cannot be applied: %(status)s.") % {
                "status": locked.get_status_display()
            }
            _audit(
                actor,
                "payment_roll.apply",
                locked,
                request=request,
                result=Result.FAILED,
                reason=refusal,
            )
        else:
            again, counts = _recheck(actor, locked.rows)
            locked.rows, locked.counts = again, counts
            if _kinds(counts) != _kinds(roll.counts):
                # Saved, so that the page shows what applying would now do.
                locked.save(update_fields=["rows", "counts"])
                refusal = _(
                    "The payments or files stored changed since the preview: nothing was "
                    "written. Read the new preview and apply again."
                )
                _audit(
                    actor,
                    "payment_roll.apply",
                    locked,
                    request=request,
                    result=Result.FAILED,
                    reason=refusal,
                    counts=counts,
                )
            else:
                written = _write(locked, again)
                # The lines hold the sealed numbers now; the preview keeps none.
                locked.rows = [{k: v for k, v in r.items() if k != "enc"} for r in again]
                locked.status, locked.applied_at, locked.applied_by = (
                    RollStatus.APPLIED,
                    timezone.now(),
                    actor,
                )
                locked.message = (
                    ""
                    if written
                    else _("Nothing changed: every line of this roll was already recorded.")
                )
                locked.save(
                    update_fields=[
                        "status",
                        "applied_at",
                        "applied_by",
                        "rows",
                        "counts",
                        "message",
                    ]
                )
                _audit(
                    actor,
                    "payment_roll.apply",
                    locked,
                    request=request,
                    counts=counts,
                    written=written,
                )
    roll.refresh_from_db()
    if refusal:
        raise RollRefused(refusal)
    return written


def _recheck(
    actor: User, rows: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The preview's rows judged again against the files and lines stored now."""
    hashes = sorted({r["hash"] for r in rows})
    children = _children_by_hash(actor, hashes)
    keys = [(r["hash"], r["programme"], date.fromisoformat(r["month"] + "-01")) for r in rows]
    stored = _lines_in_force(keys)
    counts = {"total": len(rows), "errors": 0, "new": 0, "unchanged": 0, "changed": 0}
    counts["unmatched"] = 0
    again: list[dict[str, Any]] = []
    for row, key in zip(rows, keys, strict=True):
        entry = {k: v for k, v in row.items() if k not in ("replaces", "was")}
        child = children.get(row["hash"])
        entry["child"] = child[0] if child else None
        entry["child_code"] = child[1] if child else ""
        if child is None:
            counts["unmatched"] += 1
        else:
            entry.pop("enc", None)
        old = stored.get(key)
        if old is None:
            entry["kind"] = "new"
        elif old[1] == Decimal(row["amount"]):
            entry["kind"] = "unchanged"
        else:
            entry["kind"], entry["replaces"], entry["was"] = "changed", old[0], str(old[1])
        counts[entry["kind"]] += 1
        again.append(entry)
    return again, counts


def _write(roll: PaymentRoll, rows: list[dict[str, Any]]) -> int:
    """The new lines and the replacements; the lines replaced go out of force first (one line
    in force per person, programme and month)."""
    replaced = [r["replaces"] for r in rows if r["kind"] == "changed"]
    for part in _chunks(replaced):
        PaymentLine.objects.filter(pk__in=part, in_force=True).update(in_force=False)
    lines = [
        PaymentLine(
            roll=roll,
            line=r["line"],
            child_id=r["child"],
            id_hash=r["hash"],
            id_masked=r["id"],
            id_enc=base64.b64decode(r["enc"]) if r.get("enc") and r["child"] is None else None,
            name=r["name"],
            programme=r["programme"],
            month=date.fromisoformat(r["month"] + "-01"),
            amount=Decimal(r["amount"]),
            town_id=r["town"],
            village_id=r["village"],
            replaces_id=r.get("replaces"),
        )
        for r in rows
        if r["kind"] in ("new", "changed")
    ]
    PaymentLine.objects.bulk_create(lines, batch_size=_CHUNK)
    return len(lines)


# --- the children to register ----------------------------------------------------------


def unmatched_lines(user: User) -> Any:
    """The lines in force that match no file in the user's division, newest month first: the
    children to register (未建档). A line whose number a file now holds (registered since) is
    no longer one of them."""
    registered = Child.objects.filter(id_number_hash__isnull=False).values("id_number_hash")
    return (
        PaymentLine.objects.unmatched_visible_to(user)
        .exclude(Q(id_hash__in=registered))
        .select_related("village", "town", "roll")
        .order_by("village_id", "id_hash", "-month", "programme")
    )


def unmatched_read(*, actor: User, count: int, request: HttpRequest | None = None) -> None:
    """A read of the children to register (names and masked numbers): audited."""
    audit_record(
        actor=actor,
        action="payment_roll.unmatched",
        object_type="payment_roll",
        division_code=actor.division_id or "",
        request=request,
        detail={"lines": count},
    )
