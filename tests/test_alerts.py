"""The alert rules and Prometheus configurations, checked by promtool (Debian package 'prometheus').

Whether each expression evaluates against the real series is shown in test_dashboards_lab.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
PROM_DIR = REPO / "configs" / "prometheus"
ALERTS = PROM_DIR / "alerts.yml"
RECORDING = PROM_DIR / "recording.yml"
AVAILABILITY = PROM_DIR / "availability.yml"
RULE_TESTS = sorted((PROM_DIR / "tests").glob("*.yml"))
CONFIGS = sorted(p for p in PROM_DIR.glob("prometheus*.yml"))

# Issue 6's list, by the rule that answers each line.
ISSUE_RULES = {
    "a device down for 5 minutes": "NmsDeviceDown",
    "every AP of a site down": "NmsSiteAllApsDown",
    "an AP category's availability below a threshold": "NmsApAvailabilityLow",
    "a backbone link down": "NmsBackboneLinkDown",
    "an uplink over 80% for 15 minutes": "NmsUplinkSaturated",
    "the IPS unreachable": "NmsIpsUnreachable",
    "a collector stalled": "NmsCollectorStalled",
    "flow drops rising": "NmsFlowDrops",
    "flow decode errors rising": "NmsFlowDecodeErrors",
    "AMI disconnected": "NmsAmiDisconnected",
    "all 60 lines busy for 5 minutes": "NmsAllLinesBusy",
    "a surge of protection events": "NmsProtectionEventSurge",
}
# Issue 14's list.
ISSUE_14_RULES = {
    "backbone down, critical": "NmsBackboneDown",
    "access switch down, one alert naming its sites": "NmsAccessSwitchDown",
    "one AP down, warning": "NmsApDown",
    "interface errors": "NmsInterfaceErrors",
    "interface discards": "NmsInterfaceDiscards",
    "port flapping (ifLastChange)": "NmsPortFlapping",
    "temperature": "NmsDeviceTemperatureHigh",
    "CPU": "NmsDeviceCpuHigh",
    "SIP trunk down": "NmsSipTrunkDown",
    "SIP trunk unregistered": "NmsSipTrunkUnregistered",
    "holiday list ending within 60 days": "NmsHolidayListEnding",
    "repeated failed admin logins": "NmsAdminLoginFailures",
    "collectors' own health": "NmsSnmpDecodeErrors",
    "traps: a linkDown": "NmsTrapLinkDown",
    "traps: authentication failures": "NmsSnmpAuthFailures",
    "traps: unknown sources": "NmsTrapsFromUnknownSources",
    "notifications failing": "NmsAlertDeliveryFailing",
}
RUNBOOKS = REPO / "docs" / "runbooks"
DASHBOARD_UIDS = {json.loads(p.read_text(encoding="utf-8"))["uid"]
                  for p in (REPO / "dashboards" / "json").glob("*.json")}
HANGUL = re.compile(r"[가-힣]")


def promtool() -> str:
    path = shutil.which("promtool") or ("/usr/bin/promtool" if Path("/usr/bin/promtool").exists() else None)
    if path is None:
        pytest.fail("promtool is missing: install the Debian package 'prometheus' (run `make setup`)")
    return path


def run_promtool(*args: str, cwd: Path = REPO) -> str:
    done = subprocess.run([promtool(), *args], capture_output=True, text=True, timeout=120, cwd=cwd)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def rules() -> dict[str, dict]:
    doc = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return {r["alert"]: r for g in doc["groups"] for r in g["rules"] if "alert" in r}


def test_promtool_check_rules() -> None:
    out = run_promtool("check", "rules", str(ALERTS))
    doc = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    assert f"SUCCESS: {sum(len(g['rules']) for g in doc['groups'])} rules found" in out


def test_promtool_check_recording_rules() -> None:
    doc = yaml.safe_load(RECORDING.read_text(encoding="utf-8"))
    out = run_promtool("check", "rules", str(RECORDING))
    assert f"SUCCESS: {sum(len(g['rules']) for g in doc['groups'])} rules found" in out


def test_promtool_test_rules() -> None:
    assert RULE_TESTS, "no promtool unit tests in configs/prometheus/tests"
    out = run_promtool("test", "rules", *map(str, RULE_TESTS))
    assert "SUCCESS" in out and "FAILED" not in out


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_promtool_check_config(config: Path) -> None:
    out = run_promtool("check", "config", config.name, cwd=config.parent)
    assert "is valid prometheus config file syntax" in out


def test_every_rule_of_the_issue_exists() -> None:
    missing = {line: name for line, name in (ISSUE_RULES | ISSUE_14_RULES).items() if name not in rules()}
    assert not missing, missing


def test_every_rule_has_a_team_a_runbook_and_a_dashboard() -> None:
    for name, rule in rules().items():
        assert rule["labels"]["team"] in ("network", "telephony"), name
        notes = rule["annotations"]
        assert notes["runbook_url"] == f"docs/runbooks/{name}.md", name
        page = REPO / notes["runbook_url"]
        assert page.is_file(), f"{name}: no runbook {page}"
        text = page.read_text(encoding="utf-8")
        assert text.startswith(f"# {name}") and "## Check first" in text, f"{name}: runbook lacks its title or checks"
        uid = notes["dashboard_url"].removeprefix("/d/")
        assert uid in DASHBOARD_UIDS, f"{name}: dashboard uid {uid!r} not in dashboards/json"
    orphans = {p.stem for p in RUNBOOKS.glob("*.md")} - set(rules()) - {"README"}
    assert not orphans, f"runbooks of no rule: {orphans}"


def test_severities_match_the_harm() -> None:
    r = rules()
    assert r["NmsBackboneDown"]["labels"]["severity"] == "critical"
    assert r["NmsIpsUnreachable"]["labels"]["severity"] == "critical"
    assert r["NmsAccessSwitchDown"]["labels"]["severity"] == "critical"
    assert r["NmsApDown"]["labels"]["severity"] == "warning"
    assert r["NmsSiteAllApsDown"]["labels"]["severity"] == "critical"
    assert ">= 2" in r["NmsSiteAllApsDown"]["expr"] and 'important="true"' in r["NmsSiteAllApsDown"]["expr"]
    # parents fire before their children, so the inhibiting alert is there first
    minutes = {n: int(r[n]["for"].removesuffix("m")) for n in ("NmsBackboneDown", "NmsAccessSwitchDown",
                                                               "NmsApDown", "NmsSiteAllApsDown")}
    assert minutes["NmsBackboneDown"] < minutes["NmsAccessSwitchDown"] < minutes["NmsApDown"]
    assert minutes["NmsAccessSwitchDown"] < minutes["NmsSiteAllApsDown"]


def test_every_rule_has_korean_and_english_annotations() -> None:
    for name, rule in rules().items():
        notes = rule.get("annotations", {})
        for key in ("summary", "description"):
            assert notes.get(key), f"{name}: no {key}"
            assert not HANGUL.search(notes[key]), f"{name}: {key} should be English"
            assert HANGUL.search(notes.get(f"{key}_ko", "")), f"{name}: no Korean {key}_ko"
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        assert rule["labels"]["area"] in ("network", "wifi", "collector", "telephony", "security"), name


def test_every_rule_is_unit_tested_firing_and_quiet() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS:
        for test in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for case in test.get("alert_rule_test", []):
                (firing if case.get("exp_alerts") else quiet).add(case["alertname"])
    assert set(rules()) <= firing, f"never shown firing: {set(rules()) - firing}"
    assert set(rules()) <= quiet, f"never shown staying quiet: {set(rules()) - quiet}"


def test_rule_thresholds_match_the_issue() -> None:
    r = rules()
    assert r["NmsDeviceDown"]["for"] == "5m" and r["NmsApDown"]["for"] == "5m"
    assert r["NmsUplinkSaturated"]["for"] == "15m" and "> 0.8" in r["NmsUplinkSaturated"]["expr"]
    assert r["NmsAllLinesBusy"]["for"] == "5m" and "nms_ivr_lines" in r["NmsAllLinesBusy"]["expr"]


def test_shipped_configs_load_the_shipped_rules() -> None:
    for config in CONFIGS:
        doc = yaml.safe_load(config.read_text(encoding="utf-8"))
        files = [config.parent / f for f in doc.get("rule_files", [])]
        shipped = (ALERTS.resolve(), RECORDING.resolve(), AVAILABILITY.resolve())
        assert all(f.resolve() in shipped for f in files), (config.name, files)
    production = yaml.safe_load((PROM_DIR / "prometheus.yml").read_text(encoding="utf-8"))
    assert production["rule_files"] == ["alerts.yml", "recording.yml", "availability.yml"]


def test_availability_recording_rules_load_and_are_unit_tested() -> None:
    out = run_promtool("check", "rules", str(AVAILABILITY))
    records = [r["record"] for g in yaml.safe_load(AVAILABILITY.read_text(encoding="utf-8"))["groups"]
               for r in g["rules"]]
    assert f"SUCCESS: {len(records)} rules found" in out
    tested = (PROM_DIR / "tests" / "availability_test.yml").read_text(encoding="utf-8")
    untested = [name for name in records if f"expr: {name}" not in tested]
    assert not untested, f"recording rules without a promtool test: {untested}"
