"""The list of children as an xlsx file (台账导出).

The headers are the national registration form's own (农村留守儿童基本情况登记表), in Chinese
whatever the page language, so that the file reads like the ledgers counties already keep.
Rows are streamed from the database into a write-only workbook: memory stays flat however many
children the filters match.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from datetime import date
from typing import IO

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone, translation
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from tongxin.accounts.models import User
from tongxin.audit.services import audit_record
from tongxin.core.xlsx import ExportedFile, text_cell
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


def children_export(
    *,
    actor: User,
    filters: ChildFilters,
    full_ids: bool = False,
    request: HttpRequest | None = None,
    ip: str | None = None,
) -> ExportedFile:
    """The children ``actor`` may see, narrowed by ``filters``, as an xlsx file. ID numbers
    are masked unless ``full_ids`` is asked by a role that may reveal them. The export is
    audited with its row count and filters (never the search text), and a full-number export
    once more as a reveal. ``ip``: the address that asked, when the worker writes it."""
    full_ids = full_ids and actor.reveals_id_numbers
    today = timezone.localdate()
    out = tempfile.TemporaryFile()  # noqa: SIM115  # handed to the response, which closes it
    try:
        rows = write_children(
            children_for_list(actor, filters, today=today), out, full_ids=full_ids, today=today
        )
        out.seek(0)
        with transaction.atomic():
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
                    action="child.id_reveal_export",
                    object_type="child",
                    division_code=actor.division_id or "",
                    request=request,
                    detail={"rows": rows},
                )
    except BaseException:
        out.close()
        raise
    return ExportedFile(file=out, filename=f"children-{today:%Y%m%d}.xlsx", rows=rows)


def children_write(actor: User, params: Mapping[str, str], ip: str | None) -> ExportedFile:
    """The list of children as the worker writes it (``exports`` kind ``children``): the
    query the list was exported with, read again as the page reads it."""
    filters, _errors = ChildFilters.parse(params)
    return children_export(
        actor=actor, filters=filters, full_ids=params.get("full_ids") == "1", ip=ip
    )
