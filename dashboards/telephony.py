"""Telephony: the 60-line auto-answer system (행정전화 자동응답시스템) and its staff-protection events."""

from __future__ import annotations

from dashboards.model import Dashboard, Panel, Row, Target, Variable
from dashboards.promql import RATE

_DEPT = 'department=~"$department"'
_EVENTS = "nms_ivr_protection_events_total"


def _busy_share(window: str) -> str:
    return (f'sum(increase(nms_ivr_calls_total{{outcome="busy"}}[{window}])) '
            f"/ clamp_min(sum(increase(nms_ivr_calls_total[{window}])), 1)")


_BARS = {"drawStyle": "bars", "fillOpacity": 80, "stacking": {"group": "A", "mode": "normal"}}


def dashboard() -> Dashboard:
    lines = Row("회선 · Lines", [
        Panel("통화 중 회선 · Lines in use", "gauge", [Target("sum(nms_ivr_lines_in_use)", instant=True)],
              width=6, height=8, min=0, max=60, decimals=0, thresholds=[(None, "green"), (48, "yellow"), (60, "red")],
              description="Inbound calls holding one of the 60 licensed lines; the 61st caller hears the busy "
                          "announcement."),
        Panel("회선 사용 추이 · Lines in use over time", "timeseries", [
            Target("sum(nms_ivr_lines_in_use)", "통화 중 in use"),
            Target("sum(nms_ivr_lines)", "라이선스 licensed"),
        ], width=12, height=8, unit="short", decimals=0, min=0),
        Panel("통화 중 비율 · Busy rate", "stat", [Target(_busy_share("$__range"), instant=True)],
              width=6, height=8, unit="percentunit", thresholds=[(None, "green"), (0.05, "yellow"), (0.2, "red")],
              description="Calls that found every line busy, over all ended calls, in the period."),
        Panel("시간당 통화 중 비율 · Busy rate per hour", "timeseries", [Target(_busy_share("1h"), "busy share")],
              width=24, height=6, unit="percentunit", min=0, max=1),
    ])
    calls = Row("통화 · Calls", [
        Panel("결과별 통화 · Calls by outcome", "timeseries", [Target(
            "sum by (outcome) (increase(nms_ivr_calls_total[$__interval]))", "{{outcome}}")],
            width=12, height=8, unit="short", decimals=0, custom=_BARS,
            description="connected, busy, after-hours, abandoned, unanswered."),
        Panel("결과 비중 · Outcome share", "piechart", [Target(
            "sum by (outcome) (increase(nms_ivr_calls_total[$__range]))", "{{outcome}}", instant=True)],
            width=6, height=8, unit="short", decimals=0),
        Panel("전체 통화 · Calls in the period", "stat", [Target(
            "sum(increase(nms_ivr_calls_total[$__range]))", instant=True)], width=6, height=8, decimals=0,
            color="blue", options={"colorMode": "value"}),
    ])
    protection = Row("직원 보호 · Staff protection", [
        Panel("부서·유형별 보호 조치 · Protection events by department and kind", "bargauge", [Target(
            f"sum by (department, kind) (increase({_EVENTS}{{{_DEPT}}}[$__range]))", "{{department}} {{kind}}",
            instant=True)], width=12, height=8, decimals=0, min=0, thresholds=[(None, "orange")],
            description="warning: the staff pressed the warning key; termination: the last warning ended the call; "
                        "time-limit-end: the call reached the maximum consultation time."),
        Panel("유형별 추이 · Protection events over time", "timeseries", [Target(
            f"sum by (kind) (increase({_EVENTS}{{{_DEPT}}}[$__interval]))", "{{kind}}")],
            width=12, height=8, unit="short", decimals=0, custom=_BARS),
        Panel("오늘 보호 조치 · Protection events today", "stat", [Target(
            f"sum(increase({_EVENTS}{{{_DEPT}}}[$__range])) or vector(0)", instant=True)],
            width=6, height=6, decimals=0, time_from="now/d", thresholds=[(None, "green"), (1, "orange")]),
        Panel("통화 시간 제한 종료 · Time-limit endings", "stat", [Target(
            f'sum(increase({_EVENTS}{{kind="time-limit-end",{_DEPT}}}[$__range])) or vector(0)', instant=True)],
            width=6, height=6, decimals=0, thresholds=[(None, "green"), (1, "yellow")],
            description="Calls ended at the maximum consultation time (민원처리법 시행령)."),
        Panel("부서별 시간 제한 종료 · Time-limit endings by department", "timeseries", [Target(
            f'sum by (department) (increase({_EVENTS}{{kind="time-limit-end",{_DEPT}}}[$__interval]))',
            "{{department}}")], width=12, height=6, unit="short", decimals=0, custom=_BARS),
    ])
    ami = Row("AMI 연결 · Asterisk manager connection", [
        Panel("AMI 연결 · AMI connected", "stat", [Target("min(nms_ivr_ami_connected)", instant=True)],
              width=6, height=7, mappings={"1": ("연결됨", "green"), "0": ("끊김", "red")},
              thresholds=[(None, "red"), (1, "green")]),
        Panel("AMI 재연결 · AMI logins in the period", "stat", [Target(
            "sum(increase(nms_ivr_ami_connects_total[$__range]))", instant=True)], width=6, height=7, decimals=0,
            thresholds=[(None, "green"), (2, "yellow")], description="More than one means the connection was lost."),
        Panel("이벤트 지연 · AMI event lag", "timeseries", [
            Target(f"histogram_quantile(0.5, sum by (le) (rate(nms_ivr_event_lag_seconds_bucket[{RATE}])))", "p50"),
            Target(f"histogram_quantile(0.99, sum by (le) (rate(nms_ivr_event_lag_seconds_bucket[{RATE}])))", "p99"),
        ], width=12, height=7, unit="s",
            description="From an AMI event's timestamp to the end of its handling by the controller."),
    ])
    return Dashboard(
        uid="nms-telephony", title="전화 · Telephony",
        description="행정전화 자동응답시스템: 60 lines, call outcomes, staff-protection events, the AMI connection.",
        rows=[lines, calls, protection, ami], tags=["telephony", "ivr"],
        variables=[Variable("department", "부서 (department)", f"label_values({_EVENTS}, department)")])
