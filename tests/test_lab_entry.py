"""``python -m lab run`` (what `make run` does): the lab, then the service polling it; Ctrl-C stops both.

The small district on random loopback ports, with flows and the IVR switched off so that no fixed
port (2055, Asterisk's) is bound; the admin page on a free port.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from lab import lab_down, lab_status
from tests.lab_fixtures import free_tcp_port, write_small_district
from tests.service_runner import wait_for

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def run_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="nms-lab-entry-"))
    path.chmod(0o755)  # the agents' unprivileged user reads their data below it
    try:
        yield path
    finally:
        lab_down(path)
        shutil.rmtree(path, ignore_errors=True)


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.read().decode()
    except OSError:
        return ""


def test_lab_run_starts_the_lab_and_the_service_and_stops_both(tmp_path: Path, run_dir: Path) -> None:
    config = write_small_district(tmp_path / "district")
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    admin_port = free_tcp_port()
    classes = {role: {"interval": 5, "timeout": 1.0} for role in ("backbone", "access", "ips", "ap", "host")}
    settings.update(flows={"enabled": False}, ivr={"enabled": False}, polling={"jitter": 0.0, "classes": classes},
                    admin={"enabled": True, "listen": f"127.0.0.1:{admin_port}", "state_dir": str(tmp_path / "admin")})
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    listen = settings["http"]["listen"]
    proc = subprocess.Popen([sys.executable, "-m", "lab", "run", "--config", str(config), "--run-dir", str(run_dir),
                             "--no-prometheus"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "NMS_SECRETS_DIR": str(tmp_path / "none")})
    try:
        polled = wait_for(lambda: any(line.startswith("ifHCInOctets{") and 'device="acc-sw-01"' in line
                                      for line in _get(f"http://{listen}/metrics").splitlines()), timeout=120)
        assert polled, "the service never served the lab's devices on /metrics"
        state = lab_status(run_dir)
        assert state is not None and all(p.running() for p in state.agents)
        assert _get(f"http://127.0.0.1:{admin_port}/login"), "the admin page does not answer"
        assert (run_dir / "secrets" / "admin-password").exists()  # the lab's generated admin login
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "admin page login (lab only)" in out
    assert lab_status(run_dir) is None, "the lab keeps running after the service stopped"
