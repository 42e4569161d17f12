"""Device level of the drill-down: one device's state, health and interfaces (LibreNMS's device page).

The device's class is not known when the page is built, so every rate window is the slowest
class's (dashboards.windows).
"""

from __future__ import annotations

from dashboards import drill, panels
from dashboards.model import NEGATIVE_OUT, STATUS_MAPPING, Dashboard, Link, Panel, Row, Target, dashboard_url
from dashboards.promql import WINDOW, counter_rate, down_since, octets_bits

_DEV = 'device="$device"'
_PORT = "ifIndex, ifName, ifAlias"
SYSTEM_INFO = "nms_device_system_info"
"""sysName, sysDescr, sysLocation, sysObjectID per device: added by the SNMP branch (issue 15 lists it)."""


def _port_rate(metric: str, factor: str = "") -> str:
    return counter_rate(metric, _DEV, _PORT, factor)


def _octets(direction: str) -> str:
    return octets_bits(direction, _DEV, _PORT)


def dashboard() -> Dashboard:
    state = Row("", [
        Panel("상태 · State", "stat", [Target(f"max(nms_device_up{{{_DEV}}})", instant=True)], width=4, height=4,
              unit="none", mappings=dict(drill.UP_DOWN), thresholds=[(None, "red"), (1, "green")]),
        Panel("장애 지속 · Down for", "stat", [Target(f"max({down_since(_DEV)}) or vector(0)", instant=True)],
              width=4, height=4, unit="dtdurations", thresholds=[(None, "green"), (1, "red")],
              description="How long since the device last answered; 0 while it answers."),
        Panel("가동 시간 · Uptime", "stat", [Target(f"max(sysUpTime{{{_DEV}}}) / 100", instant=True)], width=4,
              height=4, unit="dtdurations", color="blue", options={"colorMode": "value", "graphMode": "none"}),
        Panel("재부팅 · Reboots in the period", "stat", [Target(
            f"round(sum(increase(nms_snmp_device_reboots_total{{{_DEV}}}[$__range])))", instant=True)],
            width=4, height=4, unit="short", decimals=0, thresholds=[(None, "green"), (1, "orange")]),
        Panel("SNMP 응답 시간 · Poll duration", "stat", [Target(
            f"max(nms_snmp_poll_duration_seconds{{{_DEV}}})", instant=True)], width=4, height=4, unit="s",
            thresholds=[(None, "green"), (1, "yellow"), (2, "red")]),
        Panel("폴링 오류 · Failed polls per minute", "stat", [Target(
            f"sum(rate(nms_snmp_poll_errors_total{{{_DEV}}}[{WINDOW}])) * 60 or vector(0)", instant=True)],
            width=4, height=4, unit="short", thresholds=[(None, "green"), (0.1, "orange")]),
    ])
    about = Row("", [
        Panel("장비 정보 · Inventory and system", "table", [
            Target(f"max by (device, site, role, vendor, model, installed, status, upstream) "
                   f"(nms_device_info{{{_DEV}}})",
                   instant=True, table=True),
            Target(f"max by (device, sysName, sysDescr, sysLocation, sysObjectID) ({SYSTEM_INFO}{{{_DEV}}})",
                   instant=True, table=True),
        ], width=12, height=6, unit="none", transformations=[
            {"id": "joinByField", "options": {"byField": "device", "mode": "outer"}},
            {"id": "organize", "options": {"excludeByName": {"Time 1": True, "Time 2": True, "Value #A": True,
                                                             "Value #B": True},
                                           "indexByName": {}, "renameByName": {}}}],
            overrides=[panels.column_link("site", drill.to_site())],
            description="The inventory's record and what the device says of itself (SNMPv2-MIB system group)."),
        panels.active_alerts(_DEV, width=12, height=6),
        panels.device_states(_DEV, width=24, height=3),
    ])
    interfaces = Panel("인터페이스 · Interfaces", "table", [
        Target(_octets("In"), instant=True, table=True),
        Target(_octets("Out"), instant=True, table=True),
        Target(f"max by ({_PORT}) (ifOperStatus{{{_DEV}}})", instant=True, table=True),
        Target(f"max by ({_PORT}) (ifHighSpeed{{{_DEV}}})", instant=True, table=True),
        Target(_port_rate("ifInErrors") + " + " + _port_rate("ifOutErrors"), instant=True, table=True),
    ], width=24, height=8, unit="bps", transformations=[
        {"id": "merge", "options": {}},
        {"id": "organize", "options": {
            "excludeByName": {"Time": True},
            "indexByName": {"ifName": 0, "ifAlias": 1, "ifIndex": 2, "Value #C": 3, "Value #D": 4},
            "renameByName": {"ifAlias": "설명 (ifAlias)", "Value #A": "수신 in", "Value #B": "송신 out",
                             "Value #C": "상태 (oper)", "Value #D": "속도 (Mbit/s)", "Value #E": "오류 (/s)"}}}],
        overrides=[panels.column_link("ifName", drill.to_interface()),
                   {"matcher": {"id": "byName", "options": "상태 (oper)"},
                    "properties": [{"id": "unit", "value": "none"}, {"id": "mappings", "value": [{
                        "type": "value", "options": {k: {"color": c, "index": i, "text": t} for i, (k, (t, c))
                                                     in enumerate(STATUS_MAPPING.items())}}]},
                                   {"id": "custom.cellOptions", "value": {"type": "color-text"}}]},
                   {"matcher": {"id": "byName", "options": "속도 (Mbit/s)"},
                    "properties": [{"id": "unit", "value": "short"}]},
                   {"matcher": {"id": "byName", "options": "오류 (/s)"},
                    "properties": [{"id": "unit", "value": "pps"}]}],
        description="Click an interface name for its page.")
    traffic = Row("인터페이스 · Interfaces", [
        interfaces,
        Panel("인터페이스 트래픽 · Traffic per interface", "timeseries", [
            Target(_octets("In"), "{{ifName}} in"),
            Target(_octets("Out"), "{{ifName}} out"),
        ], width=12, height=8, unit="bps", overrides=[NEGATIVE_OUT],
            data_links=[drill.to_interface("${__field.labels.ifName}")]),
        Panel("패킷 · Unicast packets per interface", "timeseries", [
            Target(_port_rate("ifHCInUcastPkts"), "{{ifName}} in"),
            Target(_port_rate("ifHCOutUcastPkts"), "{{ifName}} out"),
        ], width=12, height=8, unit="pps", overrides=[NEGATIVE_OUT],
            data_links=[drill.to_interface("${__field.labels.ifName}")]),
        Panel("오류 · Errors per interface", "timeseries", [
            Target(_port_rate("ifInErrors"), "{{ifName}} in"), Target(_port_rate("ifOutErrors"), "{{ifName}} out"),
        ], width=12, height=7, unit="pps", overrides=[NEGATIVE_OUT]),
        Panel("폐기 · Discards per interface", "timeseries", [
            Target(_port_rate("ifInDiscards"), "{{ifName}} in"),
            Target(_port_rate("ifOutDiscards"), "{{ifName}} out"),
        ], width=12, height=7, unit="pps", overrides=[NEGATIVE_OUT]),
    ])
    health = Row("자원 · Resources", [
        Panel("CPU 사용률 · CPU load", "timeseries", [Target(f"nms_device_cpu_load_percent{{{_DEV}}}", "CPU")],
              width=8, height=7, unit="percent", min=0, max=100,
              thresholds=[(None, "green"), (80, "yellow"), (95, "red")]),
        Panel("메모리·저장소 · Memory and storage used", "timeseries", [Target(
            f"nms_storage_used_bytes{{{_DEV}}} / nms_storage_size_bytes{{{_DEV}}}",
            "{{hrStorageDescr}} ({{hrStorageIndex}})")],
            width=8, height=7, unit="percentunit", min=0, max=1,
            thresholds=[(None, "green"), (0.8, "yellow"), (0.95, "red")]),
        Panel("온도 · Temperature", "timeseries", [Target(
            f"nms_device_temperature_celsius{{{_DEV}}}", "sensor {{sensor}}")], width=8, height=7, unit="celsius",
            thresholds=[(None, "green"), (60, "yellow"), (75, "red")]),
    ])
    return Dashboard(
        uid=drill.DEVICE, title="장비 상세 · Device",
        description="One device: state, down since, uptime, reboots, interfaces with traffic, packets, errors and "
                    "discards, resources.",
        rows=[state, about, traffic, health], tags=["drill-down"],
        variables=[drill.site_variable('category=~".*"'), drill.device_variable()],
        links=[Link("NOC 종합 · Overview", dashboard_url(drill.OVERVIEW)),
               Link("사이트 상세 · Site", dashboard_url(drill.SITE, site="${site}")),
               Link("인터페이스 상세 · Interface", dashboard_url(drill.INTERFACE, site="${site}",
                                                               device="${device}"))],
        annotations=[drill.reboot_annotation(_DEV), drill.config_change_annotation()])
