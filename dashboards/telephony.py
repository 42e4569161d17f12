"""Telephony: the 60-line auto-answer system (행정전화 자동응답시스템) and its staff-protection events.

Call and protection-event counts are evidence, so they are whole numbers counted in the IVR's event
store (SQLite) for the local day: ``nms_ivr_calls_today`` and ``nms_ivr_protection_events_today``,
computed at scrape time. ``increase()`` over the counters would extrapolate (1.2, 9.3 calls); the
counters remain for rates and alerts.
"""

from __future__ import annotations

from dashboards import drill
from dashboards.model import Dashboard, Link, Panel, Row, Target, Variable, dashboard_url
from dashboards.promql import WINDOW

_DEPT = 'department=~"$department"'
_TODAY = "nms_ivr_protection_events_today"
_CALLS_TODAY = "nms_ivr_calls_today"
_NAMES = "max by (department, name) (nms_ivr_department_info)"
_STEPS = {"lineInterpolation": "stepAfter", "fillOpacity": 20}


def _named(expr: str) -> str:
    """Adds each department's Korean name (``name``) from ``nms_ivr_department_info``."""
    return f"({expr}) * on (department) group_left (name) {_NAMES}"


def lines_gauge(width: int, height: int) -> Panel:
    """Lines in use out of the licensed lines: the gauge's max comes from ``nms_ivr_lines``."""
    return Panel("통화 중 회선 · Lines in use", "gauge", [
        Target("sum(nms_ivr_lines_in_use)", "in use", instant=True),
        Target("sum(nms_ivr_lines)", "licensed", instant=True),
    ], width=width, height=height, unit="short", min=0, decimals=0,
        thresholds=[(None, "green"), (80, "yellow"), (100, "red")], options={"reduceOptions": {"fields": "/in use/"}},
        transformations=[{"id": "configFromData", "options": {
            "configRefId": "B", "mappings": [{"fieldName": "licensed", "handlerKey": "max"}]}}],
        thresholds_mode="percentage",
        description="Inbound calls holding a licensed line (the maximum is nms_ivr_lines); yellow from 80%. The "
                    "caller after the last line hears the busy announcement.")


def _busy_share(window: str) -> str:
    return (f'sum(increase(nms_ivr_calls_total{{outcome="busy"}}[{window}])) '
            f"/ clamp_min(sum(increase(nms_ivr_calls_total[{window}])), 1)")


def dashboard() -> Dashboard:
    lines = Row("회선 · Lines", [
        lines_gauge(width=6, height=8),
        Panel("회선 사용 추이 · Lines in use over time", "timeseries", [
            Target("sum(nms_ivr_lines_in_use)", "통화 중 in use"),
            Target("sum(nms_ivr_lines)", "라이선스 licensed"),
        ], width=12, height=8, unit="short", decimals=0, min=0),
        Panel("오늘 통화 중 비율 · Busy share today", "stat", [Target(
            f'sum({_CALLS_TODAY}{{outcome="busy"}}) / clamp_min(sum({_CALLS_TODAY}), 1)', instant=True)],
            width=6, height=8, unit="percentunit", thresholds=[(None, "green"), (0.05, "yellow"), (0.2, "red")],
            description="Calls that found every line busy, over all calls ended since local midnight."),
        Panel("시간당 통화 중 비율 · Busy share per hour", "timeseries", [Target(_busy_share("1h"), "busy share")],
              width=24, height=6, unit="percentunit", min=0, max=1,
              thresholds=[(None, "green"), (0.05, "yellow"), (0.2, "red")]),
    ])
    calls = Row("통화 (오늘) · Calls today", [
        Panel("결과별 오늘 통화 누계 · Calls today by outcome, running total", "timeseries", [Target(
            f"sum by (outcome) ({_CALLS_TODAY})", "{{outcome}}")],
            width=12, height=8, unit="short", decimals=0, min=0, custom=_STEPS,
            description="Calls ended since local midnight, counted in the event store: connected, busy, "
                        "after-hours, abandoned, unanswered. Each step is a call."),
        Panel("오늘 결과 비중 · Outcome share today", "piechart", [Target(
            f"sum by (outcome) ({_CALLS_TODAY})", "{{outcome}}", instant=True)],
            width=6, height=8, unit="short", decimals=0),
        Panel("오늘 전체 통화 · Calls today", "stat", [Target(f"sum({_CALLS_TODAY})", instant=True)],
              width=6, height=8, unit="short", decimals=0, color="blue", options={"colorMode": "value"}),
    ])
    protection = Row("직원 보호 (오늘) · Staff protection today", [
        Panel("부서·유형별 오늘 보호 조치 · Protection events today by department and kind", "bargauge", [Target(
            _named(f"sum by (department, kind) ({_TODAY}{{{_DEPT}}})"), "{{name}} {{kind}}", instant=True)],
            width=12, height=8, unit="short", decimals=0, min=0, thresholds=[(None, "green"), (1, "orange")],
            description="warning: the staff pressed the warning key; termination: the last warning ended the call; "
                        "time-limit-end: the call reached the maximum consultation time. Counted in the event "
                        "store since local midnight."),
        Panel("유형별 오늘 누계 · Protection events today, running total", "timeseries", [Target(
            f"sum by (kind) ({_TODAY}{{{_DEPT}}})", "{{kind}}")],
            width=12, height=8, unit="short", decimals=0, min=0, custom=_STEPS),
        Panel("오늘 보호 조치 · Protection events today", "stat", [Target(
            f"sum({_TODAY}{{{_DEPT}}})", instant=True)],
            width=6, height=6, unit="short", decimals=0, thresholds=[(None, "green"), (1, "orange")]),
        Panel("오늘 통화 시간 제한 종료 · Time-limit endings today", "stat", [Target(
            f'sum({_TODAY}{{kind="time-limit-end",{_DEPT}}})', instant=True)],
            width=6, height=6, unit="short", decimals=0, thresholds=[(None, "green"), (1, "yellow")],
            description="Calls ended at the maximum consultation time (민원처리법 시행령)."),
        Panel("부서별 오늘 시간 제한 종료 · Time-limit endings today by department", "timeseries", [Target(
            _named(f'sum by (department) ({_TODAY}{{kind="time-limit-end",{_DEPT}}})'), "{{name}}")],
            width=12, height=6, unit="short", decimals=0, min=0, custom=_STEPS),
    ])
    ami = Row("AMI 연결 · Asterisk manager connection", [
        Panel("AMI 연결 · AMI connected", "stat", [Target("min(nms_ivr_ami_connected)", instant=True)],
              width=4, height=7, unit="none", mappings={"1": ("연결됨", "green"), "0": ("끊김", "red")},
              thresholds=[(None, "red"), (1, "green")]),
        Panel("통신사 트렁크 · Carrier trunk", "stat", [
            Target("max by (trunk) (nms_ivr_trunk_reachable)", "{{trunk}} 응답 reachable", instant=True),
            Target("max by (trunk) (nms_ivr_trunk_registered)", "{{trunk}} 등록 registered", instant=True)],
            width=4, height=7, unit="none", mappings={"1": ("정상", "green"), "0": ("장애", "red")},
            thresholds=[(None, "red"), (1, "green")],
            description="Whether the carrier answers OPTIONS and (with registration configured) accepts the "
                        "trunk's registration."),
        Panel("AMI 재연결 · AMI logins in the period", "stat", [Target(
            "round(sum(increase(nms_ivr_ami_connects_total[$__range])))", instant=True)], width=4, height=7,
            unit="short", decimals=0, thresholds=[(None, "green"), (2, "yellow")],
            description="More than one means the connection was lost (rounded: Prometheus extrapolates)."),
        Panel("이벤트 지연 · AMI event lag", "timeseries", [
            Target(f"histogram_quantile(0.5, sum by (le) (rate(nms_ivr_event_lag_seconds_bucket[{WINDOW}])))", "p50"),
            Target(f"histogram_quantile(0.99, sum by (le) (rate(nms_ivr_event_lag_seconds_bucket[{WINDOW}])))",
                   "p99"),
        ], width=12, height=7, unit="s", thresholds=[(None, "green"), (0.05, "yellow")],
            custom={"thresholdsStyle": {"mode": "line"}},
            description="From an AMI event's timestamp to the end of its handling by the controller; goal 50 ms."),
    ])
    return Dashboard(
        uid="nms-telephony", title="전화 · Telephony",
        description="행정전화 자동응답시스템: lines, call outcomes and staff-protection events of the day, the AMI "
                    "connection.",
        rows=[lines, calls, protection, ami], tags=["telephony", "ivr"], time_from="now/d",
        links=[Link("NOC 종합 · Overview", dashboard_url(drill.OVERVIEW))],
        annotations=[drill.config_change_annotation()],
        variables=[Variable("department", "부서 (department)", f"query_result({_NAMES})",
                            regex=drill.DEPARTMENT_NAME_REGEX)])
