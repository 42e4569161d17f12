"""The ``nms`` command as a user runs it: the installed entry point, in a subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def nms(*args: str, check: bool = False) -> subprocess.CompletedProcess:
    exe = shutil.which("nms", path=str(Path(sys.executable).parent))
    assert exe, "the nms entry point is not installed in this venv: run `make setup`"
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=60, check=check)


def test_help_lists_every_command():
    out = nms("--help", check=True).stdout
    for command in ("run", "collect", "inventory", "config"):
        assert command in out
    assert "NMS_SECRET_" in out and "/-/reload" in out
    assert "python -m lab run" in out  # the simulated district has its own entry point, outside the product


def test_lab_entry_point_lists_its_actions():
    """`make run` is `python -m lab run`: the lab drives the application from outside the shipped package."""
    out = subprocess.run([sys.executable, "-m", "lab", "--help"], capture_output=True, text=True, timeout=60,
                         check=True, cwd=REPO).stdout
    for action in ("run", "up", "down", "status", "--run-dir", "--keep-lab", "--no-prometheus"):
        assert action in out


def test_inventory_summary_json_has_the_documented_shape():
    summary = json.loads(nms("inventory", "summary", "--json", check=True).stdout)
    assert set(summary) == {"by_category", "by_year", "devices_by_role"}
    assert list(summary["by_year"]) == ["2013-2016", "2017", "2018", "2019", "2020", "2021"]
    assert sum(v["aps"] for v in summary["by_category"].values()) == 476
    assert sum(v["sites"] for v in summary["by_year"].values()) == 266


def test_inventory_summary_text_prints_both_tables():
    out = nms("inventory", "summary", check=True).stdout
    assert "관공서 (government)" in out and "2013-2016" in out and "476" in out


def test_invalid_config_exits_3_and_names_file_line_and_key(tmp_path):
    for name in ("nms.yaml", "snmp.yaml", "inventory.yaml"):
        shutil.copy(REPO / "configs" / name, tmp_path / name)
    text = (tmp_path / "inventory.yaml").read_text()
    (tmp_path / "inventory.yaml").write_text(text.replace("profile: switch", "profile: swtich", 1))
    result = nms("--config", str(tmp_path / "nms.yaml"), "config", "check")
    assert result.returncode == 3
    assert f"{tmp_path / 'inventory.yaml'}:" in result.stderr
    assert "profile: unknown SNMP profile 'swtich'" in result.stderr


def test_config_check_accepts_the_embedded_default():
    out = nms("config", "check", check=True).stdout
    assert "OK" in out and "490 active" in out
