"""Category level of the drill-down: the sites of one site category (관공서, 공원, ...), each leading to its page."""

from __future__ import annotations

from dashboards import drill, panels
from dashboards.model import Dashboard, Link, Panel, Row, Target, dashboard_url
from dashboards.promql import WINDOW, with_site_name

_CAT = 'category=~"$category"'


def _per_site(expr: str) -> Target:
    return Target(expr, instant=True, table=True)


def dashboard() -> Dashboard:
    summary = Row("요약 · Summary", [
        Panel("사이트 · Sites", "stat", [Target(f"count(max by (site) (nms_site_info{{{_CAT}}}))", instant=True)],
              width=4, height=5, unit="short", decimals=0, color="blue", options={"colorMode": "value"}),
        *panels.devices_up_down(_CAT, height=5),
        Panel("AP 가용률 · AP availability", "stat", [Target(
            f'sum(nms_site_devices_up{{role="ap",{_CAT}}}) / sum(nms_site_devices{{role="ap",{_CAT}}})', instant=True)],
              width=4, height=5, unit="percentunit", min=0, max=1,
              thresholds=[(None, "red"), (0.9, "orange"), (0.97, "green")]),
        Panel("와이파이 접속자 · Wi-Fi clients", "stat", [Target(
            f"sum(nms_category_ap_clients{{{_CAT}}})", instant=True)], width=8, height=5, unit="short", decimals=0,
            color="blue", options={"colorMode": "value"}),
    ])
    sites = Panel("사이트 목록 · Sites", "table", [
        _per_site(with_site_name(f"sum by (site) (nms_site_devices_up{{{_CAT}}})")),
        _per_site(f"sum by (site) (nms_site_devices{{{_CAT}}})"),
        _per_site(f"sum by (site) (nms_site_ap_clients{{{_CAT}}})"),
        _per_site(f"sum by (site) (rate(ifHCInOctets{{{_CAT}}}[{WINDOW}]) * 8)"),
    ], width=24, height=10, unit="short", transformations=[
        {"id": "joinByField", "options": {"byField": "site", "mode": "outer"}},
        {"id": "organize", "options": {
            "excludeByName": {"Time": True, "Time 1": True, "Time 2": True, "Time 3": True, "Time 4": True},
            "indexByName": {"name": 0, "site": 1},
            "renameByName": {"name": "사이트", "Value #A": "동작 장비", "Value #B": "장비",
                             "Value #C": "접속자", "Value #D": "수신 (bit/s)"}}}],
        overrides=[panels.column_link("site", drill.to_site()),
                   {"matcher": {"id": "byName", "options": "수신 (bit/s)"},
                    "properties": [{"id": "unit", "value": "bps"}, {"id": "decimals", "value": 1}]},
                   {"matcher": {"id": "byName", "options": "동작 장비"},
                    "properties": [{"id": "custom.cellOptions", "value": {"type": "color-text"}},
                                   {"id": "thresholds", "value": {"mode": "absolute", "steps": [
                                       {"color": "red", "value": None}, {"color": "green", "value": 1}]}}]}],
        description="Click a site id for its devices.")
    detail = Row("사이트 · Sites", [
        sites,
        panels.down_devices(_CAT, width=12, height=8),
        panels.active_alerts(_CAT, width=12, height=8),
        Panel("사이트별 수신 트래픽 상위 10 · Top 10 sites by traffic received", "timeseries", [Target(
            f"topk(10, {with_site_name(f'sum by (site) (rate(ifHCInOctets{{{_CAT}}}[{WINDOW}]))')})"
            " * 8", "{{name}}")], width=24, height=8, unit="bps", min=0,
            data_links=[drill.to_site("${__field.labels.site}")],
            description="Octets received on all the interfaces of each site's devices (rate() of ifHCInOctets: "
                        "a counter that drops is a reset, as after a reboot)."),
    ])
    return Dashboard(
        uid=drill.CATEGORY, title="분류 상세 · Site category",
        description="The sites of one category: devices up, clients, traffic; click a site for its page.",
        rows=[summary, detail], tags=["drill-down"], time_from="now-6h",
        variables=[drill.category_variable()],
        links=[Link("NOC 종합 · Overview", dashboard_url(drill.OVERVIEW)),
               Link("사이트 상세 · Site", dashboard_url(drill.SITE, category="${category}"))],
        annotations=[drill.reboot_annotation(_CAT), drill.config_change_annotation()])
