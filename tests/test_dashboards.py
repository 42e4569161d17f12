"""The dashboards' JSON: up to date with its Python source, current schema, sound layout, no fixed data source.

That the queries return data is shown against a running lab in test_dashboards_lab.py.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from dashboards import drill, windows
from dashboards.build import JSON_DIR, load_all, render_all, stale, write_all
from dashboards.model import DATASOURCE, EVENT_DRIVEN_MARK, GRID_WIDTH, SCHEMA_VERSION
from nms.exposition import generate_text
from nms.inventory.metrics import InventoryMetrics
from nms.inventory.models import Inventory

REPO = Path(__file__).resolve().parent.parent
PROVISIONING = REPO / "dashboards" / "provisioning"
DASHBOARDS = load_all()

# What issue 6 asks of each dashboard, as metrics its queries must use.
REQUIRED = {
    "nms-noc.json": ["nms_device_up", "nms_site_devices_up", 'role="backbone"', "ifHighSpeed", "nms_ips_sessions",
                     "nms_ips_events_detected_total", "nms_flow_top_talker_bytes", "nms_ivr_lines_in_use",
                     "nms_ivr_lines", "nms_ivr_protection_events_today", "nms_snmp_last_cycle_timestamp_seconds",
                     "nms_flow_records_total", "nms_config_last_reload_successful",
                     "nms_device_down_since_timestamp_seconds", "nms_site_info", 'ALERTS{alertstate="firing"'],
    "nms-category.json": ["nms_site_info", "nms_site_devices_up", "ifHCInOctets", "ALERTS"],
    "nms-site.json": ['site="$site"', "nms_device_info", "nms_device_up", "nms_ap_clients", "ifHCInOctets"],
    "nms-device.json": ['device="$device"', "ifHCInOctets", "ifHCInUcastPkts", "ifHCOutUcastPkts", "ifInErrors",
                        "ifOutDiscards", "ifOperStatus", "sysUpTime", "nms_snmp_device_reboots_total",
                        "nms_device_system_info", "nms_device_cpu_load_percent"],
    "nms-interface.json": ['ifName="$interface"', "ifHCInOctets", "ifHCOutOctets", "ifHCInUcastPkts", "ifInErrors",
                           "ifOutErrors", "ifInDiscards", "ifOutDiscards", "ifHighSpeed", "ifLastChange",
                           "ifAdminStatus"],
    "nms-wifi.json": ["nms_site_devices_up", "nms_category_ap_clients", "nms_site_ap_clients", "installed_group",
                      "nms_device_info", "ifHCInOctets", 'site="$site"', "nms_ap_clients"],
    "nms-backbone.json": ["ifHCInOctets", "ifHCOutOctets", "ifInErrors", "ifOutErrors", "ifInDiscards",
                          "ifOutDiscards", "ifOperStatus", "ifAdminStatus", "nms_device_cpu_load_percent",
                          "nms_storage_used_bytes", "nms_device_temperature_celsius", "nms_ips_sessions",
                          "nms_ips_events_blocked_total"],
    "nms-flows.json": ["nms_flow_protocol_bytes_total", "nms_flow_service_bytes_total", "nms_flow_site_bytes_total",
                       "category", "nms_flow_top_talker_bytes", "nms_flow_records_total", "nms_flow_templates",
                       "nms_flow_queue_dropped_total", "nms_flow_kernel_receive_drops_total",
                       "nms_flow_decode_errors_total", "nms_flow_sequence_lost_flows_total"],
    "nms-telephony.json": ["nms_ivr_lines_in_use", 'outcome="busy"', "nms_ivr_calls_today",
                           "nms_ivr_protection_events_today", "sum by (department, kind)", 'kind="time-limit-end"',
                           "nms_ivr_department_info", "nms_ivr_ami_connected", "nms_ivr_event_lag_seconds_bucket"],
}


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, including those nested in collapsed rows."""
    out = []
    for panel in dashboard["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def _walk(node: Any, path: str = "") -> Any:
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}.{key}", key, value
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def test_json_is_up_to_date_with_the_python_source() -> None:
    assert stale() == [], "run `python -m dashboards.build`"
    assert set(DASHBOARDS) == set(render_all()) == set(REQUIRED)


def test_build_writes_the_same_files(tmp_path: Path) -> None:
    written = write_all(tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in JSON_DIR.glob("*.json"))
    for p in written:
        assert p.read_text(encoding="utf-8") == (JSON_DIR / p.name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_current_schema_and_identity(name: str) -> None:
    d = DASHBOARDS[name]
    assert d["schemaVersion"] == SCHEMA_VERSION >= 41
    assert d["uid"] and len(d["uid"]) <= 40 and name == f"{d['uid']}.json"
    assert d["id"] is None, "a provisioned dashboard has no database id"
    assert "nms" in d["tags"] and d["title"]
    assert re.search(r"[가-힣]", d["title"]), "titles are Korean (with English)"


def test_uids_and_titles_are_unique() -> None:
    assert len({d["uid"] for d in DASHBOARDS.values()}) == len(DASHBOARDS)
    assert len({d["title"] for d in DASHBOARDS.values()}) == len(DASHBOARDS)


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_panel_ids_are_unique(name: str) -> None:
    ids = [p["id"] for p in _panels(DASHBOARDS[name])]
    assert all(isinstance(i, int) and i > 0 for i in ids)
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_grid_layout_is_valid(name: str) -> None:
    boxes = []
    for p in _panels(DASHBOARDS[name]):
        g = p["gridPos"]
        assert set(g) == {"h", "w", "x", "y"}, p["title"]
        assert all(isinstance(v, int) for v in g.values()), p["title"]
        assert g["x"] >= 0 and g["y"] >= 0 and g["h"] >= 1 and 1 <= g["w"] <= GRID_WIDTH, p["title"]
        assert g["x"] + g["w"] <= GRID_WIDTH, f"{p['title']} overflows the 24-column grid"
        if p["type"] == "row":
            assert g["w"] == GRID_WIDTH and g["h"] == 1 and g["x"] == 0
        boxes.append((p["title"], g))
    for (ta, a), (tb, b) in itertools.combinations(boxes, 2):
        overlap = (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
                   and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"])
        assert not overlap, f"{name}: {ta!r} overlaps {tb!r}"


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_no_hard_coded_datasource(name: str) -> None:
    d = DASHBOARDS[name]
    for path, key, value in _walk(d):
        if key == "datasource":
            assert value == DATASOURCE, f"{name}{path}: {value!r}"
    variables = d["templating"]["list"]
    ds = [v for v in variables if v["type"] == "datasource"]
    assert len(ds) == 1 and ds[0]["name"] == "datasource" and ds[0]["query"] == "prometheus"
    assert ds[0]["current"] == {}, "the data source variable must not pin a data source"
    for v in variables:
        if v["type"] == "query":
            assert v["datasource"] == DATASOURCE


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_panel_queries_through_the_variable(name: str) -> None:
    panels = [p for p in _panels(DASHBOARDS[name]) if p["type"] != "row"]
    assert panels
    for p in panels:
        assert p["datasource"] == DATASOURCE, p["title"]
        assert p["targets"], f"{p['title']} has no query"
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs)), p["title"]
        for t in p["targets"]:
            assert t["datasource"] == DATASOURCE, p["title"]
            assert t["expr"].strip(), p["title"]
            assert t["expr"].count("(") == t["expr"].count(")"), (p["title"], t["expr"])


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_variables_used_are_defined(name: str) -> None:
    d = DASHBOARDS[name]
    defined = {v["name"] for v in d["templating"]["list"]} | {"__rate_interval", "__interval", "__range"}
    text = " ".join(t["expr"] for p in _panels(d) for t in p.get("targets", []))
    text += " ".join(v.get("definition", "") for v in d["templating"]["list"])
    used = {a or b for a, b in re.findall(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", text)}
    assert used <= defined, used - defined


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_dashboards_cover_the_issue(name: str) -> None:
    text = " ".join(t["expr"] for p in _panels(DASHBOARDS[name]) for t in p.get("targets", []))
    missing = [m for m in REQUIRED[name] if m not in text]
    assert not missing, missing


def test_wifi_drills_down_by_site_and_backbone_shows_ifalias() -> None:
    wifi = DASHBOARDS["nms-wifi.json"]
    site = next(v for v in wifi["templating"]["list"] if v["name"] == "site")
    assert not site["includeAll"] and "$category" in site["definition"]
    assert any("${site" in p["title"] for p in wifi["panels"] if p["type"] == "row")
    backbone = DASHBOARDS["nms-backbone.json"]
    status = next(p for p in backbone["panels"] if p["type"] == "table")
    assert [t["expr"].split("{")[0] for t in status["targets"]] == ["ifOperStatus", "ifAdminStatus", "ifHighSpeed"]
    organize = next(t for t in status["transformations"] if t["id"] == "organize")["options"]
    assert "ifAlias" in organize["renameByName"] and "ifAlias" not in organize["excludeByName"]
    legends = [t["legendFormat"] for p in backbone["panels"] for t in p.get("targets", [])]
    assert sum("{{ifAlias}}" in legend for legend in legends) >= 4


def _gauges() -> list[dict[str, Any]]:
    return [p for d in DASHBOARDS.values() for p in _panels(d)
            if p["type"] == "gauge" and "nms_ivr_lines_in_use" in p["targets"][0]["expr"]]


def test_lines_gauge_takes_its_max_from_the_licensed_lines() -> None:
    """No hard-coded 60: the second query (nms_ivr_lines) sets the gauge's max, thresholds are % of it."""
    gauges = _gauges()
    assert len(gauges) == 2  # the NOC's and the telephony dashboard's
    for gauge in gauges:
        defaults = gauge["fieldConfig"]["defaults"]
        assert "max" not in defaults and defaults["thresholds"]["mode"] == "percentage"
        licensed = next(t for t in gauge["targets"] if t["expr"] == "sum(nms_ivr_lines)")
        [config] = [t for t in gauge["transformations"] if t["id"] == "configFromData"]
        assert config["options"]["configRefId"] == licensed["refId"]
        assert config["options"]["mappings"] == [{"fieldName": licensed["legendFormat"], "handlerKey": "max"}]


def test_event_driven_panels_list_problems_only() -> None:
    """Panels allowed to be empty show what is wrong: down devices, firing alerts, sites with APs down, errors."""
    marked = [(n, p) for n, d in DASHBOARDS.items() for p in _panels(d)
              if EVENT_DRIVEN_MARK in p.get("description", "")]
    assert marked
    for name, panel in marked:
        exprs = " ".join(t["expr"] for t in panel["targets"])
        assert ("nms_device_up" in exprs and "== 0" in exprs) or 'ALERTS{alertstate="firing"' in exprs \
            or "> 0" in exprs or "error" in exprs, (name, panel["title"])


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_panel_has_a_unit(name: str) -> None:
    for p in _panels(DASHBOARDS[name]):
        if p["type"] != "row":
            assert p["fieldConfig"]["defaults"].get("unit"), f"{name}: {p['title']} has no unit"


# -- rate windows ---------------------------------------------------------------------------------------
def test_no_rate_window_is_shorter_than_four_polls() -> None:
    assert windows.violations(DASHBOARDS) == []
    assert "$__rate_interval" not in json.dumps(DASHBOARDS) and "$__interval" not in json.dumps(DASHBOARDS)


def test_windows_follow_the_poll_intervals_of_nms_yaml() -> None:
    intervals = windows.poll_intervals()
    assert windows.window("ap") == windows.duration(4 * intervals["ap"]) == "4m"
    assert windows.window("backbone") == "1m" and windows.window("access") == "2m"
    assert windows.window() == windows.window(max(intervals, key=intervals.__getitem__))
    assert windows.classes_of('role="ap",site="x"') == ["ap"]
    assert windows.classes_of('role=~"backbone|ips"') == ["backbone", "ips"]
    assert windows.classes_of('device="x"') == sorted(intervals)  # no role: the slowest class counts
    assert windows.classes_of('role=~"$role"', {"role": ["backbone", "access"]}) == ["backbone", "access"]
    assert windows.classes_of('role!="ap"') == sorted(intervals)


@pytest.mark.parametrize(("expr", "bad"), [
    ('rate(ifHCInOctets{role="ap",ifName="Gi0"}[1m])', True),  # the issue's zig-zag: 1 m over 60 s polls
    ('rate(ifHCInOctets{role="ap",ifName="Gi0"}[4m])', False),
    ('rate(ifHCInOctets{role="backbone"}[1m])', False),
    ('increase(nms_flow_records_total[2m])', True),  # no role: read as the slowest class (4 m)
    ('sum(irate(ifHCInOctets{role=~"backbone|access"}[90s]))', True),
    ('rate(ifHCInOctets{role="ap"}[$__rate_interval])', True),
    ('increase(x{role="backbone"}[$__interval])', True),
    ("rate(x[$__range])", False),
    ("rate(x[4m:1m])", False),
    ("max_over_time(x[10s])", False),
    ('rate((ifHCInOctets{role="ap"} + 0)[1m:])', True),  # not a plain selector: refused, not skipped
    ('rate( ifHCInOctets {role="ap"} [ 1m ] )', True),
])
def test_window_check_catches_short_windows(expr: str, bad: bool) -> None:
    assert bool(windows.problems(expr)) is bad, windows.problems(expr)


def test_range_under_a_time_override_is_refused() -> None:
    assert windows.problems("increase(x[$__range])", time_override=True)


def test_build_check_fails_on_a_short_window_in_a_panel_or_a_rule(tmp_path: Path) -> None:
    out = tmp_path / "json"
    write_all(out)
    noc = json.loads((out / "nms-noc.json").read_text(encoding="utf-8"))
    panel = next(p for p in noc["panels"] if "ifHCInOctets" in json.dumps(p.get("targets", [])))
    panel["targets"][0]["expr"] = 'rate(ifHCInOctets{role="ap"}[1m]) * 8'
    (out / "nms-noc.json").write_text(json.dumps(noc), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "dashboards.build", "--check", "--out", str(out)],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    assert run.returncode == 1
    assert "rate window too short" in run.stderr and "[1m]" in run.stderr and "4m" in run.stderr
    rules = tmp_path / "alerts.yml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [
        {"alert": "Fast", "expr": 'rate(ifHCInOctets{role="ap"}[2m]) > 0'}]}]}))
    assert windows.rule_violations(rules) == [
        'alerts.yml: rule Fast: rate(ifHCInOctets{role="ap"}[2m]): window 2m < 4 polls of its slowest class '
        "(ap) = 4m"]
    assert windows.rule_violations() == []  # the shipped rules


# -- drill-down -----------------------------------------------------------------------------------------
def _link_targets(dashboard: dict[str, Any]) -> set[str]:
    """The dashboard uids this dashboard links to (header links, panel links, data links, column links)."""
    text = json.dumps({"links": dashboard["links"], "panels": dashboard["panels"]})
    return set(re.findall(r'"/d/([\w-]+)', text))


def test_every_level_links_to_the_next() -> None:
    by_uid = {d["uid"]: d for d in DASHBOARDS.values()}
    chain = [drill.OVERVIEW, drill.CATEGORY, drill.SITE, drill.DEVICE, drill.INTERFACE]
    for upper, lower in itertools.pairwise(chain):
        assert lower in _link_targets(by_uid[upper]), f"{upper} does not link to {lower}"
    for uid, d in by_uid.items():
        targets = _link_targets(d)
        assert targets and targets <= set(by_uid), (uid, targets)
        if uid != drill.OVERVIEW:
            assert drill.OVERVIEW in targets or drill.SITE in targets, uid
    noc = by_uid[drill.OVERVIEW]
    down = next(p for p in noc["panels"] if p["title"].startswith("장애 장비 목록"))
    assert "nms_site_info" in down["targets"][0]["expr"] and "nms_device_down_since_timestamp_seconds" in \
        down["targets"][0]["expr"]
    assert {o["matcher"]["options"] for o in down["fieldConfig"]["overrides"]} >= {"device", "site"}


def test_links_carry_the_variables_the_next_level_needs() -> None:
    by_uid = {d["uid"]: d for d in DASHBOARDS.values()}
    defined = {uid: {v["name"] for v in d["templating"]["list"]} for uid, d in by_uid.items()}
    for uid, d in by_uid.items():
        text = json.dumps({"links": d["links"], "panels": d["panels"]}, ensure_ascii=False)
        for target, query in re.findall(r'"/d/([\w-]+)\??([^"]*)"', text):
            names = set(re.findall(r"var-(\w+)=", query))
            assert names <= defined[target], (uid, target, names - defined[target])


def test_names_not_ids() -> None:
    """The site variable shows Korean names (nms_site_info's name) and keeps the id as its value."""
    for d in DASHBOARDS.values():
        for v in d["templating"]["list"]:
            if v["name"] == "site":
                assert v["definition"].startswith("query_result(") and "nms_site_info" in v["definition"]
                assert "(?<text>" in v["regex"] and "(?<value>" in v["regex"]
            if v["name"] == "department":
                assert "nms_ivr_department_info" in v["definition"] and "(?<text>" in v["regex"]
    telephony = DASHBOARDS["nms-telephony.json"]
    legends = [t["legendFormat"] for p in _panels(telephony) for t in p.get("targets", [])]
    assert any("{{name}}" in legend for legend in legends)


def test_annotations_mark_reboots_and_config_changes() -> None:
    for name, d in DASHBOARDS.items():
        exprs = [a["expr"] for a in d["annotations"]["list"]]
        if name != "nms-flows.json":
            assert any("nms_admin_changes_total" in e for e in exprs) or name == "nms-wifi.json", name
        if name in ("nms-noc.json", "nms-site.json", "nms-device.json", "nms-interface.json"):
            assert any("nms_snmp_device_reboots_total" in e for e in exprs), name
        for a in d["annotations"]["list"]:
            assert a["datasource"] == DATASOURCE and a["enable"] and a["titleFormat"]


def test_count_panels_cannot_show_fractions() -> None:
    """A panel with 0 decimals counts something: no bare increase() (Prometheus extrapolates it)."""
    for name, d in DASHBOARDS.items():
        for p in _panels(d):
            if p["type"] == "row" or p["fieldConfig"]["defaults"].get("decimals") != 0:
                continue
            for t in p["targets"]:
                if "increase(" in t["expr"]:
                    assert t["expr"].startswith("round("), (name, p["title"], t["expr"])
            assert "nms_ivr_calls_total" not in json.dumps(p["targets"]), (name, p["title"])
            assert "nms_ivr_protection_events_total" not in json.dumps(p["targets"]), (name, p["title"])


def test_provisioning_files() -> None:
    ds = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yaml").read_text())
    assert ds["apiVersion"] == 1
    [source] = ds["datasources"]
    assert source["type"] == "prometheus" and source["isDefault"] is True
    assert source["url"].startswith("http://")
    dash = yaml.safe_load((PROVISIONING / "dashboards" / "nms.yaml").read_text())
    [provider] = dash["providers"]
    assert provider["type"] == "file" and provider["options"]["path"].startswith("/")
    assert provider["allowUiUpdates"] is False


def test_inventory_info_series() -> None:
    inventory = Inventory(
        sites=[{"id": "park-001", "name": "금천체육공원", "category": "park", "installed": 2014},
               {"id": "park-002", "name": "삼각공원", "category": "park", "installed": 2021}],
        devices=[{"name": "ap-1", "role": "ap", "site": "park-001", "address": "127.0.0.1", "profile": "ap-cisco",
                  "credentials": "district-v2c"},
                 {"name": "ap-2", "role": "ap", "site": "park-002", "address": "127.0.0.2", "profile": "ap-cisco",
                  "credentials": "district-v2c", "installed": 2022, "status": "planned"}])
    text = generate_text(InventoryMetrics(inventory)).decode()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in text_string_to_metric_families(text)
               for s in f.samples}
    site = {dict(k)["site"]: dict(k) for n, k in samples if n == "nms_site_info"}
    assert site["park-001"]["name"] == "금천체육공원" and site["park-001"]["installed_group"] == "2013-2016"
    device = {dict(k)["device"]: dict(k) for n, k in samples if n == "nms_device_info"}
    assert device["ap-1"]["installed"] == "2014" and device["ap-1"]["status"] == "active"
    assert device["ap-2"]["installed"] == "2022" and device["ap-2"]["status"] == "planned"
    assert {v for (n, _), v in samples.items() if n.endswith("_info")} == {1.0}
