"""The Makefile's set-up never touches the host's own daemons (it used to `pkill -x snmpd`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.lab_fixtures import free_udp_port, require_tool

REPO = Path(__file__).resolve().parent.parent


def test_no_target_kills_processes_by_name() -> None:
    text = (REPO / "Makefile").read_text(encoding="utf-8") + (REPO / "scripts/apt-install.sh").read_text()
    for word in ("pkill", "killall", "kill -9"):
        assert word not in text


def test_make_apt_leaves_a_running_host_snmpd_alone(tmp_path: Path) -> None:
    """A real snmpd that the project did not start (as a host's own would be) survives `make apt`."""
    snmpd = require_tool("snmpd", "snmpd")
    port = free_udp_port(["127.0.0.1"])
    conf = tmp_path / "snmpd.conf"
    conf.write_text("rocommunity host-own 127.0.0.1\n", encoding="utf-8")
    proc = subprocess.Popen([snmpd, "-f", "-Lo", "-C", "-c", str(conf), f"udp:127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        done = subprocess.run(["make", "-C", str(REPO), "apt"], capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout + done.stderr
        assert proc.poll() is None, "make apt stopped a snmpd it did not start"
        answer = subprocess.run([require_tool("snmpget", "snmp"), "-v2c", "-c", "host-own", "-t", "2", "-r", "1",
                                 f"127.0.0.1:{port}", "1.3.6.1.2.1.1.3.0"], capture_output=True, text=True, timeout=30)
        assert "Timeticks" in answer.stdout, answer.stdout + answer.stderr
    finally:
        proc.terminate()
        proc.wait(10)
