"""Interface level of the drill-down: one port, in the style of Grafana's SNMP interface detail dashboard.

Traffic, utilisation, packets, errors and discards (in above the axis, out below) and the port's
state over time. Windows are the slowest class's: the device's class is not known when the page is built.
"""

from __future__ import annotations

from dashboards import drill
from dashboards.model import NEGATIVE_OUT, STATUS_MAPPING, Dashboard, Link, Panel, Row, Target, dashboard_url
from dashboards.promql import counter_rate, octets_bits

_IF = 'device="$device",ifName="$interface"'
LAST_CHANGE = "ifLastChange"
"""IF-MIB ifLastChange (sysUpTime at the last state change): added by the SNMP branch (issue 15 lists it)."""


def _rate(metric: str, factor: str = "") -> str:
    return counter_rate(metric, _IF, "ifName", factor)


def _bits(direction: str) -> str:
    return octets_bits(direction, _IF, "ifName")


def _util(direction: str) -> str:
    return f"{_bits(direction)} / on (ifName) (max by (ifName) (ifHighSpeed{{{_IF}}}) * 1e6 > 0)"


def dashboard() -> Dashboard:
    now = Row("", [
        Panel("운용 상태 · Oper status", "stat", [Target(f"max(ifOperStatus{{{_IF}}})", instant=True)], width=4,
              height=4, unit="none", mappings=dict(STATUS_MAPPING), thresholds=[(None, "red"), (1, "green")]),
        Panel("관리 상태 · Admin status", "stat", [Target(f"max(ifAdminStatus{{{_IF}}})", instant=True)],
              width=4, height=4, unit="none", mappings=dict(STATUS_MAPPING), thresholds=[(None, "red"), (1, "green")]),
        Panel("속도 · Speed", "stat", [Target(f"max(ifHighSpeed{{{_IF}}}) * 1e6", instant=True)], width=4, height=4,
              unit="bps", color="blue", options={"colorMode": "value", "graphMode": "none"}),
        Panel("상태 변경 후 · Since the last state change", "stat", [Target(
            f"(max(sysUpTime{{device=\"$device\"}}) - max({LAST_CHANGE}{{{_IF}}})) / 100", instant=True)],
            width=4, height=4, unit="dtdurations", color="blue", options={"colorMode": "value", "graphMode": "none"},
            description="sysUpTime minus ifLastChange."),
        Panel("사용률 · Utilisation now", "bargauge", [
            Target(_util("In"), "수신 in", instant=True),
            Target(_util("Out"), "송신 out", instant=True)], width=8, height=4, unit="percentunit",
            min=0, max=1, thresholds=[(None, "green"), (0.6, "yellow"), (0.8, "red")]),
    ])
    graphs = Row("$device $interface", [
        Panel("트래픽 · Traffic", "timeseries", [
            Target(_bits("In"), "수신 in"), Target(_bits("Out"), "송신 out"),
        ], width=12, height=8, unit="bps", overrides=[NEGATIVE_OUT],
            options={"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["mean", "max", "last"]}}),
        Panel("사용률 · Utilisation", "timeseries", [
            Target(_util("In"), "수신 in"), Target(_util("Out"), "송신 out"),
        ], width=12, height=8, unit="percentunit", min=0, max=1,
            thresholds=[(None, "green"), (0.6, "yellow"), (0.8, "red")], custom={"thresholdsStyle": {"mode": "line"}}),
        Panel("유니캐스트 패킷 · Unicast packets", "timeseries", [
            Target(_rate("ifHCInUcastPkts"), "수신 in"), Target(_rate("ifHCOutUcastPkts"), "송신 out"),
        ], width=8, height=7, unit="pps", overrides=[NEGATIVE_OUT]),
        Panel("오류 · Errors", "timeseries", [
            Target(_rate("ifInErrors"), "수신 in"), Target(_rate("ifOutErrors"), "송신 out"),
        ], width=8, height=7, unit="pps", overrides=[NEGATIVE_OUT]),
        Panel("폐기 · Discards", "timeseries", [
            Target(_rate("ifInDiscards"), "수신 in"), Target(_rate("ifOutDiscards"), "송신 out"),
        ], width=8, height=7, unit="pps", overrides=[NEGATIVE_OUT]),
        Panel("포트 상태 추이 · Port state over time", "state-timeline", [
            Target(f"max(ifOperStatus{{{_IF}}})", "운용 oper"), Target(f"max(ifAdminStatus{{{_IF}}})", "관리 admin"),
        ], width=24, height=4, unit="none", mappings=dict(STATUS_MAPPING), thresholds=[(None, "red"), (1, "green")]),
    ])
    return Dashboard(
        uid=drill.INTERFACE, title="인터페이스 상세 · Interface",
        description="One interface of one device: traffic, utilisation, packets, errors, discards and state.",
        rows=[now, graphs], tags=["drill-down"],
        variables=[drill.site_variable('category=~".*"'), drill.device_variable(), drill.interface_variable()],
        links=[Link("NOC 종합 · Overview", dashboard_url(drill.OVERVIEW)),
               Link("사이트 상세 · Site", dashboard_url(drill.SITE, site="${site}")),
               Link("장비 상세 · Device", dashboard_url(drill.DEVICE, site="${site}", device="${device}"))],
        annotations=[drill.reboot_annotation('device="$device"'), drill.config_change_annotation()])
