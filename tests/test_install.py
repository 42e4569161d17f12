"""`make install` into a fresh root, the systemd units, and the service started from the installed files.

The units are checked with `systemd-analyze verify` against the installed tree, and nms.service's
ExecStart runs as the unit's user, with the unit's capabilities and hardening (see
tests/installed_root.py), against the simulated district's real SNMP agents on random ports.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from lab import AgentSet
from nms import exitcodes
from nms.app.district import District
from tests.installed_root import UNIT_DIR, UNITS, Unit, exec_argv, require_namespaces, run_in_root, start_in_root
from tests.lab_fixtures import free_tcp_port, free_udp_port
from tests.service_runner import wait_for

REPO = Path(__file__).resolve().parent.parent
SYSTEMD = REPO / "configs" / "systemd"


@pytest.fixture(scope="module")
def installed() -> Iterator[Path]:
    """`make install DESTDIR=<fresh root>`, once for the module."""
    require_namespaces()
    root = Path(tempfile.mkdtemp(prefix="nms-install-test-"))
    try:
        done = subprocess.run(["make", "-C", str(REPO), "install", f"DESTDIR={root}"], capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, f"make install failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_install_lays_out_code_units_configuration_and_state(installed: Path) -> None:
    nms = installed / "opt/nms/bin/nms"
    assert nms.is_file() and os.access(nms, os.X_OK)
    # The staged scripts name the installed interpreter, not the staging directory.
    assert nms.read_text(encoding="utf-8").splitlines()[0] == "#!/opt/nms/bin/python"
    assert not any(str(installed) in p.read_text(errors="replace") for p in (installed / "opt/nms/bin").glob("*")
                   if p.is_file() and not p.is_symlink())
    for unit in UNITS:
        assert (installed / UNIT_DIR / unit).read_bytes() == (SYSTEMD / unit).read_bytes()
    for name in ("nms.yaml", "inventory.yaml", "snmp.yaml", "ivr.yaml"):
        assert (installed / "etc/nms" / name).read_bytes() == (REPO / "configs" / name).read_bytes()
    assert (installed / "usr/lib/sysusers.d/nms.conf").is_file()
    assert (installed / "usr/lib/tmpfiles.d/nms.conf").is_file()
    assert (installed / "var/lib/nms").is_dir()
    assert (installed / "etc/credstore/nms").stat().st_mode & 0o777 == 0o700
    assert (installed / "opt/nms/share/doc/nms/deploying.md").is_file()
    assert (installed / "opt/nms/share/nms/prometheus/alerts.yml").is_file()


def test_install_keeps_an_operators_configuration(installed: Path) -> None:
    edited = installed / "etc/nms/snmp.yaml"
    original = edited.read_bytes()
    edited.write_text("# edited by the operator\n", encoding="utf-8")
    try:
        done = subprocess.run(["make", "-C", str(REPO), "install", f"DESTDIR={installed}"], capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        assert edited.read_text(encoding="utf-8") == "# edited by the operator\n"
        assert "kept /etc/nms/snmp.yaml (exists)" in done.stdout
    finally:
        edited.write_bytes(original)


def test_units_are_hardened_as_documented() -> None:
    for name in UNITS:
        unit = Unit.read(SYSTEMD / name)
        assert unit.get("User") == "nms", name
        assert unit.get("ProtectSystem") == "strict", name
        assert unit.get("NoNewPrivileges") == "yes", name
        assert unit.get("PrivateTmp") == "yes", name
        assert unit.get("ExecReload") == "/bin/kill -HUP $MAINPID", name
        # No restart loop on what a restart cannot fix: usage, configuration, secrets (nms.exitcodes).
        assert unit.get("RestartPreventExitStatus").split() == [str(c) for c in (exitcodes.USAGE, exitcodes.CONFIG,
                                                                                   exitcodes.SECRET)], name
        assert exec_argv(unit, "1-4", {"NMS_METRICS": "x", "NMS_FLOWS_LISTEN": "y"})[:3] == \
            ["/opt/nms/bin/nms", "--config", "/etc/nms/nms.yaml"], name
        # Only the flow socket's buffer (and the trap port below 1024) need a capability.
        assert set(unit.all("CapabilityBoundingSet")) <= {"CAP_NET_ADMIN", "CAP_NET_BIND_SERVICE"}, name
        assert unit.all("AmbientCapabilities") == unit.all("CapabilityBoundingSet"), name
        assert "AF_NETLINK" not in unit.all("RestrictAddressFamilies"), name
    assert Unit.read(SYSTEMD / "nms-collect@.service").all("CapabilityBoundingSet") == []
    assert Unit.read(SYSTEMD / "nms.service").all("LoadCredential") == ["nms:/etc/credstore/nms"]
    # The shard instance name carries the shard with "/" escaped as "-".
    collect = exec_argv(Unit.read(SYSTEMD / "nms-collect@.service"), "2-4", {"NMS_METRICS": "127.0.0.1:9711"})
    assert collect[3:] == ["collect", "--shard", "2/4", "--metrics", "127.0.0.1:9711"]


def test_units_pass_systemd_analyze_verify(installed: Path, tmp_path: Path) -> None:
    units = tmp_path / "units"
    units.mkdir()
    for name in UNITS:
        shutil.copy(installed / UNIT_DIR / name, units / name.replace("@.", "@1-2."))
    # A broken unit must fail the same check, or the check proves nothing.
    (units / "broken.service").write_text("[Service]\nExecStart=/opt/nms/bin/nms run\nProtectSystem=strickt\n")
    names = sorted(str(p) for p in units.glob("nms*.service"))
    done = run_in_root(installed, tmp_path / "ns", ["systemd-analyze", "verify", *names])
    assert done.returncode == 0 and not done.stderr.strip() and not done.stdout.strip(), done.stdout + done.stderr
    bad = run_in_root(installed, tmp_path / "ns2", ["systemd-analyze", "verify", str(units / "broken.service")])
    assert "broken.service:3:" in bad.stderr and "strickt" in bad.stderr


def _scrape(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            return r.read().decode()
    except OSError:
        return ""


def test_installed_service_runs_as_its_user_against_the_lab(installed: Path, tmp_path: Path, lab_district: District,
                                                            lab_agents: AgentSet) -> None:
    """nms.service's ExecStart from the installed files, as user nms, polling the lab's real agents."""
    etc = installed / "etc/nms"
    http_port, admin_port = free_tcp_port(), free_tcp_port()
    flow_port = free_udp_port(["127.0.0.1"])
    shutil.copy(lab_district.config_path.parent / "inventory.yaml", etc / "inventory.yaml")
    (etc / "nms.yaml").write_text(yaml.safe_dump({
        "inventory": "inventory.yaml", "snmp": "snmp.yaml",
        "http": {"listen": f"127.0.0.1:{http_port}"},
        "flows": {"enabled": True, "listen": f"127.0.0.1:{flow_port}"},
        "ivr": {"enabled": False},
        "admin": {"enabled": True, "listen": f"127.0.0.1:{admin_port}", "state_dir": "/var/lib/nms/admin"},
    }), encoding="utf-8")
    for secret in lab_agents.secrets_dir.iterdir():  # the operator puts the secrets in the credstore
        shutil.copy(secret, installed / "etc/credstore/nms" / secret.name)

    unit = Unit.read(installed / UNIT_DIR / "nms.service")
    proc = start_in_root(installed, tmp_path / "ns", unit, exec_argv(unit), tmp_path / "service.log")
    try:
        active = set(lab_agents.specs)

        def all_up(text: str) -> bool:
            return all(re.search(rf'^nms_device_up{{[^}}]*device="{d}"[^}}]*}} 1(\.0)?$', text, re.M) for d in active)

        text = wait_for(lambda: (lambda t: t if all_up(t) else None)(_scrape(http_port)), 90)
        log = (tmp_path / "service.log").read_text(errors="replace")
        up = "\n".join(line for line in _scrape(http_port).splitlines() if line.startswith("nms_device_up"))
        assert text, f"not every lab device is up on /metrics:\n{up}\nservice log:\n{log[-4000:]}"
        # CAP_NET_ADMIN from the unit: the flow socket got its buffer past net.core.rmem_max.
        rmem_max = int(Path("/proc/sys/net/core/rmem_max").read_text())
        buffer = float(re.search(r"^nms_flow_receive_buffer_bytes(?:{[^}]*})? (\S+)", text, re.M).group(1))
        assert buffer > 2 * rmem_max, (buffer, rmem_max)
        # It runs as the unit's user, not root, with no new privileges.
        pid = _service_pid(proc.pid)
        status = Path(f"/proc/{pid}/status").read_text()
        uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))
        assert uid != 0 and re.search(r"^NoNewPrivs:\s+1", status, re.M)
        assert (installed / "var/lib/nms").stat().st_uid == uid
        # The admin page answers, and stored its state in the state directory.
        with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/login", timeout=5) as r:
            assert r.status == 200
        assert (installed / "var/lib/nms/admin/users.sqlite3").is_file()
        # ExecReload: SIGHUP reloads the configuration.
        os.kill(pid, signal.SIGHUP)
        assert wait_for(lambda: "configuration reloaded" in (tmp_path / "service.log").read_text(errors="replace"),
                        30), (tmp_path / "service.log").read_text(errors="replace")[-3000:]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    # systemd stops the unit with SIGTERM: the service shuts down cleanly.
    assert proc.returncode == 0, (tmp_path / "service.log").read_text(errors="replace")[-3000:]


def _service_pid(pid: int) -> int:
    """The nms process: unshare execs the shell, which execs env, setpriv and nms in turn (one pid)."""
    found = wait_for(lambda: b"/opt/nms/bin/nms" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0"), 10)
    assert found, "the service process was not found"
    return pid


def test_every_installed_path_in_the_deployment_guide_exists(installed: Path) -> None:
    """The guide's table of what `make install` puts where, checked against a real staged install."""
    guide = (REPO / "docs" / "deploying.md").read_text(encoding="utf-8")
    table = guide.split("It puts:", 1)[1].split("\n\n", 2)[1]
    rows = [line.split("|")[2] for line in table.splitlines()[2:]]
    paths = [p for row in rows for p in re.findall(r"`(/[^`\s]+)`", row)]
    assert len(paths) >= 8
    unit_dir = installed / UNIT_DIR
    for path in paths:
        staged = installed / path.lstrip("/")
        assert staged.exists() or (unit_dir / path).exists(), path
    for name in re.findall(r"`(nms[-\w@]*\.service)`", table):
        assert (unit_dir / name).is_file(), name
