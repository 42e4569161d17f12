"""Korean labels and the summary paragraph, written from the figures."""

from __future__ import annotations

from nms.inventory.models import Category
from nms.inventory.summary import CATEGORY_KO
from nms.reports.figures import Figures

NO_DATA = "데이터 없음"
OUTCOME_KO = {"connected": "연결", "busy": "통화 중(회선 부족)", "after-hours": "업무시간 외", "abandoned": "중도 포기",
              "unanswered": "무응답"}
KIND_KO = {"warning": "경고 안내", "termination": "강제 종료", "time-limit-end": "통화 시간 제한 종료"}
CATEGORIES = [c.value for c in Category]


def category_ko(value: str) -> str:
    try:
        return CATEGORY_KO[Category(value)]
    except ValueError:
        return value


def percent(ratio: float | None) -> str:
    return NO_DATA if ratio is None else f"{ratio * 100:.1f}%"


def number(value: float | None, digits: int = 0) -> str:
    return NO_DATA if value is None else f"{value:,.{digits}f}"


def size(octets: float | None) -> str:
    if octets is None:
        return NO_DATA
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if octets >= scale:
            return f"{octets / scale:,.1f} {unit}"
    return f"{octets:,.0f} B"


def change(now: float | None, before: float | None) -> str | None:
    """Percentage points, rounded as shown: "+0.3%p"."""
    if now is None or before is None:
        return None
    diff = round(now * 100, 1) - round(before * 100, 1)
    return f"{diff:+.1f}%p"


def summary(fig: Figures) -> str:
    p = fig.period
    if not fig.has_data:
        return (f"{p.title}에는 수집된 데이터가 없습니다. Prometheus에 이 기간의 기록이 없고 "
                "보호 조치 이벤트 저장소에도 기록이 없어, 수치를 0으로 표시하지 않고 '데이터 없음'으로 표시합니다.")
    parts = []
    if fig.availability is None:
        parts.append("공공와이파이 가용률 데이터가 없습니다.")
    else:
        delta = change(fig.availability, fig.availability_previous)
        trend = f", {p.previous_name} 대비 {delta}" if delta else f" ({p.previous_name} 데이터 없음)"
        parts.append(f"{p.title} 공공와이파이 AP 가용률 {percent(fig.availability)}{trend}.")
        known = {c: v for c, v in fig.availability_by_category.items() if v is not None}
        if known:
            low = min(known, key=lambda c: known[c])
            parts.append(f"가장 낮은 시설 구분은 {category_ko(low)} ({percent(known[low])}).")
        if fig.worst_sites:
            _sid, name, _, ratio = fig.worst_sites[0]
            parts.append(f"가용률이 가장 낮은 사이트는 {name} ({percent(ratio)}).")
    peaks = [v for v in fig.clients_peak.values() if v is not None]
    means = [v for v in fig.clients_mean.values() if v is not None]
    if means:
        parts.append(f"평균 동시 접속 {sum(means):,.0f}명, 시설 구분별 최대 동시 접속 합 {sum(peaks):,.0f}명.")
    traffic = [v for v in (*fig.traffic_in.values(), *fig.traffic_out.values()) if v is not None]
    if traffic:
        parts.append(f"총 트래픽 {size(sum(traffic))}.")
    if fig.calls is not None:
        total = sum(fig.calls.values())
        lines = f", 회선 최대 사용 {number(fig.lines_peak)}/{number(fig.lines_licensed)}회선" \
            if fig.lines_peak is not None else ""
        parts.append(f"민원 전화 {total:,}건 (연결 {fig.calls.get('connected', 0):,}건){lines}.")
    if fig.protection is not None:
        kinds = {k: sum(n for (_, kind), n in fig.protection.items() if kind == k) for k in KIND_KO}
        parts.append(f"직원 보호 조치 {sum(kinds.values()):,}건 ("
                     + ", ".join(f"{KIND_KO[k]} {n:,}" for k, n in kinds.items()) + ").")
    return " ".join(parts)
