"""Backbone and IPS: per-port traffic, errors, discards and status (with ifAlias), device health, IPS counters."""

from __future__ import annotations

from dashboards import drill, panels
from dashboards.model import NEGATIVE_OUT, STATUS_MAPPING, Dashboard, Link, Panel, Row, Target, Variable, dashboard_url
from dashboards.promql import bits, rate, utilisation_max

_ROLES = ("backbone", "access", "ips")
_SEL = 'role=~"$role",device=~"$device"'
_PORT = "device, ifName, ifAlias"
_IPS = 'role="ips"'
_TO_DEVICE = drill.to_device("${__field.labels.device}", "${__field.labels.site}")


def _per_port(metric: str, suffix: str) -> Target:
    return Target(f"sum by ({_PORT}, site) ({rate(metric, _SEL, *_ROLES)})", f"{{{{device}}}} {{{{ifName}}}} "
                  f"({{{{ifAlias}}}}) {suffix}")


def dashboard() -> Dashboard:
    ports = Row("포트 · Ports", [
        Panel("사용 중 포트 다운 · Ports in use that are down", "stat", [Target(
            f'count((ifOperStatus{{{_SEL},ifAlias!=""}} != 1) and on (device, ifIndex) '
            f"(ifAdminStatus{{{_SEL}}} == 1)) or vector(0)", instant=True)],
            width=6, height=6, unit="short", decimals=0, thresholds=[(None, "green"), (1, "red")],
            description="Ports with a description (ifAlias), administratively up, operationally not up."),
        Panel("포트 사용률 상위 · Busiest ports", "bargauge",
              [Target(f"topk(10, {utilisation_max(_SEL, *_ROLES)})", "{{device}} {{ifName}} ({{ifAlias}})",
                      instant=True)],
              width=18, height=6, unit="percentunit", min=0, max=1,
              thresholds=[(None, "green"), (0.6, "yellow"), (0.8, "red")],
              description="The busier direction over the port speed (ifHighSpeed)."),
        Panel("포트 상태 · Port status", "table", [
            Target(f"ifOperStatus{{{_SEL}}}", instant=True, table=True),
            Target(f"ifAdminStatus{{{_SEL}}}", instant=True, table=True),
            Target(f"ifHighSpeed{{{_SEL}}}", instant=True, table=True),
        ], width=24, height=10, unit="none", mappings=STATUS_MAPPING, transformations=[
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {
                "excludeByName": {"Time": True, "__name__": True, "instance": True, "job": True, "role": True,
                                  "category": True},
                "indexByName": {"device": 0, "ifIndex": 1, "ifName": 2, "ifAlias": 3},
                "renameByName": {"ifAlias": "설명 (ifAlias)", "Value #A": "운용 상태 (oper)",
                                 "Value #B": "관리 상태 (admin)", "Value #C": "속도 (Mbit/s)"}}}],
            overrides=[{"matcher": {"id": "byName", "options": "속도 (Mbit/s)"},
                        "properties": [{"id": "mappings", "value": []}, {"id": "unit", "value": "short"}]},
                       panels.column_link("device", drill.to_device(site="${__data.fields.site}")),
                       panels.column_link("ifName", drill.to_interface(
                           device="${__data.fields.device}", site="${__data.fields.site}"))],
            description="Every port of the selected devices with its description (ifAlias). Click a device or a "
                        "port for its page."),
        Panel("포트 트래픽 · Traffic per port", "timeseries", [
            Target(f"sum by ({_PORT}, site) ({bits('ifHCInOctets', _SEL, *_ROLES)}) > 0",
                   "{{device}} {{ifName}} ({{ifAlias}}) in"),
            Target(f"sum by ({_PORT}, site) ({bits('ifHCOutOctets', _SEL, *_ROLES)}) > 0",
                   "{{device}} {{ifName}} ({{ifAlias}}) out"),
        ], width=24, height=10, unit="bps", overrides=[NEGATIVE_OUT], data_links=[_TO_DEVICE],
            options={"legend": {"displayMode": "table", "placement": "right", "calcs": ["mean", "max"]}},
            description="Ports that carried traffic; in above the axis, out below."),
        Panel("포트 오류 · Errors per port", "timeseries",
              [_per_port("ifInErrors", "in"), _per_port("ifOutErrors", "out")],
              width=8, height=8, unit="pps", overrides=[NEGATIVE_OUT], data_links=[_TO_DEVICE]),
        Panel("포트 폐기 · Discards per port", "timeseries",
              [_per_port("ifInDiscards", "in"), _per_port("ifOutDiscards", "out")],
              width=8, height=8, unit="pps", overrides=[NEGATIVE_OUT], data_links=[_TO_DEVICE]),
        Panel("포트 패킷 · Unicast packets per port", "timeseries",
              [_per_port("ifHCInUcastPkts", "in"), _per_port("ifHCOutUcastPkts", "out")],
              width=8, height=8, unit="pps", overrides=[NEGATIVE_OUT], data_links=[_TO_DEVICE]),
    ])
    devices = Row("장비 · Devices", [
        Panel("CPU 사용률 · CPU load", "timeseries",
              [Target(f"nms_device_cpu_load_percent{{{_SEL}}}", "{{device}}")],
              width=8, height=8, unit="percent", min=0, max=100),
        Panel("메모리·저장소 사용률 · Memory and storage used", "timeseries", [Target(
            f"nms_storage_used_bytes{{{_SEL}}} / nms_storage_size_bytes{{{_SEL}}}",
            "{{device}} {{hrStorageDescr}} ({{hrStorageIndex}})")],
            width=8, height=8, unit="percentunit", min=0, max=1),
        Panel("온도 · Temperature", "timeseries",
              [Target(f"nms_device_temperature_celsius{{{_SEL}}}", "{{device}} sensor {{sensor}}")],
              width=8, height=8, unit="celsius"),
        Panel("가동 시간 · Uptime", "stat", [Target(f"sysUpTime{{{_SEL}}} / 100", "{{device}}", instant=True)],
              width=12, height=6, unit="dtdurations", color="blue", options={"colorMode": "value"}),
        Panel("재부팅 · Reboots in the period", "stat", [Target(
            f"round(sum by (device) (increase(nms_snmp_device_reboots_total{{{_SEL}}}[$__range])))", "{{device}}",
            instant=True)], width=12, height=6, unit="short", decimals=0, thresholds=[(None, "green"), (1, "orange")],
            description="Rounded: Prometheus extrapolates increase() to the edges of the period."),
    ])
    ips = Row("침입방지시스템 · IPS", [
        Panel("IPS 응답 · IPS reachable", "stat", [Target(f"nms_device_up{{{_IPS}}}", "{{device}}", instant=True)],
              width=4, height=8, unit="none", mappings={"1": ("정상", "green"), "0": ("응답 없음", "red")},
              thresholds=[(None, "red"), (1, "green")]),
        Panel("IPS 세션 · IPS sessions", "timeseries", [Target(f"nms_ips_sessions{{{_IPS}}}", "{{device}}")],
              width=10, height=8, unit="short", decimals=0),
        Panel("IPS 이벤트 · IPS events per minute", "timeseries", [
            Target(f"sum by (device) ({rate('nms_ips_events_detected_total', _IPS)}) * 60",
                   "{{device}} 탐지 detected"),
            Target(f"sum by (device) ({rate('nms_ips_events_blocked_total', _IPS)}) * 60",
                   "{{device}} 차단 blocked"),
        ], width=10, height=8, unit="short"),
        Panel("차단 비율 · Blocked share", "stat", [Target(
            f"sum(increase(nms_ips_events_blocked_total{{{_IPS}}}[$__range])) "
            f"/ clamp_min(sum(increase(nms_ips_events_detected_total{{{_IPS}}}[$__range])), 1)", instant=True)],
            width=6, height=8, unit="percentunit", thresholds=[(None, "orange"), (0.7, "green")],
            description="Blocked over detected events in the period."),
        Panel("IPS 인터페이스 · IPS interfaces", "timeseries", [
            Target(bits("ifHCInOctets", _IPS), "{{ifName}} ({{ifAlias}}) in"),
            Target(bits("ifHCOutOctets", _IPS), "{{ifName}} ({{ifAlias}}) out"),
        ], width=18, height=8, unit="bps", overrides=[NEGATIVE_OUT]),
    ])
    return Dashboard(
        uid="nms-backbone", title="백본과 침입방지시스템 · Backbone and IPS",
        description="Administrative-network backbone and access switches, and the service-network IPS.",
        rows=[ports, devices, ips], tags=["backbone", "ips"],
        links=[Link("NOC 종합 · Overview", dashboard_url(drill.OVERVIEW)),
               Link("장비 상세 · Device", dashboard_url(drill.DEVICE))],
        annotations=[drill.reboot_annotation(_SEL), drill.config_change_annotation()],
        variables=[
            Variable("role", "역할 (role)", 'label_values(ifOperStatus{role=~"backbone|access|ips"}, role)',
                     all_value="backbone|access|ips"),
            Variable("device", "장비 (device)", 'label_values(ifOperStatus{role=~"$role"}, device)'),
        ])
