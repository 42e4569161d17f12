"""The shipped Alertmanager configuration, checked by the real amtool (Debian 'prometheus-alertmanager')."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from lab.alertmanager import AMTOOL, Intervals, render_config, tool

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "configs" / "alertmanager" / "alertmanager.yml"
ALERTS = REPO / "configs" / "prometheus" / "alerts.yml"


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool(AMTOOL), *args], capture_output=True, text=True, timeout=60)


def test_amtool_check_config() -> None:
    done = amtool("check-config", str(CONFIG))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout and "1 templates" in done.stdout


@pytest.mark.parametrize(("labels", "receiver"), [
    (["alertname=NmsAccessSwitchDown", "team=network", "severity=critical"], "network-urgent"),
    (["alertname=NmsApDown", "team=network", "severity=warning"], "network-mail"),
    (["alertname=NmsSipTrunkDown", "team=telephony", "severity=critical"], "telephony-urgent"),
    (["alertname=NmsHolidayListEnding", "team=telephony", "severity=warning"], "telephony-mail"),
    (["alertname=SomethingUnlabelled"], "network-mail"),  # the root catches what has no team
])
def test_amtool_routes(labels: list[str], receiver: str) -> None:
    done = amtool("config", "routes", "test", f"--config.file={CONFIG}", f"--verify.receivers={receiver}", *labels)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == receiver


def test_every_rule_routes_to_its_team_and_severity() -> None:
    rules = [r for g in yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"] for r in g["rules"]
             if "alert" in r]
    for rule in rules:
        labels = rule["labels"]
        want = f"{labels['team']}-{'urgent' if labels['severity'] == 'critical' else 'mail'}"
        done = amtool("config", "routes", "test", f"--config.file={CONFIG}", f"--verify.receivers={want}",
                      f"alertname={rule['alert']}", *(f"{k}={v}" for k, v in labels.items()))
        assert done.returncode == 0, (rule["alert"], done.stdout + done.stderr)


def test_inhibit_rules_compare_topology_labels_the_rules_carry() -> None:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    rules = {r["alert"]: r for g in yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"] for r in g["rules"]
             if "alert" in r}
    for inhibit in config["inhibit_rules"]:
        source = inhibit["source_matchers"][0].split("=", 1)[1].strip('"')
        assert source in rules, source
        for label in inhibit["equal"]:
            # the source rule's expression must produce the label the targets are compared on
            assert label in rules[source]["expr"] or label == "instance", (source, label)
    groups = config["route"]["group_by"]
    assert {"access_switch", "backbone"} <= set(groups)


def test_lab_rendering_moves_only_the_delivery_ends(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("x")
    text = render_config("127.0.0.1:2525", "http://127.0.0.1:9999/api/alerts/relay", token,
                         Intervals(group_wait="1s", group_interval="2s", repeat_interval="1h"))
    (tmp_path / "am.yml").write_text(text, encoding="utf-8")
    done = amtool("check-config", str(tmp_path / "am.yml"))
    assert done.returncode == 0, done.stdout + done.stderr
    lab, shipped = yaml.safe_load(text), yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    assert lab["global"]["smtp_smarthost"] == "127.0.0.1:2525"
    assert lab["inhibit_rules"] == shipped["inhibit_rules"]
    assert lab["route"]["group_wait"] == "1s" and lab["route"]["routes"][0]["routes"][0]["repeat_interval"] == "1h"
    hooks = [h for r in lab["receivers"] for h in r.get("webhook_configs", [])]
    assert hooks and all(h["http_config"]["authorization"]["credentials_file"] == str(token) for h in hooks)
