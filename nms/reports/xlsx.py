"""The report as an Excel workbook: the PDF's tables, one sheet per section, and the days per category."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from nms.reports.figures import Figures
from nms.reports.tables import DAILY_HEADERS, DAILY_KINDS, Table, Value, all_tables, daily_rows
from nms.reports.text import CATEGORIES, NO_DATA, category_ko, summary

FORMATS = {"int": "#,##0", "number": "#,##0.0", "percent": "0.00%", "bytes": "#,##0", "text": "@"}
HEADER = PatternFill("solid", fgColor="DDE6F0")


def _cell(ws: Worksheet, row: int, col: int, value: Value, kind: str) -> None:
    cell = ws.cell(row=row, column=col, value=NO_DATA if value is None and kind != "text" else value)
    if value is not None and kind != "text":
        cell.number_format = FORMATS[kind]
        cell.alignment = Alignment(horizontal="right")


def _table(ws: Worksheet, row: int, table: Table) -> int:
    ws.cell(row=row, column=1, value=table.title).font = Font(bold=True, size=12)
    row += 1
    headers = [f"{h} (바이트)" if k == "bytes" else h for h, k in zip(table.headers, table.kinds, strict=True)]
    for col, header in enumerate(headers, start=1):
        cell = ws.cell(row=row, column=col, value=header)
        cell.font, cell.fill = Font(bold=True), HEADER
    for values in table.rows:
        row += 1
        for col, (value, kind) in enumerate(zip(values, table.kinds, strict=True), start=1):
            _cell(ws, row, col, value, kind)
    if table.note:
        row += 1
        ws.cell(row=row, column=1, value=table.note).font = Font(italic=True, size=9)
    return row + 2


def _widths(ws: Worksheet, widths: list[int]) -> None:
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w


def _daily(wb: Workbook, fig: Figures, category: str) -> None:
    ws = wb.create_sheet(f"일별_{category_ko(category)}")
    ws.cell(row=1, column=1, value=f"{category_ko(category)}: 일별 가용률·접속·트래픽").font = Font(bold=True, size=12)
    headers = [f"{h} (바이트)" if k == "bytes" else h for h, k in zip(DAILY_HEADERS, DAILY_KINDS, strict=True)]
    for col, header in enumerate(headers, start=1):
        cell = ws.cell(row=2, column=col, value=header)
        cell.font, cell.fill = Font(bold=True), HEADER
    rows = daily_rows(fig, category)
    for r, values in enumerate(rows, start=3):
        for col, (value, kind) in enumerate(zip(values, DAILY_KINDS, strict=True), start=1):
            # charts need numbers: an empty cell (not the words) where a day has no data
            cell = ws.cell(row=r, column=col, value=value)
            if value is not None and kind != "text":
                cell.number_format = FORMATS[kind]
    _widths(ws, [12, 10, 16, 16, 22])
    if not rows:
        return
    last = 2 + len(rows)
    dates = Reference(ws, min_col=1, min_row=3, max_row=last)
    clients = LineChart()
    clients.title, clients.y_axis.title, clients.height, clients.width = "동시 접속 (명)", "명", 7, 18
    clients.add_data(Reference(ws, min_col=3, max_col=4, min_row=2, max_row=last), titles_from_data=True)
    clients.set_categories(dates)
    ws.add_chart(clients, "G2")
    traffic = BarChart()
    traffic.title, traffic.y_axis.title, traffic.height, traffic.width = "트래픽 (바이트)", "바이트", 7, 18
    traffic.add_data(Reference(ws, min_col=5, min_row=2, max_row=last), titles_from_data=True)
    traffic.set_categories(dates)
    ws.add_chart(traffic, "G17")


def write_xlsx(fig: Figures, path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "요약"
    title = ws.cell(row=1, column=1, value=f"금천구 공공와이파이·민원전화 보고서 ({fig.period.title})")
    title.font = Font(bold=True, size=14)
    ws.cell(row=3, column=1, value=summary(fig)).alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells("A3:H12")
    _widths(ws, [14] * 8)
    sheets: dict[str, tuple[Worksheet, int]] = {}
    for table in all_tables(fig):
        sheet, row = sheets.get(table.sheet) or (wb.create_sheet(table.sheet), 1)
        sheets[table.sheet] = (sheet, _table(sheet, row, table))
    for sheet, _ in sheets.values():
        _widths(sheet, [18, 22, 16, 16, 16])
    for category in CATEGORIES:
        _daily(wb, fig, category)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
