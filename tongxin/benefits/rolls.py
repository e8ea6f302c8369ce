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
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
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
from tongxin.benefits.rules import PROGRAMME_LABELS, Programme
from tongxin.geo.models import Division, Level
from tongxin.geo.regions import local_core, plain_text
from tongxin.interop import services as interop
from tongxin.lib import crypto, idcard
from tongxin.lib.plausible import name_error
from tongxin.registry.models import Child

# A roll is one county's month (or a few): a few thousand lines. Its preview is kept whole.
MAX_LINES = 50_000
# No single monthly payment to one child comes near this (临时救助 included).
MAX_AMOUNT = Decimal("50000.00")
_CHUNK = 500

COLUMNS = interop.Columns(
    labels={
        "name": "姓名",
        "id_number": "身份证号",
        "programme": "项目",
        "month": "发放月份",
        "amount": "金额",
        "town": "乡镇",
        "village": "村",
    },
    synonyms={
        "name": (
            "姓名",
            "名字",
            "儿童姓名",
            "救助对象姓名",
            "对象姓名",
            "享受人姓名",
            "领取人姓名",
        ),
        "id_number": (
            "身份证号码",
            "公民身份证号码",
            "公民身份号码",
            "身份证号",
            "身份号码",
            "证件号码",
            "身份证",
            "儿童身份证号",
            "对象身份证号",
        ),
        "programme": (
            "项目",
            "项目名称",
            "发放项目",
            "救助项目",
            "保障项目",
            "补贴项目",
            "资金项目",
            "救助类别",
            "保障类别",
            "补助类别",
        ),
        "month": ("发放月份", "发放年月", "月份", "所属月份", "发放时间", "发放日期", "年月"),
        "amount": ("金额", "发放金额", "实发金额", "补贴金额", "救助金额", "发放标准金额"),
        "town": ("乡镇", "乡镇街道", "所属乡镇", "乡镇名称", "乡镇名", "镇"),
        "village": ("村", "村社区", "村居", "所属村", "村名", "村名称", "社区", "行政村"),
    },
    required=("name", "id_number", "programme", "month", "amount", "town", "village"),
)

# 项目 as rolls write it → the programme: each catalogue name, then the short forms.
PROGRAMME_WORDS: dict[str, Programme] = {
    **{label: Programme(code) for code, label in PROGRAMME_LABELS.items()},
    "孤儿": Programme.ORPHAN_ALLOWANCE,
    "孤儿基本生活保障": Programme.ORPHAN_ALLOWANCE,
    "孤儿基本生活费": Programme.ORPHAN_ALLOWANCE,
    "散居孤儿": Programme.ORPHAN_ALLOWANCE,
    "事实无人抚养": Programme.DE_FACTO_ALLOWANCE,
    "事实无人抚养儿童": Programme.DE_FACTO_ALLOWANCE,
    "事实无人抚养儿童基本生活补贴": Programme.DE_FACTO_ALLOWANCE,
    "事实孤儿": Programme.DE_FACTO_ALLOWANCE,
    "低保": Programme.DIBAO,
    "城乡低保": Programme.DIBAO,
    "农村低保": Programme.DIBAO,
    "城市低保": Programme.DIBAO,
    "最低生活保障金": Programme.DIBAO,
    "特困": Programme.TEKUN,
    "特困供养": Programme.TEKUN,
    "特困人员供养": Programme.TEKUN,
    "临时救助金": Programme.TEMPORARY_ASSISTANCE,
    "困难残疾人生活补贴": Programme.DISABILITY_LIVING_SUBSIDY,
    "残疾人生活补贴": Programme.DISABILITY_LIVING_SUBSIDY,
    "生活补贴": Programme.DISABILITY_LIVING_SUBSIDY,
    "重度残疾人护理补贴": Programme.DISABILITY_CARE_SUBSIDY,
    "残疾人护理补贴": Programme.DISABILITY_CARE_SUBSIDY,
    "护理补贴": Programme.DISABILITY_CARE_SUBSIDY,
    "残疾儿童康复救助": Programme.REHAB_ASSISTANCE,
    "康复救助": Programme.REHAB_ASSISTANCE,
    "教育资助": Programme.EDUCATION_AID,
    "家庭经济困难学生资助": Programme.EDUCATION_AID,
    "福彩圆梦助学": Programme.EDUCATION_AID,
    "助学金": Programme.EDUCATION_AID,
}
_PROGRAMMES = {re.sub(r"[\s（）()]", "", word): code for word, code in PROGRAMME_WORDS.items()}
_MONTH = re.compile(r"^([0-9]{4})\s*(?:[-./年]\s*([0-9]{1,2})\s*月?(?:份)?|([0-9]{2}))$")
_AMOUNT_NOISE = re.compile(r"[,，\s元¥￥]")


class RollRefused(Exception):
    """The roll cannot be applied now; the message says why. Nothing was written."""


# --- who ---------------------------------------------------------------------------------


def may_upload(user: User) -> bool:
    """The county's civil-affairs officer imports the rolls of their division."""
    return user.role == Role.COUNTY_ADMIN and user.division_id is not None


def may_read_rolls(user: User) -> bool:
    return user.role in (Role.COUNTY_ADMIN, Role.AUDITOR) and user.division_id is not None


# --- reading one row -------------------------------------------------------------------


@dataclass
class RollRow:
    """One row of the roll as read and checked: its values, or its errors naming the field."""

    line: int
    name: str = ""
    number: str = ""  # the full ID number: in memory only
    programme: str = ""
    month: date | None = None
    amount: Decimal | None = None
    town: str = ""  # division codes
    village: str = ""
    town_name: str = ""
    village_name: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def id_hash(self) -> str:
        return crypto.lookup_hash(self.number) if self.number else ""


def parse_month(value: Any) -> date:
    """发放月份: 2024-06, 2024/6, 2024.6, 2024年6月, 202406, a whole date or an Excel date
    (its month); the first day of the month. ``CellError`` otherwise."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.replace(day=1)
    text = interop.cell_text(value)
    if not text:
        raise interop.CellError(_("The month is empty."))
    match = _MONTH.match(text)
    if match is not None:
        year = int(match.group(1))
        month = int(match.group(2) or match.group(3))
        if 1 <= month <= 12 and 2000 <= year <= 2099:
            return date(year, month, 1)
        raise interop.CellError(
            _("“%(value)s” is not a month.") % {"value": interop.cell_shown(text)}
        )
    try:
        found = interop.cell_date(value)
    except interop.CellError:
        raise interop.CellError(
            _("“%(value)s” is not a month: write it as 2024-06 or 2024年6月.")
            % {"value": interop.cell_shown(text)}
        ) from None
    if found is None or not 2000 <= found.year <= 2099:
        raise interop.CellError(
            _("“%(value)s” is not a month.") % {"value": interop.cell_shown(text)}
        )
    return found.replace(day=1)


def parse_amount(value: Any) -> Decimal:
    """金额: more than 0, at most two decimals, at most ``MAX_AMOUNT``; 1,200.00, 1200元 and
    number cells alike."""
    if isinstance(value, bool):
        raise interop.CellError(_("The amount is not a number."))
    if isinstance(value, float):
        text = repr(value) if not value.is_integer() else str(int(value))
    else:
        text = _AMOUNT_NOISE.sub("", interop.cell_text(value))
    if not text:
        raise interop.CellError(_("The amount is empty."))
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise interop.CellError(
            _("“%(value)s” is not an amount.") % {"value": interop.cell_shown(text)}
        ) from None
    if not amount.is_finite() or amount <= 0:
        raise interop.CellError(
            _("The amount must be more than 0 (it is %(value)s).")
            % {"value": interop.cell_shown(text)}
        )
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise interop.CellError(
            _("“%(value)s” has more than two decimals.") % {"value": interop.cell_shown(text)}
        )
    if amount > MAX_AMOUNT:
        raise interop.CellError(
            _("%(value)s is more than %(max)s, more than any monthly payment.")
            % {"value": interop.cell_shown(text), "max": MAX_AMOUNT}
        )
    return amount.quantize(Decimal("0.01"))


def parse_programme(value: Any) -> Programme:
    text = re.sub(r"[\s（）()]", "", interop.cell_text(value))
    if not text:
        raise interop.CellError(_("The programme is empty."))
    found = _PROGRAMMES.get(text)
    if found is None:
        raise interop.CellError(
            _("“%(value)s” is not a programme (one of: %(choices)s).")
            % {
                "value": interop.cell_shown(text),
                "choices": "、".join(PROGRAMME_LABELS[p] for p in Programme),
            }
        )
    return found


class Places:
    """The towns and villages of a county, by their names with or without 镇/乡/村/社区."""

    def __init__(self, county_prefix: str) -> None:
        self.towns: dict[str, tuple[str, str]] = {}
        self.villages: dict[tuple[str, str], tuple[str, str]] = {}
        rows = Division.objects.filter(
            code__startswith=county_prefix,
            level__in=(Level.TOWN, Level.VILLAGE, Level.COMMUNITY),
        ).values_list("code", "name", "level", "parent_id")
        for code, name, level, parent in rows:
            for key in (name, local_core(name)):
                if level == Level.TOWN:
                    self.towns.setdefault(key, (code, name))
                else:
                    self.villages.setdefault((parent or "", key), (code, name))

    def town(self, raw: str) -> tuple[str, str]:
        text = plain_text(raw)
        if not text:
            raise interop.CellError(_("The town is empty."))
        found = self.towns.get(text) or self.towns.get(local_core(text))
        if found is None:
            raise interop.CellError(
                _("“%(value)s” is not a town of your county.") % {"value": interop.cell_shown(text)}
            )
        return found

    def village(self, town: tuple[str, str], raw: str) -> tuple[str, str]:
        text = plain_text(raw)
        if not text:
            raise interop.CellError(_("The village is empty."))
        found = self.villages.get((town[0], text)) or self.villages.get((town[0], local_core(text)))
        if found is None:
            raise interop.CellError(
                _("“%(value)s” is not a village of %(town)s.")
                % {"value": interop.cell_shown(text), "town": town[1]}
            )
        return found


class RowReader:
    """Reads the rows of one roll: each field, or an error naming its column."""

    def __init__(self, header: Any, places: Places, today: date) -> None:
        self.columns: dict[str, int] = header.columns
        self.labels: dict[str, str] = header.labels
        self.places = places
        self.today = today

    def _cell(self, values: Sequence[Any], key: str) -> Any:
        index = self.columns[key]
        return values[index] if index < len(values) else None

    def _error(self, row: RollRow, key: str, message: str) -> None:
        row.errors.append(
            _("%(column)s: %(message)s") % {"column": self.labels.get(key, key), "message": message}
        )

    def read(self, line: int, values: Sequence[Any]) -> RollRow | None:
        """The row, or None for an empty one."""
        if not any(v is not None and str(v).strip() for v in values):
            return None
        row = RollRow(line)
        row.name = interop.cell_person_name(self._cell(values, "name"))
        if problem := name_error(row.name):
            self._error(row, "name", problem)
            row.name = row.name[:50]
        raw = idcard.normalise(interop.cell_compact(self._cell(values, "id_number")))
        if not raw:
            self._error(row, "id_number", _("The ID number is empty."))
        else:
            check = idcard.validate(raw, today=self.today)
            if check.ok:
                row.number = check.number
            else:
                for problem in check.errors:
                    self._error(row, "id_number", f"{idcard.mask(raw)}：{problem}")
        try:
            row.programme = parse_programme(self._cell(values, "programme"))
        except interop.CellError as exc:
            self._error(row, "programme", str(exc))
        try:
            row.month = parse_month(self._cell(values, "month"))
        except interop.CellError as exc:
            self._error(row, "month", str(exc))
        try:
            row.amount = parse_amount(self._cell(values, "amount"))
        except interop.CellError as exc:
            self._error(row, "amount", str(exc))
        try:
            town = self.places.town(interop.cell_text(self._cell(values, "town")))
            row.town, row.town_name = town
            try:
                row.village, row.village_name = self.places.village(
                    town, interop.cell_text(self._cell(values, "village"))
                )
            except interop.CellError as exc:
                self._error(row, "village", str(exc))
        except interop.CellError as exc:
            self._error(row, "town", str(exc))
        return row


# --- matching -------------------------------------------------------------------------


def _chunks[T](items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _children_by_hash(actor: User, hashes: Sequence[str]) -> dict[str, tuple[int, str, str]]:
    """id hash → (child pk, public id, village) of the files in the actor's scope: the registry
    is searched by the keyed hash, as its own look-ups are."""
    found: dict[str, tuple[int, str, str]] = {}
    for part in _chunks(hashes):
        for h, pk, public_id, village in (
            Child.objects.visible_to(actor)
            .filter(id_number_hash__in=part)
            .values_list("id_number_hash", "pk", "public_id", "village_id")
        ):
            if h is not None:
                found[h] = (pk, str(public_id), village)
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
        elif child[2] != row.village:
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
