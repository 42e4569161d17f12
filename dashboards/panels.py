"""Panels that several levels of the drill-down show, each with its links to the next level."""

from __future__ import annotations

from dashboards import drill
from dashboards.model import Link, Panel, Target
from dashboards.promql import down_since, firing_alerts, with_site_name

_ALERT_COLUMNS = {"Time": True, "Value": True, "__name__": True, "alertstate": True, "instance": True, "job": True}


def active_alerts(selector: str = "", width: int = 12, height: int = 6) -> Panel:
    """Alerts firing now (Prometheus's ``ALERTS``), the device column leading to the device's page."""
    return Panel("활성 경보 · Active alerts", "table", [Target(firing_alerts(selector), instant=True, table=True)],
                 width=width, height=height, unit="none", event_driven=True,
                 transformations=[{"id": "organize", "options": {
                     "excludeByName": _ALERT_COLUMNS,
                     "indexByName": {"severity": 0, "alertname": 1, "device": 2, "site": 3},
                     "renameByName": {"severity": "심각도", "alertname": "경보"}}}],
                 overrides=[column_link("device", drill.to_device())],
                 description="Alerts of configs/prometheus/alerts.yml firing now; empty when all is well.")


def down_devices(selector: str = "", width: int = 12, height: int = 6) -> Panel:
    """Down devices with their site's name and since when they have been down."""
    return Panel("장애 장비 목록 · Down devices", "table", [
        Target(with_site_name(down_since(selector)), instant=True, table=True),
    ], width=width, height=height, unit="dtdurations", event_driven=True, transformations=[
        {"id": "organize", "options": {
            "excludeByName": {"Time": True},
            "indexByName": {"device": 0, "name": 1, "site": 2, "Value": 3},
            "renameByName": {"name": "사이트", "Value": "장애 지속 · down for"}}}],
        overrides=[column_link("device", drill.to_device()), column_link("site", drill.to_site())],
        description="Devices whose last poll failed, with how long since they last answered. Empty while every "
                    "device answers.")


def device_states(selector: str, width: int = 24, height: int = 8) -> Panel:
    """Up/down over time, one row per device (LibreNMS's availability bar)."""
    return Panel("장비 상태 추이 · Up/down over time", "state-timeline", [
        Target(f"max by (device) (nms_device_up{{{selector}}})", "{{device}}")],
        width=width, height=height, unit="none", mappings=dict(drill.UP_DOWN), min=0, max=1,
        thresholds=[(None, "red"), (1, "green")], data_links=[drill.to_device("${__field.labels.device}", "$site")],
        description="Each device's SNMP answer per poll: green answered, red did not.")


def column_link(column: str, link: Link) -> dict:
    """A table column whose cells lead to ``link`` (``${__value.raw}`` is the cell)."""
    return {"matcher": {"id": "byName", "options": column}, "properties": [{"id": "links", "value": [link.to_json()]}]}


def devices_up_down(selector: str, height: int) -> list[Panel]:
    """Two stats: devices answering and devices not answering, from the site rollups."""
    return [
        Panel("동작 장비 · Devices up", "stat", [Target(f"sum(nms_site_devices_up{{{selector}}})", instant=True)],
              width=4, height=height, unit="short", decimals=0, color="green", options={"colorMode": "value"}),
        Panel("장애 장비 · Devices down", "stat", [Target(
            f"sum(nms_site_devices{{{selector}}}) - sum(nms_site_devices_up{{{selector}}})", instant=True)],
            width=4, height=height, unit="short", decimals=0, thresholds=[(None, "green"), (1, "red")]),
    ]
