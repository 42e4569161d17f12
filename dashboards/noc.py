"""NOC overview: the one screen on the wall of the Information & Communications Team."""

from __future__ import annotations

from dashboards import drill, panels
from dashboards.model import HIDE_TIME, NEGATIVE_OUT, Dashboard, Link, Panel, Row, Target, dashboard_url
from dashboards.promql import BACKBONE_LINK_ALIAS, WINDOW, ap_availability, bits, rate, top_talkers_bps, utilisation_max
from dashboards.telephony import lines_gauge

_LINKS = f'role="backbone",ifAlias=~"{BACKBONE_LINK_ALIAS}"'
_UP_DOWN = {"1": ("정상", "green"), "0": ("끊김", "red")}
_IPS = 'role="ips"'


def dashboard() -> Dashboard:
    # No row headers: the whole board fits one 1080p wall screen (29 grid units high).
    devices = Row("", [
        Panel("장애 장비 · Devices down", "stat", [Target("sum(1 - nms_device_up)", instant=True)],
              width=3, height=6, unit="short", thresholds=[(None, "green"), (1, "red")], decimals=0,
              description="Devices whose last SNMP poll failed."),
        Panel("분류별 장애 장비 · Devices down by category", "bargauge",
              [Target("sum by (category) (1 - nms_device_up)", "{{category}}", instant=True)],
              width=5, height=6, unit="short", thresholds=[(None, "green"), (1, "red")], decimals=0, min=0,
              data_links=[drill.to_category("${__field.labels.category}")],
              description="By the site category of the seed tables (관공서, 공원, 복지시설, 전통시장, 주요거리). "
                          "Click a category for its sites."),
        Panel("분류별 AP 가용률 · AP availability by category", "bargauge",
              [Target(ap_availability("category"), "{{category}}", instant=True)],
              width=5, height=6, unit="percentunit", min=0, max=1,
              data_links=[drill.to_category("${__field.labels.category}")],
              thresholds=[(None, "red"), (0.9, "orange"), (0.97, "green")],
              description="APs whose last poll succeeded over the APs in service, per site category."),
        panels.down_devices(width=6, height=6),
        panels.active_alerts(width=5, height=6),
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
              unit="short", decimals=0, color="blue", options={"colorMode": "value"}),
        Panel("IPS 이벤트 · IPS events per minute", "timeseries", [
            Target(f"sum({rate('nms_ips_events_detected_total', _IPS)}) * 60", "탐지 detected"),
            Target(f"sum({rate('nms_ips_events_blocked_total', _IPS)}) * 60", "차단 blocked"),
        ], width=6, height=7, unit="short", description="Attack events the service-network IPS detected and blocked."),
    ])
    flows = Row("", [
        Panel("상위 트래픽 호스트 · Top flow talkers", "table",
              [Target(top_talkers_bps(), instant=True, table=True)], width=12, height=7, unit="bps",
              transformations=[HIDE_TIME],
              description="Bytes sent per top-talker window, as bit/s; the peak of the last 5 minutes."),
        Panel("분류별 트래픽 · Flow traffic by site category", "timeseries", [
            Target(f"sum by (category) (rate(nms_flow_site_bytes_total{{direction=\"out\"}}[{WINDOW}])) * 8",
                   "{{category}}"),
        ], width=12, height=7, unit="bps", description="Traffic sent by each site category, from NetFlow/IPFIX."),
    ])
    phones = Row("", [
        lines_gauge(width=6, height=5),
        Panel("오늘 직원 보호 조치 · Protection events today", "stat",
              [Target("sum(nms_ivr_protection_events_today)", instant=True)],
              width=6, height=5, unit="short", decimals=0, thresholds=[(None, "green"), (1, "orange")],
              links=[Link("전화 · Telephony", dashboard_url("nms-telephony"))],
              description="Warnings, terminations and time-limit endings since local midnight, counted in the "
                          "event store."),
        Panel("AMI 연결 · AMI connection", "stat", [Target("min(nms_ivr_ami_connected)", instant=True)],
              width=6, height=5, unit="none", mappings=_UP_DOWN, thresholds=[(None, "red"), (1, "green")],
              description="Whether the IVR controller is logged in to Asterisk's manager interface."),
        Panel("통화 중 비율 · Busy share today", "stat", [Target(
            'sum(nms_ivr_calls_today{outcome="busy"}) / clamp_min(sum(nms_ivr_calls_today), 1)', instant=True)],
            width=6, height=5, unit="percentunit",
            thresholds=[(None, "green"), (0.05, "yellow"), (0.2, "red")],
            description="Calls that found all lines busy, over all ended calls since midnight."),
    ])
    health = Row("", [
        Panel("SNMP 마지막 주기 경과 · Since the last SNMP cycle", "stat",
              [Target("max by (class) (time() - nms_snmp_last_cycle_timestamp_seconds)", "{{class}}",
                      instant=True)],
              width=6, height=4, unit="s", thresholds=[(None, "green"), (120, "yellow"), (600, "red")],
              description="Seconds since each device class last completed a polling cycle."),
        Panel("서비스 수집 · Service scraped", "stat", [Target('up{job=~"nms.*"}', "{{instance}}", instant=True)],
              width=4, height=4, unit="none", mappings=_UP_DOWN, thresholds=[(None, "red"), (1, "green")],
              description="Prometheus reaching the service's /metrics."),
        Panel("흐름 수신 · Flow records per second", "stat",
              [Target(f"sum(rate(nms_flow_records_total[{WINDOW}]))")], width=4, height=4, unit="short",
              color="blue", options={"colorMode": "value"}),
        Panel("설정 적용 · Configuration reload", "stat",
              [Target("min(nms_config_last_reload_successful)", instant=True)], width=4, height=4, unit="none",
              mappings={"1": ("정상", "green"), "0": ("거부됨", "red")}, thresholds=[(None, "red"), (1, "green")],
              description="0 when the last reload was refused; the service keeps the last good configuration."),
        Panel("SNMP 폴링 오류 · SNMP poll errors per second", "stat",
              [Target(f"sum(rate(nms_snmp_poll_errors_total[{WINDOW}])) or vector(0)")], width=6, height=4,
              unit="short", thresholds=[(None, "green"), (0.1, "yellow")]),
    ])
    return Dashboard(
        uid="nms-noc", title="NOC 종합 상황판 · NOC overview",
        description="금천구 정보통신팀 상황판: devices, Wi-Fi, backbone, IPS, flows, phone lines and collectors.",
        rows=[devices, network, flows, phones, health], tags=["noc"], refresh="30s", time_from="now-3h",
        links=[Link("분류 상세 · Category", dashboard_url(drill.CATEGORY)),
               Link("사이트 상세 · Site", dashboard_url(drill.SITE))],
        annotations=[drill.reboot_annotation(), drill.config_change_annotation()])
