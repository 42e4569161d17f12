"""The report's tables, built once from the figures and drawn by both the PDF and the Excel writer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nms.reports.figures import Figures
from nms.reports.period import SEOUL
from nms.reports.text import CATEGORIES, KIND_KO, NO_DATA, OUTCOME_KO, category_ko, number, percent, size

Value = str | int | float | None
#: Column kinds: how a value is shown (PDF) and formatted (Excel).
KINDS = ("text", "int", "number", "percent", "bytes")


@dataclass(frozen=True)
class Table:
    sheet: str  # Excel sheet (and PDF section) it belongs to
    title: str
    headers: list[str]
    kinds: list[str]
    rows: list[list[Value]]
    note: str = ""


def show(value: Value, kind: str) -> str:
    if value is None:
        return NO_DATA
    if kind == "percent":
        return percent(float(value))
    if kind == "bytes":
        return size(float(value))
    if kind == "int":
        return number(float(value))
    if kind == "number":
        return number(float(value), 1)
    return str(value)


def _total(rows: list[list[Value]], columns: range) -> list[Value]:
    return ["합계", *(sum(int(r[i] or 0) for r in rows) for i in columns)]


def inventory(fig: Figures) -> list[Table]:
    out = []
    for key, title, first in (("by_category", "시설 구분별 공공와이파이 현황", "시설 구분"),
                              ("by_year", "설치 연도별 공공와이파이 현황", "설치 연도")):
        rows: list[list[Value]] = [[category_ko(label) if key == "by_category" else label,
                                    v["sites"], v["aps"], v["planned_aps"]] for label, v in fig.inventory[key].items()]
        rows.append(_total(rows, range(1, 4)))
        out.append(Table("시설현황", title, [first, "사이트", "AP (설치)", "AP (계획)"], ["text", "int", "int", "int"],
                         rows, note=f"{fig.period.days()[-1]} 기준 (계획 AP 포함)"))
    return out


def availability(fig: Figures) -> list[Table]:
    cats = [[category_ko(c), fig.availability_by_category.get(c)] for c in CATEGORIES]
    cats.append(["전체", fig.availability])
    groups: list[list[Value]] = [[g, v] for g, v in fig.availability_by_group.items()] or [[NO_DATA, None]]
    worst: list[list[Value]] = [[i, name, sid, category_ko(cat), ratio]
                                for i, (sid, name, cat, ratio) in enumerate(fig.worst_sites, start=1)]
    return [
        Table("가용률", "시설 구분별 AP 가용률", ["시설 구분", "가용률"], ["text", "percent"], cats,
              note="AP별 SNMP 응답 시간 비율의 평균 (15분 기록 규칙)"),
        Table("가용률", "설치 연도 그룹별 AP 가용률", ["설치 연도", "가용률"], ["text", "percent"], groups),
        Table("가용률", "가용률 하위 10개 사이트", ["순위", "사이트", "사이트 ID", "시설 구분", "가용률"],
              ["int", "text", "text", "text", "percent"], worst or [[None, NO_DATA, "", "", None]]),
    ]


def use(fig: Figures) -> list[Table]:
    rows: list[list[Value]] = [[category_ko(c), fig.clients_mean.get(c), fig.clients_peak.get(c),
                                fig.traffic_in.get(c), fig.traffic_out.get(c)] for c in CATEGORIES]
    return [Table("이용현황", "시설 구분별 이용 현황", ["시설 구분", "평균 동시 접속", "최대 동시 접속", "수신 트래픽",
                                                  "송신 트래픽"], ["text", "number", "int", "bytes", "bytes"], rows)]


def telephony(fig: Figures) -> list[Table]:
    lines = Table("전화", "전화 회선 사용", ["항목", "회선"], ["text", "number"],
                  [["최대 동시 사용", fig.lines_peak], ["평균 동시 사용", fig.lines_mean],
                   ["보유 회선", fig.lines_licensed]])
    if fig.calls is None:
        call_rows: list[list[Value]] = [[NO_DATA, None]]
    else:
        call_rows = [[OUTCOME_KO.get(o, o), n] for o, n in fig.calls.items()]
        call_rows.append(_total(call_rows, range(1, 2)))
    calls = Table("전화", "결과별 통화 건수", ["결과", "건수"], ["text", "int"], call_rows)
    if fig.protection is None:
        prot_rows: list[list[Value]] = [[NO_DATA, "", None]]
    else:
        prot_rows = [[dept, KIND_KO.get(kind, kind), n] for (dept, kind), n in sorted(fig.protection.items())]
        prot_rows.append(["합계", "", sum(fig.protection.values())])
    protection = Table("전화", "부서·유형별 직원 보호 조치", ["부서", "유형", "건수"], ["text", "text", "int"],
                       prot_rows, note="건수만 표시합니다 (발신번호 등 개인정보 없음)")
    return [lines, calls, protection]


def all_tables(fig: Figures) -> list[Table]:
    return [*inventory(fig), *availability(fig), *use(fig), *telephony(fig)]


def daily_rows(fig: Figures, category: str) -> list[list[Value]]:
    """Per day of the period: availability, mean and peak clients, traffic (bytes)."""
    out: list[list[Value]] = []
    last = datetime.fromtimestamp(fig.end - 1e-3, SEOUL).date()
    for day in fig.period.days():
        if day > last:
            break
        out.append([day.isoformat(), fig.availability_daily.get(category, {}).get(day),
                    fig.clients_mean_daily.get(category, {}).get(day),
                    fig.clients_peak_daily.get(category, {}).get(day),
                    fig.traffic_daily.get(category, {}).get(day)])
    return out


DAILY_HEADERS = ["날짜", "가용률", "평균 동시 접속", "최대 동시 접속", "트래픽 (송수신)"]
DAILY_KINDS = ["text", "percent", "number", "int", "bytes"]
