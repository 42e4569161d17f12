"""A small typed model of a Grafana dashboard (classic JSON model) and its rendering.

Only what these dashboards use is modelled. Every panel and every query takes its data source
from the dashboard variable ``${datasource}`` (type prometheus), never from a fixed uid, so the
same JSON works against any Prometheus-compatible source (Prometheus, Thanos, Mimir, VictoriaMetrics).
Panels are laid out automatically: rows one under the other, panels left to right, wrapping at 24.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 41  # Grafana 12.0's classic dashboard schema
GRID_WIDTH = 24
DATASOURCE_VAR = "datasource"
DATASOURCE = {"type": "prometheus", "uid": "${" + DATASOURCE_VAR + "}"}
EVENT_DRIVEN_MARK = "[event-driven]"
"""Put in a panel's description: it may be empty when nothing happened (the proof test only parses it)."""

MIN_STEP = "15s"
"""Every time series panel's minimum interval: the production scrape interval, so the default step of
a short time range is one scrape (Grafana: step = max(min interval, range / data points))."""

Thresholds = list[tuple[float | None, str]]
GREEN_ONLY: Thresholds = [(None, "green")]


@dataclass
class Target:
    """One PromQL query. ``instant`` asks for the last value only (stat, table, bar gauge panels)."""

    expr: str
    legend: str = ""
    instant: bool = False
    table: bool = False

    def to_json(self, ref_id: str) -> dict[str, Any]:
        return {
            "datasource": dict(DATASOURCE),
            "editorMode": "code",
            "expr": self.expr,
            "format": "table" if self.table else "time_series",
            "instant": self.instant,
            "legendFormat": self.legend or "__auto",
            "range": not self.instant,
            "refId": ref_id,
        }


@dataclass
class Panel:
    title: str
    kind: str  # timeseries | state-timeline | stat | gauge | bargauge | table | piechart
    targets: list[Target]
    width: int = 6
    height: int = 8
    description: str = ""
    unit: str | None = None
    decimals: int | None = None
    min: float | None = None
    max: float | None = None
    thresholds: Thresholds = field(default_factory=lambda: list(GREEN_ONLY))
    thresholds_mode: str = "absolute"
    """``percentage``: thresholds are % of the range min..max (e.g. a max taken from the data)."""
    mappings: dict[str, str | tuple[str, str]] = field(default_factory=dict)
    """Value -> text, or (text, colour): e.g. ifOperStatus 1 -> ("up", "green")."""
    color: str | None = None
    """A fixed colour; by default stat/gauge/bar gauge panels colour by threshold, the others by palette."""
    options: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    overrides: list[dict[str, Any]] = field(default_factory=list)
    transformations: list[dict[str, Any]] = field(default_factory=list)
    time_from: str | None = None
    """Relative time override, e.g. ``now/d`` for "today so far"."""
    event_driven: bool = False
    links: list[Link] = field(default_factory=list)
    """Panel links (the panel header's link menu): where to go from here."""
    data_links: list[Link] = field(default_factory=list)
    """Links on every value (a table cell, a series point); ``${__field.labels.device}`` etc. in the URL."""

    def _field_config(self) -> dict[str, Any]:
        defaults: dict[str, Any] = {
            "color": {"fixedColor": self.color, "mode": "fixed"} if self.color else
            {"mode": "thresholds" if self.kind in ("stat", "gauge", "bargauge", "state-timeline")
             else "palette-classic"},
            "mappings": [{"type": "value", "options": {value: _mapping(text, i)
                                                       for i, (value, text) in enumerate(self.mappings.items())}}]
            if self.mappings else [],
            "thresholds": {"mode": self.thresholds_mode,
                           "steps": [{"color": color, "value": value} for value, color in self.thresholds]},
        }
        for key, value in (("unit", self.unit), ("decimals", self.decimals), ("min", self.min), ("max", self.max)):
            if value is not None:
                defaults[key] = value
        if self.data_links:
            defaults["links"] = [link.to_json() for link in self.data_links]
        custom = dict(_CUSTOM.get(self.kind, {}))
        custom.update(self.custom)
        if custom:
            defaults["custom"] = custom
        return {"defaults": defaults, "overrides": list(self.overrides)}

    def to_json(self, panel_id: int, x: int, y: int) -> dict[str, Any]:
        if not self.unit:
            raise ValueError(f"panel {self.title!r} has no unit (bps, percent, s, short, none, ...)")
        description = self.description
        if self.event_driven and EVENT_DRIVEN_MARK not in description:
            description = f"{description} {EVENT_DRIVEN_MARK}".strip()
        options = _merge(_OPTIONS.get(self.kind, {}), self.options)
        out: dict[str, Any] = {
            "datasource": dict(DATASOURCE),
            "description": description,
            "fieldConfig": self._field_config(),
            "gridPos": {"h": self.height, "w": self.width, "x": x, "y": y},
            "id": panel_id,
            "options": options,
            "targets": [t.to_json(chr(ord("A") + i)) for i, t in enumerate(self.targets)],
            "title": self.title,
            "type": self.kind,
        }
        if self.kind in ("timeseries", "state-timeline"):
            out["interval"] = MIN_STEP
        if self.links:
            out["links"] = [link.to_json() for link in self.links]
        if self.transformations:
            out["transformations"] = list(self.transformations)
        if self.time_from:
            out["timeFrom"] = self.time_from
        return out


@dataclass
class Link:
    """A link to another dashboard (``/d/<uid>?var-x=...``); keeps the time range unless told not to."""

    title: str
    url: str
    keep_time: bool = True

    def to_json(self) -> dict[str, Any]:
        url = self.url
        if self.keep_time:
            url += ("&" if "?" in url else "?") + "${__url_time_range}"
        return {"targetBlank": False, "title": self.title, "url": url}


def dashboard_url(uid: str, **variables: str) -> str:
    """``/d/uid?var-a=...``: values may be Grafana expressions such as ``${__value.raw}``."""
    query = "&".join(f"var-{name}={value}" for name, value in variables.items())
    return f"/d/{uid}" + (f"?{query}" if query else "")


@dataclass
class Annotation:
    """Events drawn on every time series panel: a PromQL query whose non-empty points mark a time."""

    name: str
    expr: str
    color: str
    title: str
    text: str = ""
    step: str = "1m"

    def to_json(self) -> dict[str, Any]:
        return {"datasource": dict(DATASOURCE), "enable": True, "expr": self.expr, "hide": False,
                "iconColor": self.color, "name": self.name, "step": self.step, "tagKeys": "",
                "textFormat": self.text, "titleFormat": self.title, "useValueForTime": False}


@dataclass
class Row:
    """A titled row; with an empty title its panels follow on without a row header (a wall screen)."""

    title: str
    panels: list[Panel]


@dataclass
class Variable:
    """A query variable: ``label_values(...)`` against ``${datasource}``."""

    name: str
    label: str
    query: str
    multi: bool = True
    include_all: bool = True
    all_value: str | None = ".*"
    """With ``.*``, "All" also matches series whose label appears after the page loaded."""
    regex: str = ""
    """For ``query_result(...)``: ``/...(?<text>...)...(?<value>...)/`` shows a name, keeps the id as value."""

    def to_json(self) -> dict[str, Any]:
        qry_type = 3 if self.query.startswith("query_result(") else 1
        out: dict[str, Any] = {
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]} if self.include_all else {},
            "datasource": dict(DATASOURCE),
            "definition": self.query,
            "hide": 0,
            "includeAll": self.include_all,
            "label": self.label,
            "multi": self.multi,
            "name": self.name,
            "options": [],
            "query": {"qryType": qry_type, "query": self.query,
                      "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "refresh": 2,
            "regex": self.regex,
            "skipUrlSync": False,
            "sort": 1,
            "type": "query",
        }
        if self.include_all and self.all_value is not None:
            out["allValue"] = self.all_value
        return out


def datasource_variable() -> dict[str, Any]:
    return {
        "current": {},
        "hide": 0,
        "includeAll": False,
        "label": "데이터 소스 (Prometheus)",
        "multi": False,
        "name": DATASOURCE_VAR,
        "options": [],
        "query": "prometheus",
        "refresh": 1,
        "regex": "",
        "skipUrlSync": False,
        "type": "datasource",
    }


@dataclass
class Dashboard:
    uid: str
    title: str
    description: str
    rows: list[Row]
    tags: list[str] = field(default_factory=list)
    variables: list[Variable] = field(default_factory=list)
    refresh: str = "30s"
    time_from: str = "now-6h"
    links: list[Link] = field(default_factory=list)
    """Links in the dashboard's header: the next level down (or up) of the drill-down."""
    annotations: list[Annotation] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        panels: list[dict[str, Any]] = []
        next_id = 1
        y = 0
        for row in self.rows:
            if row.title:
                panels.append({"collapsed": False, "gridPos": {"h": 1, "w": GRID_WIDTH, "x": 0, "y": y},
                               "id": next_id, "panels": [], "title": row.title, "type": "row"})
                next_id += 1
                y += 1
            x, line_bottom = 0, y
            for panel in row.panels:
                if not 0 < panel.width <= GRID_WIDTH:
                    raise ValueError(f"{self.uid}: panel {panel.title!r} has width {panel.width}")
                if x + panel.width > GRID_WIDTH:
                    x, y = 0, line_bottom
                panels.append(panel.to_json(next_id, x, y))
                next_id += 1
                x += panel.width
                line_bottom = max(line_bottom, y + panel.height)
            y = line_bottom
        return {
            "annotations": {"list": [a.to_json() for a in self.annotations]},
            "description": self.description,
            "editable": True,
            "fiscalYearStartMonth": 0,
            "graphTooltip": 1,
            "id": None,
            "links": [*({"asDropdown": False, "icon": "dashboard", "includeVars": False, "keepTime": True,
                         "tags": [], "targetBlank": False, "title": link.title, "tooltip": "", "type": "link",
                         "url": link.url} for link in self.links),
                      {"asDropdown": True, "icon": "external link", "includeVars": False, "keepTime": True,
                       "tags": ["nms"], "targetBlank": False, "title": "NMS 대시보드", "type": "dashboards"}],
            "panels": panels,
            "refresh": self.refresh,
            "schemaVersion": SCHEMA_VERSION,
            "tags": ["nms", *self.tags],
            "templating": {"list": [datasource_variable(), *(v.to_json() for v in self.variables)]},
            "time": {"from": self.time_from, "to": "now"},
            "timepicker": {},
            "timezone": "browser",
            "title": self.title,
            "uid": self.uid,
            "version": 1,
            "weekStart": "",
        }


def _mapping(text: str | tuple[str, str], index: int) -> dict[str, Any]:
    if isinstance(text, tuple):
        return {"color": text[1], "index": index, "text": text[0]}
    return {"index": index, "text": text}


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


_REDUCE_LAST = {"calcs": ["lastNotNull"], "fields": "", "values": False}
_OPTIONS: dict[str, dict[str, Any]] = {
    "timeseries": {"legend": {"calcs": [], "displayMode": "list", "placement": "bottom", "showLegend": True},
                   "tooltip": {"mode": "multi", "sort": "desc"}},
    "stat": {"colorMode": "background", "graphMode": "area", "justifyMode": "auto", "orientation": "auto",
             "reduceOptions": _REDUCE_LAST, "textMode": "auto", "wideLayout": True},
    "gauge": {"minVizHeight": 75, "minVizWidth": 75, "orientation": "auto", "reduceOptions": _REDUCE_LAST,
              "showThresholdLabels": False, "showThresholdMarkers": True, "sizing": "auto"},
    "bargauge": {"displayMode": "gradient", "maxVizHeight": 300, "minVizHeight": 16, "minVizWidth": 8,
                 "namePlacement": "auto", "orientation": "horizontal", "reduceOptions": _REDUCE_LAST,
                 "showUnfilled": True, "sizing": "auto", "valueMode": "color"},
    "table": {"cellHeight": "sm", "footer": {"countRows": False, "fields": "", "reducer": ["sum"], "show": False},
              "showHeader": True},
    "state-timeline": {"alignValue": "left", "legend": {"displayMode": "list", "placement": "bottom",
                                                        "showLegend": True},
                       "mergeValues": True, "rowHeight": 0.9, "showValue": "never",
                       "tooltip": {"mode": "single", "sort": "none"}},
    "piechart": {"displayLabels": ["percent"], "legend": {"displayMode": "list", "placement": "right",
                                                          "showLegend": True},
                 "pieType": "donut", "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                 "tooltip": {"mode": "single", "sort": "none"}},
}
_CUSTOM: dict[str, dict[str, Any]] = {
    "timeseries": {"drawStyle": "line", "fillOpacity": 10, "lineWidth": 1, "pointSize": 4, "showPoints": "never",
                   "spanNulls": False, "stacking": {"group": "A", "mode": "none"}},
    "table": {"align": "auto", "cellOptions": {"type": "auto"}, "inspect": False},
    "state-timeline": {"fillOpacity": 80, "lineWidth": 0},
}


NEGATIVE_OUT = {"matcher": {"id": "byRegexp", "options": ".* out$"},
                "properties": [{"id": "custom.transform", "value": "negative-Y"}]}
"""Series whose legend ends in " out" are drawn below the axis (in above, out below)."""
HIDE_TIME = {"id": "organize", "options": {"excludeByName": {"Time": True}, "indexByName": {}, "renameByName": {}}}
STATUS_MAPPING: dict[str, str | tuple[str, str]] = {
    "1": ("up", "green"), "2": ("down", "red"), "3": ("testing", "yellow"), "5": ("dormant", "blue"),
    "7": ("lowerLayerDown", "red")}
"""IF-MIB ifOperStatus / ifAdminStatus values."""
