"""The list of children as an xlsx file (台账导出).

The headers are the national registration form's own (农村留守儿童基本情况登记表), in Chinese
whatever the page language, so that the file reads like the ledgers counties already keep.
Rows are streamed from the database into a write-only workbook: memory stays flat however many
children the filters match.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import IO

from django.conf import settings
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from tongxin.accounts.models import User
from tongxin.audit.models import AuditEvent, Result
from tongxin.audit.services import audit_record
from tongxin.core.xlsx import ExportedFile, text_cell
from tongxin.exports.services import ExportRefused
from tongxin.lib import crypto, idcard
from tongxin.registry import rules
from tongxin.registry.models import Child
from tongxin.registry.selectors import ChildFilters, age_on, children_for_list

SHEET_TITLE = "儿童名单"
HEADERS = (
    "档案编号",
    "姓名",
    "性别",
    "民族",
    "出生日期",
    "年龄",
    "公民身份证号码",
    "乡镇（街道）",
    "村（社区）",
    "就学情况",
    "在学状态",
    "学校",
    "年级",
    "儿童类别",
    "农村留守儿童",
    "困境儿童",
    "档案状态",
    "登记日期",
)
COLUMN_WIDTHS = (38, 10, 6, 8, 12, 6, 22, 14, 14, 12, 10, 20, 8, 30, 12, 10, 10, 12)
_CHUNK = 2000


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


def _id_number(child: Child, full_ids: bool) -> str:
    if not child.id_number_enc:
        return ""
    number = crypto.decrypt(child.id_number_enc)
    return number if full_ids else idcard.mask(number)


def write_children(
    children: QuerySet[Child], out: IO[bytes], *, full_ids: bool, today: date | None = None
) -> int:
    """Write ``children`` to ``out`` as xlsx, streaming them; the number of rows written."""
    today = today or timezone.localdate()
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_TITLE)
    for index, width in enumerate(COLUMN_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "C2"
    sheet.append(HEADERS)
    rows = 0
    # Choice labels in Chinese, as the headers are.
    with translation.override("zh-hans"):
        for c in children.select_related("village", "village__parent").iterator(chunk_size=_CHUNK):
            village = c.village
            town = village.parent.name if village.parent_id and village.parent else ""
            categories = "、".join(
                rules.CATEGORY_LABELS.get(code, code) for code in c.category_codes
            )
            sheet.append(
                [
                    str(c.public_id),
                    text_cell(sheet, c.name),
                    c.get_gender_display(),
                    text_cell(sheet, c.ethnicity),
                    c.birth_date,
                    age_on(c.birth_date, today),
                    _id_number(c, full_ids),
                    town,
                    village.name,
                    c.get_school_stage_display(),
                    c.get_enrolment_display(),
                    text_cell(sheet, c.school),
                    text_cell(sheet, c.grade),
                    categories,
                    _yes_no(c.left_behind),
                    _yes_no(c.in_difficulty),
                    c.get_status_display(),
                    c.registered_on,
                ]
            )
            rows += 1
    book.save(out)
    return rows


class FullIdReason(models.TextChoices):
    """Why a list is exported with full ID numbers: one of a fixed few, kept (as its code) in
    the audit entry of the export."""

    TRANSFER_CHECK = "transfer_check", gettext_lazy("Checking a school transfer or a move")
    DEPARTMENT_MATCH = "department_match", gettext_lazy("Matching another department's data")
    SUPERVISION = "supervision", gettext_lazy("Inspection by a higher authority")
    POLICE_COURT = "police_court", gettext_lazy("Assisting the police or a court")
    BENEFITS = "benefits", gettext_lazy("Checking eligibility for assistance")


REVEAL_EXPORT = "child.id_reveal_export"


def full_id_daily_cap() -> int:
    return int(settings.TONGXIN_FULL_ID_EXPORT_DAILY_CAP)


def full_ids_exported_today(actor: User) -> int:
    """How many full ID numbers ``actor`` has exported since midnight (local time), read from
    the audit trail: the count holds whichever process or worker wrote the files."""
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    details = AuditEvent.objects.filter(
        actor=actor, action=REVEAL_EXPORT, result=Result.OK, at__gte=midnight
    ).values_list("detail", flat=True)
    total = 0
    for detail in details:
        if isinstance(detail, dict):
            total += int(detail.get("ids", detail.get("rows")) or 0)
    return total


def full_ids_left_today(actor: User) -> int:
    return max(full_id_daily_cap() - full_ids_exported_today(actor), 0)


def id_numbers_in(children: QuerySet[Child]) -> int:
    """How many of ``children`` have an ID number on file (what a full export reveals)."""
    return children.filter(id_number_hash__isnull=False).order_by().count()


class FullIdCapReached(ExportRefused):
    """The export would take the user past the day's cap of full ID numbers: refused whole."""

    def __init__(self, *, cap: int, left: int, asked: int) -> None:
        super().__init__(
            _(
                "You may export at most %(cap)d full ID numbers a day. %(left)d remain for "
                "today, and this list holds %(asked)d: narrow the list, or export it with the "
                "numbers masked."
            )
            % {"cap": cap, "left": left, "asked": asked}
        )
        self.cap, self.left, self.asked = cap, left, asked


def _cap_check(actor: User, children: QuerySet[Child]) -> int:
    """The count of numbers a full export of ``children`` reveals, if within the day's cap."""
    ids, left = id_numbers_in(children), full_ids_left_today(actor)
    if ids > left:
        raise FullIdCapReached(cap=full_id_daily_cap(), left=left, asked=ids)
    return ids


def full_id_cap_check(
    *, actor: User, children: QuerySet[Child], reason: str, request: HttpRequest | None = None
) -> None:
    """Refuse (``FullIdCapReached``, audited) a full export of ``children`` beyond the day's
    cap, before it is queued; the worker checks it again when it writes the file."""
    try:
        _cap_check(actor, children)
    except FullIdCapReached as refused:
        full_id_export_refused(
            actor=actor,
            reason=reason,
            why="cap",
            request=request,
            asked=refused.asked,
            left=refused.left,
        )
        raise


class TooManyWrongAnswers(Exception):
    """The password (or code) was wrong as often as sign-in allows (``AXES_FAILURE_LIMIT``)
    within its cool-off: the form is refused until then, so that it cannot serve to guess a
    password that the sign-in page would have locked."""

    def __init__(self, retry_at: datetime) -> None:
        super().__init__(
            _("Too many wrong answers. Try again after %(time)s.")
            % {"time": f"{timezone.localtime(retry_at):%H:%M}"}
        )


def full_id_export_check_attempts(actor: User) -> None:
    """Raise ``TooManyWrongAnswers`` after as many wrong answers on the form as sign-in allows
    within its cool-off, counted from the audit trail."""
    cooloff: timedelta = settings.AXES_COOLOFF_TIME
    failures = list(
        AuditEvent.objects.filter(
            actor=actor,
            action=REVEAL_EXPORT,
            result=Result.FAILED,
            at__gte=timezone.now() - cooloff,
        )
        .order_by("-at")
        .values_list("at", flat=True)[: settings.AXES_FAILURE_LIMIT]
    )
    if len(failures) >= settings.AXES_FAILURE_LIMIT:
        raise TooManyWrongAnswers(failures[0] + cooloff)


def full_id_export_refused(
    *,
    actor: User,
    reason: str,
    why: str,
    request: HttpRequest | None = None,
    ip: str | None = None,
    **detail: int,
) -> None:
    """Audit a refused export of full ID numbers: ``why`` is ``credentials`` (the password or
    code was wrong) or ``cap`` (the day's cap)."""
    audit_record(
        actor=actor,
        action=REVEAL_EXPORT,
        object_type="child",
        division_code=actor.division_id or "",
        request=request,
        ip=ip,
        result=Result.FAILED if why == "credentials" else Result.DENIED,
        detail={"reason": reason, "why": why, **detail},
    )


def children_export(
    *,
    actor: User,
    filters: ChildFilters,
    full_ids: bool = False,
    reason: str = "",
    request: HttpRequest | None = None,
    ip: str | None = None,
) -> ExportedFile:
    """The children ``actor`` may see, narrowed by ``filters``, as an xlsx file. ID numbers
    are masked unless ``full_ids`` is asked by a role that may reveal them, with a ``reason``
    (``FullIdReason``), and the numbers stay within the day's cap (``FullIdCapReached``,
    checked under a lock on the user's row, so that two exports at once cannot both pass it).
    The caller has confirmed the user's identity. The export is audited with its row count
    and filters (never the search text), and a full-number export once more as a reveal,
    with the count of numbers and the reason. ``ip``: the address that asked, when the
    worker writes it."""
    full_ids = full_ids and actor.reveals_id_numbers
    if full_ids and reason not in FullIdReason.values:
        raise ValueError("an export of full ID numbers needs a reason")
    today = timezone.localdate()
    children = children_for_list(actor, filters, today=today)
    out = tempfile.TemporaryFile()  # noqa: SIM115  # handed to the response, which closes it
    try:
        with transaction.atomic():
            ids = 0
            if full_ids:
                User.objects.select_for_update().filter(pk=actor.pk).first()
                ids = _cap_check(actor, children)
            rows = write_children(children, out, full_ids=full_ids, today=today)
            out.seek(0)
            detail = {"rows": rows, "filters": filters.as_audit_detail(), "full_ids": full_ids}
            audit_record(
                actor=actor,
                action="child.export",
                object_type="child",
                division_code=actor.division_id or "",
                request=request,
                ip=ip,
                detail=detail,
            )
            if full_ids:
                audit_record(
                    actor=actor,
                    action=REVEAL_EXPORT,
                    object_type="child",
                    division_code=actor.division_id or "",
                    request=request,
                    ip=ip,
                    detail={"rows": rows, "ids": ids, "reason": reason},
                )
    except FullIdCapReached as refused:
        out.close()
        full_id_export_refused(
            actor=actor,
            reason=reason,
            why="cap",
            request=request,
            ip=ip,
            asked=refused.asked,
            left=refused.left,
        )
        raise
    except BaseException:
        out.close()
        raise
    return ExportedFile(file=out, filename=f"children-{today:%Y%m%d}.xlsx", rows=rows)


def children_write(actor: User, params: Mapping[str, str], ip: str | None) -> ExportedFile:
    """The list of children as the worker writes it (``exports`` kind ``children``): the
    query the list was exported with, read again as the page reads it. A full-number export
    carries the reason it was asked with, and meets the day's cap here as inline."""
    filters, _errors = ChildFilters.parse(params)
    filters = replace(filters, id_hash=params.get("id_hash", ""))
    return children_export(
        actor=actor,
        filters=filters,
        full_ids=params.get("full_ids") == "1",
        reason=params.get("reason", ""),
        ip=ip,
    )
