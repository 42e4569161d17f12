"""Public Wi-Fi (공공와이파이): by category, by install year and by site, with a drill-down to one site's APs."""

from __future__ import annotations

from dashboards import drill, panels
from dashboards.model import NEGATIVE_OUT, Dashboard, Link, Panel, Row, Target, Variable, dashboard_url
from dashboards.promql import AP_WIRED, ap_availability, bits, with_install_year, with_site_name

_CAT = 'category=~"$category"'
_SITE = 'site="$site"'


def _ap_bits(direction: str, by: str, selector: str = _CAT) -> str:
    metric = "ifHCInOctets" if direction == "in" else "ifHCOutOctets"
    return f"sum by ({by}) ({bits(metric, AP_WIRED + ',' + selector)})"


def _by_year(expr: str) -> str:
    return f"sum by (installed_group) ({with_install_year(expr)})"


def _column_unit(column: str, unit: str, decimals: int) -> dict:
    return {"matcher": {"id": "byName", "options": column},
            "properties": [{"id": "unit", "value": unit}, {"id": "decimals", "value": decimals}]}


def dashboard() -> Dashboard:
    by_category = Row("분류별 · By site category", [
        Panel("AP 가용률 · AP availability", "bargauge",
              [Target(ap_availability("category", _CAT), "{{category}}", instant=True)],
              width=8, height=7, unit="percentunit", min=0, max=1,
              thresholds=[(None, "red"), (0.9, "orange"), (0.97, "green")]),
        Panel("동작 AP · APs up", "stat",
              [Target(f'sum by (category) (nms_site_devices_up{{role="ap",{_CAT}}})', "{{category}}", instant=True)],
              width=8, height=7, decimals=0, color="green", unit="short", options={"colorMode": "value"}),
        Panel("운영 AP · APs in service", "stat",
              [Target(f'sum by (category) (nms_site_devices{{role="ap",{_CAT}}})', "{{category}}", instant=True)],
              unit="short", width=8, height=7, decimals=0, color="blue", options={"colorMode": "value"},
              description="Active APs of the inventory that are polled (planned ones are not)."),
        Panel("분류별 접속자 · Clients by category", "timeseries",
              [Target(f"sum by (category) (nms_category_ap_clients{{{_CAT}}})", "{{category}}")],
              width=12, height=8, unit="short", decimals=0),
        Panel("분류별 트래픽 · Traffic by category", "timeseries", [
            Target(_ap_bits("in", "category"), "{{category}} download in"),
            Target(_ap_bits("out", "category"), "{{category}} upload out"),
        ], width=12, height=8, unit="bps", overrides=[NEGATIVE_OUT],
            description="On the APs' wired ports (by name: Gi0, eth0, ...): in = toward the clients, "
                        "out = from them."),
    ])
    by_year = Row("설치 연도별 · By install year", [
        Panel("연도별 AP 가용률 · AP availability by install year", "bargauge", [Target(
            _by_year(f'nms_device_up{{role="ap",{_CAT}}}')
            + " / count by (installed_group) (max by (device, installed_group) "
              f'(nms_device_info{{role="ap",status="active",{_CAT}}}))', "{{installed_group}}", instant=True)],
            width=8, height=7, unit="percentunit", min=0, max=1,
            thresholds=[(None, "red"), (0.9, "orange"), (0.97, "green")],
            description="Install year groups as in the 2021 seed table (2013-2016, 2017, ...)."),
        Panel("연도별 동작 AP · APs up by install year", "stat",
              [Target(_by_year(f'nms_device_up{{role="ap",{_CAT}}}'), "{{installed_group}}", instant=True)],
              width=8, height=7, decimals=0, color="green", unit="short", options={"colorMode": "value"}),
        Panel("설치 예정 AP · Planned APs", "stat", [Target(
            f'count by (category) (max by (device, category) (nms_device_info{{role="ap",status="planned",{_CAT}}})) '
            "or vector(0)", "{{category}}", instant=True)],
            unit="short", width=8, height=7, decimals=0, color="purple", options={"colorMode": "value"},
            description="APs of the plan (status: planned) that are not installed yet."),
        Panel("연도별 접속자 · Clients by install year", "timeseries",
              [Target(_by_year(f"nms_ap_clients{{{_CAT}}}"), "{{installed_group}}")],
              width=12, height=8, unit="short", decimals=0),
        Panel("연도별 트래픽 · Traffic by install year", "timeseries", [
            Target(_by_year(bits("ifHCInOctets", f"{AP_WIRED},{_CAT}")), "{{installed_group}} download in"),
            Target(_by_year(bits("ifHCOutOctets", f"{AP_WIRED},{_CAT}")), "{{installed_group}} upload out"),
        ], width=12, height=8, unit="bps", overrides=[NEGATIVE_OUT]),
    ])
    sites_table = Panel("사이트별 현황 · Sites", "table", [
        Target(f'sum by (site) (nms_site_devices_up{{role="ap",{_CAT}}})', instant=True, table=True),
        Target(f'sum by (site) (nms_site_devices{{role="ap",{_CAT}}})', instant=True, table=True),
        Target(f"sum by (site) (nms_site_ap_clients{{{_CAT}}})", instant=True, table=True),
        Target(_ap_bits("in", "site"), instant=True, table=True),
        Target(f"max by (site, name, category, installed) (nms_site_info{{{_CAT}}})", instant=True, table=True),
    ], width=24, height=10, unit="short", overrides=[
        panels.column_link("site", drill.to_site()), _column_unit("다운로드 (bit/s)", "bps", 1),
        {"matcher": {"id": "byName", "options": "동작 AP"},
         "properties": [{"id": "custom.cellOptions", "value": {"type": "color-text"}},
                        {"id": "thresholds", "value": {"mode": "absolute", "steps": [
                            {"color": "red", "value": None}, {"color": "green", "value": 1}]}}]},
        {"matcher": {"id": "byName", "options": "설치 연도"}, "properties": [{"id": "unit", "value": "none"}]}],
        transformations=[
        {"id": "joinByField", "options": {"byField": "site", "mode": "outer"}},
        {"id": "organize", "options": {
            "excludeByName": {"Time": True, "Time 1": True, "Time 2": True, "Time 3": True, "Time 4": True,
                              "Time 5": True, "Value #E": True},
            "indexByName": {"name": 0, "site": 1, "category": 2, "installed": 3},
            "renameByName": {"name": "사이트", "category": "분류", "installed": "설치 연도", "Value #A": "동작 AP",
                             "Value #B": "운영 AP", "Value #C": "접속자", "Value #D": "다운로드 (bit/s)"}}},
    ], description="Every site with APs: whole numbers for APs and clients, bit/s for traffic. Click a site id "
                   "for its page.")
    by_site = Row("사이트별 · By site", [
        sites_table,
        Panel("접속자 상위 사이트 · Top sites by clients", "timeseries",
              [Target(f"topk(10, {with_site_name(f'sum by (site) (nms_site_ap_clients{{{_CAT}}})')})", "{{name}}")],
              width=12, height=8, unit="short", decimals=0, data_links=[drill.to_site("${__field.labels.site}")]),
        Panel("AP 장애 사이트 · Sites with APs down", "bargauge", [Target(
            f'sum by (site) (nms_site_devices{{role="ap",{_CAT}}}) '
            f'- sum by (site) (nms_site_devices_up{{role="ap",{_CAT}}}) > 0', "{{site}}", instant=True)],
            width=12, height=8, unit="short", decimals=0, data_links=[drill.to_site("${__field.labels.site}")],
            min=0, thresholds=[(None, "orange")], event_driven=True,
            description="Sites where at least one AP does not answer; empty when all APs are up."),
    ])
    ap_detail = Row("사이트 상세: ${site:text} · The site's APs", [
        Panel("AP 목록 · APs", "table", [
            Target(f'max by (device) (nms_device_up{{role="ap",{_SITE}}})', instant=True, table=True),
            Target(f"max by (device) (nms_ap_clients{{{_SITE}}})", instant=True, table=True),
            Target(f'max by (device, vendor, model, installed) (nms_device_info{{role="ap",{_SITE}}})',
                   instant=True, table=True),
        ], width=12, height=8, transformations=[
            {"id": "joinByField", "options": {"byField": "device", "mode": "outer"}},
            {"id": "organize", "options": {
                "excludeByName": {"Time 1": True, "Time 2": True, "Time 3": True, "Value #C": True},
                "indexByName": {}, "renameByName": {"Value #A": "응답", "Value #B": "접속자", "vendor": "제조사",
                                                    "model": "모델", "installed": "설치 연도"}}}],
            unit="none", mappings=dict(drill.UP_DOWN),
            overrides=[panels.column_link("device", drill.to_device(site="$site"))]),
        Panel("AP별 접속자 · Clients per AP", "timeseries",
              [Target(f"nms_ap_clients{{{_SITE}}}", "{{device}}")], width=12, height=8, unit="short", decimals=0),
        Panel("AP 인터페이스 트래픽 · Traffic per AP interface", "timeseries", [
            Target(bits("ifHCInOctets", f'role="ap",{_SITE}'), "{{device}} {{ifName}} in"),
            Target(bits("ifHCOutOctets", f'role="ap",{_SITE}'), "{{device}} {{ifName}} out"),
        ], width=12, height=8, unit="bps", overrides=[NEGATIVE_OUT]),
        Panel("AP 가동 시간 · AP uptime", "stat",
              [Target(f'sysUpTime{{role="ap",{_SITE}}} / 100', "{{device}}", instant=True)],
              width=6, height=8, unit="dtdurations", color="blue", options={"colorMode": "value"}),
        Panel("SNMP 응답 시간 · SNMP response time", "timeseries",
              [Target(f'nms_snmp_poll_duration_seconds{{role="ap",{_SITE}}}', "{{device}}")],
              width=6, height=8, unit="s", description="Duration of each AP's last poll; a slow AP often "
                                                         "means a weak or congested link."),
    ])
    return Dashboard(
        uid="nms-wifi", title="공공와이파이 · Public Wi-Fi",
        description="476 APs at 266 sites (2021): availability, clients and traffic by category, install year "
                    "and site.",
        rows=[by_category, by_year, by_site, ap_detail], tags=["wifi"],
        links=[Link("NOC 종합 · Overview", dashboard_url(drill.OVERVIEW)),
               Link("분류 상세 · Category", dashboard_url(drill.CATEGORY, category="${category}")),
               Link("사이트 상세 · Site", dashboard_url(drill.SITE, category="${category}", site="${site}"))],
        annotations=[drill.reboot_annotation('role="ap"')],
        variables=[
            Variable("category", "분류 (category)", 'label_values(nms_site_devices{role="ap"}, category)'),
            drill.site_variable(),
        ])
