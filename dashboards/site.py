"""Site level of the drill-down: one site's devices, their up/down history and traffic (LibreNMS's location page)."""

from __future__ import annotations

from dashboards import drill, panels
from dashboards.model import NEGATIVE_OUT, Dashboard, Link, Panel, Row, Target, dashboard_url
from dashboards.promql import WINDOW

_SITE = 'site="$site"'


def dashboard() -> Dashboard:
    summary = Row("", [
        Panel("사이트 · Site", "stat", [Target(
            f"max by (name, category) (nms_site_info{{{_SITE}}})", "{{name}} ({{category}})", instant=True)],
            width=6, height=4, unit="none", color="blue", options={"colorMode": "none", "textMode": "name",
                                                                   "graphMode": "none"}),
        *panels.devices_up_down(_SITE, height=4),
        Panel("와이파이 접속자 · Wi-Fi clients", "stat", [Target(
            f"sum(nms_site_ap_clients{{{_SITE}}}) or vector(0)", instant=True)], width=4, height=4, unit="short",
            decimals=0, color="blue", options={"colorMode": "value"}),
        Panel("수신 트래픽 · Traffic received", "stat", [Target(
            f"sum(rate(ifHCInOctets{{{_SITE}}}[{WINDOW}])) * 8", instant=True)],
            width=6, height=4, unit="bps", color="blue", options={"colorMode": "value"}),
    ])
    devices = Panel("장비 목록 · Devices", "table", [
        Target(f"max by (device, role, vendor, model, installed) (nms_device_info{{{_SITE},status=\"active\"}})",
               instant=True, table=True),
        Target(f"max by (device) (nms_device_up{{{_SITE}}})", instant=True, table=True),
        Target(f"max by (device) (sysUpTime{{{_SITE}}}) / 100", instant=True, table=True),
        Target(f"max by (device) (nms_snmp_poll_duration_seconds{{{_SITE}}})", instant=True, table=True),
    ], width=24, height=8, unit="none", transformations=[
        {"id": "joinByField", "options": {"byField": "device", "mode": "outer"}},
        {"id": "organize", "options": {
            "excludeByName": {"Time 1": True, "Time 2": True, "Time 3": True, "Time 4": True, "Value #A": True},
            "indexByName": {"device": 0, "role": 1, "Value #B": 2},
            "renameByName": {"role": "역할", "vendor": "제조사", "model": "모델", "installed": "설치 연도",
                             "Value #B": "상태", "Value #C": "가동 시간", "Value #D": "응답 시간"}}}],
        overrides=[panels.column_link("device", drill.to_device(site="$site")),
                   {"matcher": {"id": "byName", "options": "상태"},
                    "properties": [{"id": "mappings", "value": [{"type": "value", "options": {
                        "1": {"color": "green", "index": 0, "text": "정상"},
                        "0": {"color": "red", "index": 1, "text": "장애"}}}]},
                        {"id": "custom.cellOptions", "value": {"type": "color-background"}}]},
                   {"matcher": {"id": "byName", "options": "가동 시간"},
                    "properties": [{"id": "unit", "value": "dtdurations"}]},
                   {"matcher": {"id": "byName", "options": "응답 시간"},
                    "properties": [{"id": "unit", "value": "s"}, {"id": "decimals", "value": 3}]}],
        description="Every active device of the site; click one for its page.")
    body = Row("장비 · Devices", [
        devices,
        panels.device_states(_SITE, width=24, height=6),
        panels.down_devices(_SITE, width=12, height=6),
        panels.active_alerts(_SITE, width=12, height=6),
        Panel("장비별 트래픽 · Traffic per device", "timeseries", [
            Target(f"sum by (device) (rate(ifHCInOctets{{{_SITE}}}[{WINDOW}])) * 8", "{{device}} in"),
            Target(f"sum by (device) (rate(ifHCOutOctets{{{_SITE}}}[{WINDOW}])) * 8", "{{device}} out"),
        ], width=12, height=8, unit="bps", overrides=[NEGATIVE_OUT],
            data_links=[drill.to_device("${__field.labels.device}", "$site")],
            description="All interfaces of each device; in above the axis, out below."),
        Panel("AP별 접속자 · Clients per AP", "timeseries", [Target(
            f"nms_ap_clients{{{_SITE}}}", "{{device}}")], width=12, height=8, unit="short", decimals=0, min=0,
            data_links=[drill.to_device("${__field.labels.device}", "$site")]),
    ])
    return Dashboard(
        uid=drill.SITE, title="사이트 상세 · Site", description="One site: its devices, their state and traffic.",
        rows=[summary, body], tags=["drill-down"],
        variables=[drill.category_variable(), drill.site_variable()],
        links=[Link("NOC 종합 · Overview", dashboard_url(drill.OVERVIEW)),
               Link("분류 상세 · Category", dashboard_url(drill.CATEGORY, category="${category}")),
               Link("장비 상세 · Device", dashboard_url(drill.DEVICE, site="${site}"))],
        annotations=[drill.reboot_annotation(_SITE), drill.config_change_annotation()])
