"""The compliance report as an xlsx file (履职统计导出): the figures per division, per worker
and by risk level, and the children who missed an obligation. The headers are Chinese whatever
the page language, as the registry's export; the export is audited with the number of children it
lists.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from datetime import date
from typing import IO, Any

from django.db import transaction
from django.http import HttpRequest
from openpyxl import Workbook

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.audit.services import audit_record
from tongxin.core.periods import Period, format_period
from tongxin.core.xlsx import FORMULA_START, ExportedFile
from tongxin.geo.models import Division
from tongxin.visits import rules
from tongxin.visits.compliance import (
    ALL_OBLIGATIONS,
    CHILD_UNIT_OBLIGATIONS,
    LEVELS,
    WORKER_ROLES,
    ComplianceReport,
    Figures,
    compliance_report,
)
from tongxin.visits.rules import OBLIGATIONS, Obligation

# Chinese whatever the page language, as the registry's export (registry/exports.py).
OBLIGATION_HEADERS = {
    Obligation.MONTHLY_CONTACT: "每月联系",
    Obligation.QUARTERLY_HOME_VISIT: "每季度入户走访",
    Obligation.YEARLY_FAMILY_CONTACT: "每年家庭联系",
}
UNIT_HEADERS = {False: "儿童", True: "家庭"}
RISK_HEADERS = {
    rules.RiskLevel.LOW: "低风险",
    rules.RiskLevel.MEDIUM: "中风险",
    rules.RiskLevel.HIGH: "高风险",
}
ROLE_HEADERS: dict[str, str] = {
    Role.VILLAGE_DIRECTOR: "儿童主任",
    Role.TOWN_SUPERVISOR: "儿童督导员",
}


def _text(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_START) else value


def _figure_cells(
    figures: dict[Obligation, Figures], obligations: Iterable[Obligation]
) -> list[Any]:
    cells: list[Any] = []
    for ob in obligations:
        f = figures.get(ob)
        if f is None:
            cells += ["", "", ""]
        else:
            cells += [f.counted, f.met, round(100 * f.rate, 1) if f.rate is not None else ""]
    return cells


def write_report(report: ComplianceReport, out: IO[bytes]) -> int:
    """The report as xlsx: the figures per division, per worker, and the misses. Returns the
    number of children listed among the misses."""
    book = Workbook(write_only=True)
    figure_headers = [
        f"{OBLIGATION_HEADERS[ob]}{suffix}"
        for ob in ALL_OBLIGATIONS
        for suffix in (
            f"应统计{UNIT_HEADERS[OBLIGATIONS[ob].per_household]}数",
            "已完成数",
            "完成率(%)",
        )
    ]
    summary = book.create_sheet("汇总")
    summary.append([f"{report.division.name} 履职统计 {format_period(report.period)}"])
    if report.as_of is not None:
        summary.append([f"统计截至 {report.as_of.isoformat()}"])
    summary.append(["区划代码", "区划名称", *figure_headers])
    totals = {ob: result.total for ob, result in report.obligations.items()}
    summary.append(
        [
            report.division.code,
            _text(f"{report.division.name}（合计）"),
            *_figure_cells(totals, ALL_OBLIGATIONS),
        ]
    )
    for row in report.rows:
        summary.append(
            [
                row.division.code,
                _text(row.division.name),
                *_figure_cells(row.figures, ALL_OBLIGATIONS),
            ]
        )
    people = book.create_sheet("按人员")
    people.append(["人员", "角色", "负责区划代码", "负责区划", *figure_headers])
    for worker_row in report.workers:
        worker = worker_row.worker
        role = (
            ROLE_HEADERS.get(worker.role, worker.role)
            if worker
            else "、".join(sorted({ROLE_HEADERS[WORKER_ROLES[ob]] for ob in worker_row.figures}))
        )
        people.append(
            [
                _text(worker.name or worker.username) if worker else "（无在岗人员）",
                role,
                worker_row.division.code,
                _text(worker_row.division.name),
                *_figure_cells(worker_row.figures, ALL_OBLIGATIONS),
            ]
        )
    levels = book.create_sheet("按风险等级")
    risk_day = rules.report_day(report.period, report.as_of).isoformat()
    levels.append([f"按 {risk_day} 当日的风险等级统计"])
    levels.append(["风险等级", *figure_headers[: 3 * len(CHILD_UNIT_OBLIGATIONS)]])
    for level in reversed(LEVELS):
        by_level = {ob: report.obligations[ob].by_risk[level] for ob in CHILD_UNIT_OBLIGATIONS}
        levels.append([RISK_HEADERS[level], *_figure_cells(by_level, CHILD_UNIT_OBLIGATIONS)])
    misses = book.create_sheet("未完成名单")
    misses.append(
        [
            "义务",
            "档案编号",
            "姓名",
            "村（社区）代码",
            "村（社区）",
            "家庭编号",
            "未完成期间",
            "风险等级",
        ]
    )
    rows = 0
    for ob in ALL_OBLIGATIONS:
        for miss in report.obligations[ob].unmet:
            misses.append(
                [
                    OBLIGATION_HEADERS[ob],
                    str(miss.child),
                    _text(miss.name),
                    miss.village,
                    _text(report.village_names.get(miss.village, "")),
                    str(miss.household),
                    "、".join(format_period(p) for p in miss.missed),
                    RISK_HEADERS[miss.risk],
                ]
            )
            rows += 1
    book.save(out)
    return rows


def compliance_export(
    *,
    actor: User,
    division: Division,
    period: Period,
    as_of: date | None,
    request: HttpRequest | None = None,
) -> ExportedFile:
    """The report as an xlsx file, audited with the number of children it lists."""
    report = compliance_report(division, period, as_of=as_of)
    out = tempfile.TemporaryFile()  # noqa: SIM115  # handed to the response, which closes it
    try:
        rows = write_report(report, out)
        out.seek(0)
        with transaction.atomic():
            audit_record(
                actor=actor,
                action="compliance.export",
                object_type="division",
                object_code=division.code,
                division_code=division.code,
                request=request,
                detail={"rows": rows, "period": format_period(period)},
            )
    except BaseException:
        out.close()
        raise
    filename = f"compliance-{division.code}-{format_period(period)}.xlsx"
    return ExportedFile(file=out, filename=filename, rows=rows)
