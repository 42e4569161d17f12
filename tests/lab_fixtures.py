"""Fixtures for the simulated district (lab): a small district and real snmpsim agents for it.

Import the fixtures from conftest.py. ``lab_agents`` starts one snmpsim process per device, so a
test can take one device down with ``lab_agents.stop_device(name)``.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from lab import AgentSet, LabOptions, start_agents
from nms.app.district import District, load_district

REPO = Path(__file__).resolve().parent.parent

SITES = [
    {"id": "government-001", "name": "금천구청", "category": "government", "installed": 2015},
    {"id": "market-001", "name": "남문시장", "category": "market", "installed": 2019},
    {"id": "park-001", "name": "금천체육공원", "category": "park", "installed": 2017},
]


def require_tool(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise AssertionError(f"{tool} is missing: install the Debian package '{package}' (run `make setup`)")
    return path


def free_udp_port(hosts: list[str]) -> int:
    """A high UDP port free on every one of ``hosts`` (random, so parallel labs rarely collide)."""
    for _ in range(200):
        port = random.randint(20000, 60000)
        try:
            for host in hosts:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.bind((host, port))
        except OSError:
            continue
        return port
    raise AssertionError("no free UDP port found on the lab's loopback addresses")


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_small_district(directory: Path) -> Path:
    """nms.yaml + inventory of 5 devices on random 127.x addresses: an access switch (v2c), a Cisco
    AP and a UniFi AP (v2c), the IPS (v3) and a server (v2c). Returns the nms.yaml path."""
    net = f"127.{random.randint(100, 250)}.{random.randint(0, 250)}"
    hosts = [f"{net}.{i}" for i in range(1, 6)]
    port = free_udp_port(hosts)

    def dev(name: str, role: str, host: str, profile: str, credentials: str = "district-v2c",
            site: str = "government-001", **extra: object) -> dict[str, object]:
        return {"name": name, "role": role, "site": site, "address": host, "port": port, "profile": profile,
                "credentials": credentials, **extra}

    devices = [
        dev("acc-sw-01", "access", hosts[0], "switch", vendor="Dasan Networks", model="V5824G"),
        dev("ap-market-01", "ap", hosts[1], "ap-cisco", site="market-001", vendor="Cisco",
            model="AIR-AP1562I-K-K9"),
        dev("ap-park-01", "ap", hosts[2], "ap-ubiquiti", site="park-001", vendor="Ubiquiti", model="U6-Mesh"),
        dev("ips-01", "ips", hosts[3], "ips", credentials="district-v3", vendor="WINS", model="SNIPER ONE-i 4000"),
        dev("media-ctl-01", "host", hosts[4], "host", vendor="Dell", model="PowerEdge R450",
            tags=["removable-media"]),
        dev("ap-planned-01", "ap", f"{net}.9", "ap-cisco", site="park-001", status="planned"),
    ]
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "configs" / "snmp.yaml", directory / "snmp.yaml")
    (directory / "inventory.yaml").write_text(
        yaml.safe_dump({"version": 1, "sites": SITES, "devices": devices}, allow_unicode=True), encoding="utf-8")
    (directory / "nms.yaml").write_text(yaml.safe_dump(
        {"inventory": "inventory.yaml", "snmp": "snmp.yaml",
         "http": {"listen": f"127.0.0.1:{free_tcp_port()}"}}), encoding="utf-8")
    return directory / "nms.yaml"


@pytest.fixture
def lab_run_dir() -> Iterator[Path]:
    """A run directory the agents' unprivileged user can read (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="nms-lab-test-"))
    path.chmod(0o755)
    try:
        yield path
    finally:  # a failed test must not leave its lab running
        from lab import lab_down

        lab_down(path)
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def lab_district(tmp_path: Path) -> District:
    return load_district(write_small_district(tmp_path / "district"))


@pytest.fixture
def lab_agents(lab_district: District, lab_run_dir: Path) -> Iterator[AgentSet]:
    """Agents for every device of the small district, one process each; none down, no faults."""
    agents = start_agents(lab_district, lab_run_dir, process_per_device=True,
                          options=LabOptions(down=[], reboot=[], wrap=[]))
    try:
        yield agents
    finally:
        agents.stop()


def snmp_cmd(tool: str, agents: AgentSet, device: str, *oids: str, timeout: float = 1.0,
             retries: int = 0, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Run net-snmp's ``tool`` (snmpget, snmpbulkwalk) against a lab device with its lab credentials."""
    spec = agents.specs[device]
    cmd = [require_tool(tool, "snmp"), *spec.credential.net_snmp_args(), "-t", str(timeout), "-r", str(retries),
           "-On", "-Oe", *extra, spec.endpoint, *oids]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)
