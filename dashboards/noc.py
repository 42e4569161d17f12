"""NOC overview: the one screen on the wall of the Information & Communications Team."""

from __future__ import annotations

from dashboards.model import HIDE_TIME, NEGATIVE_OUT, Dashboard, Panel, Row, Target
from dashboards.promql import BACKBONE_LINK_ALIAS, RATE, ap_availability, bits, top_talkers_bps, utilisation_max

_LINKS = f'role="backbone",ifAlias=~"{BACKBONE_LINK_ALIAS}"'
_UP_DOWN = {"1": ("정상", "green"), "0": ("끊김", "red")}


def dashboard() -> Dashboard:
    # No row headers: the whole board fits one 1080p wall screen (29 grid units high).
    devices = Row("", [
        Panel("장애 장비 · Devices down", "stat", [Target("sum(1 - nms_device_up)", instant=True)],
              width=4, height=6, thresholds=[(None, "green"), (1, "red")], decimals=0,
              description="Devices whose last SNMP poll failed."),
        Panel("분류별 장애 장비 · Devices down by category", "bargauge",
              [Target("sum by (category) (1 - nms_device_up)", "{{category}}", instant=True)],
              width=6, height=6, thresholds=[(None, "green"), (1, "red")], decimals=0, min=0,
              description="By the site category of the seed tables (관공서, 공원, 복지시설, 전통시장, 주요거리)."),
        Panel("분류별 AP 가용률 · AP availability by category", "bargauge",
              [Target(ap_availability("category"), "{{category}}", instant=True)],
              width=7, height=6, unit="percentunit", min=0, max=1,
              thresholds=[(None, "red"), (0.9, "orange"), (0.97, "green")],
              description="APs whose last poll succeeded over the APs in service, per site category."),
        Panel("장애 장비 목록 · Down devices", "table",
              [Target("max by (device, role, site, category) (nms_device_up == 0)", instant=True, table=True)],
              width=7, height=6, event_driven=True,
              transformations=[{"id": "organize", "options": {"excludeByName": {"Time": True, "Value": True},
                                                              "indexByName": {}, "renameByName": {}}}],
              description="Empty while every device answers."),
    ])
    network = Row("", [
        Panel("백본 업링크 트래픽 · Backbone uplink traffic", "timeseries", [
            Target(f"sum by (device, ifName, ifAlias) ({bits('ifHCInOctets', _LINKS)})",
                   "{{device}} {{ifName}} ({{ifAlias}}) in"),
            Target(f"sum by (device, ifName, ifAlias) ({bits('ifHCOutOctets', _LINKS)})",
                   "{{device}} {{ifName}} ({{ifAlias}}) out"),
        ], width=9, height=7, unit="bps", overrides=[NEGATIVE_OUT],
            description="Backbone ports described as uplink or interlink (ifAlias). In above the axis, out below."),
        Panel("백본 업링크 사용률 · Backbone uplink utilisation", "bargauge",
              [Target(utilisation_max(_LINKS), "{{device}} {{ifName}} ({{ifAlias}})", instant=True)],
              width=6, height=7, unit="percentunit", min=0, max=1,
              thresholds=[(None, "green"), (0.6, "yellow"), (0.8, "red")],
              description="The busier direction over the port speed (ifHighSpeed). Alert at 80% for 15 minutes."),
        Panel("IPS 세션 · IPS sessions", "stat", [Target("sum(nms_ips_sessions)")], width=3, height=7,
              decimals=0, color="blue", options={"colorMode": "value"}),
        Panel("IPS 이벤트 · IPS events per minute", "timeseries", [
            Target(f"sum(rate(nms_ips_events_detected_total[{RATE}])) * 60", "탐지 detected"),
            Target(f"sum(rate(nms_ips_events_blocked_total[{RATE}])) * 60", "차단 blocked"),
        ], width=6, height=7, unit="short", description="Attack events the service-network IPS detected and blocked."),
    ])
    flows = Row("", [
        Panel("상위 트래픽 호스트 · Top flow talkers", "table",
              [Target(top_talkers_bps(), instant=True, table=True)], width=12, height=7, unit="bps",
              transformations=[HIDE_TIME],
              description="Bytes sent per top-talker window, as bit/s; the peak of the last 5 minutes."),
        Panel("분류별 트래픽 · Flow traffic by site category", "timeseries", [
            Target(f"sum by (category) (rate(nms_flow_site_bytes_total{{direction=\"out\"}}[{RATE}])) * 8",
                   "{{category}}"),
        ], width=12, height=7, unit="bps", description="Traffic sent by each site category, from NetFlow/IPFIX."),
    ])
    phones = Row("", [
        Panel("통화 중 회선 (60회선 중) · Lines in use of 60", "gauge",
              [Target("sum(nms_ivr_lines_in_use)", instant=True)], width=6, height=5, min=0, max=60,
              decimals=0, thresholds=[(None, "green"), (48, "yellow"), (60, "red")],
              description="Inbound calls holding one of the 60 licensed lines."),
        Panel("오늘 직원 보호 조치 · Protection events today", "stat",
              [Target("sum(increase(nms_ivr_protection_events_total[$__range])) or vector(0)", instant=True)],
              width=6, height=5, decimals=0, time_from="now/d", thresholds=[(None, "green"), (1, "orange")],
              description="Warnings, terminations and time-limit endings since midnight."),
        Panel("AMI 연결 · AMI connection", "stat", [Target("min(nms_ivr_ami_connected)", instant=True)],
              width=6, height=5, mappings=_UP_DOWN, thresholds=[(None, "red"), (1, "green")],
              description="Whether the IVR controller is logged in to Asterisk's manager interface."),
        Panel("통화 중 비율 · Busy share today", "stat", [Target(
            'sum(increase(nms_ivr_calls_total{outcome="busy"}[$__range])) '
            "/ clamp_min(sum(increase(nms_ivr_calls_total[$__range])), 1)", instant=True)],
            width=6, height=5, unit="percentunit", time_from="now/d",
            thresholds=[(None, "green"), (0.05, "yellow"), (0.2, "red")],
            description="Calls that found all lines busy, over all ended calls since midnight."),
    ])
    health = Row("", [
        Panel("SNMP 마지막 주기 경과 · Since the last SNMP cycle", "stat",
              [Target("max by (class) (time() - nms_snmp_last_cycle_timestamp_seconds)", "{{class}}",
                      instant=True)],
              width=6, height=4, unit="s", decimals=0, thresholds=[(None, "green"), (120, "yellow"), (600, "red")],
              description="Seconds since each device class last completed a polling cycle."),
        Panel("서비스 수집 · Service scraped", "stat", [Target('up{job=~"nms.*"}', "{{instance}}", instant=True)],
              width=4, height=4, mappings=_UP_DOWN, thresholds=[(None, "red"), (1, "green")],
              description="Prometheus reaching the service's /metrics."),
        Panel("흐름 수신 · Flow records per second", "stat",
              [Target(f"sum(rate(nms_flow_records_total[{RATE}]))")], width=4, height=4, unit="short",
              color="blue", options={"colorMode": "value"}),
        Panel("설정 적용 · Configuration reload", "stat",
              [Target("min(nms_config_last_reload_successful)", instant=True)], width=4, height=4,
              mappings={"1": ("정상", "green"), "0": ("거부됨", "red")}, thresholds=[(None, "red"), (1, "green")],
              description="0 when the last reload was refused; the service keeps the last good configuration."),
        Panel("SNMP 폴링 오류 · SNMP poll errors per second", "stat",
              [Target(f"sum(rate(nms_snmp_poll_errors_total[{RATE}])) or vector(0)")], width=6, height=4,
              unit="short", thresholds=[(None, "green"), (0.1, "yellow")]),
    ])
    return Dashboard(
        uid="nms-noc", title="NOC 종합 상황판 · NOC overview",
        description="금천구 정보통신팀 상황판: devices, Wi-Fi, backbone, IPS, flows, phone lines and collectors.",
        rows=[devices, network, flows, phones, health], tags=["noc"], refresh="30s", time_from="now-3h")
