"""Real SNMP agents for the collector tests: net-snmp's snmpd on loopback, with v2c and v3 users."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


def free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def require(tool: str, package: str) -> str:
    path = shutil.which(tool) or (f"/usr/sbin/{tool}" if Path(f"/usr/sbin/{tool}").exists() else None)
    if path is None:
        raise AssertionError(f"{tool} is missing: install Debian package '{package}' (run `make setup`)")
    return path


@dataclass
class Snmpd:
    host: str
    port: int
    community: str
    auth_key: str
    priv_key: str
    proc: subprocess.Popen
    user: str = "nms-poller"

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def v2c_args(self) -> list[str]:
        return ["-v2c", "-c", self.community]

    def v3_args(self) -> list[str]:
        return ["-v3", "-l", "authPriv", "-u", self.user, "-a", "SHA", "-A", self.auth_key,
                "-x", "AES", "-X", self.priv_key]


def start_snmpd(workdir: Path, host: str, sysname: str = "test-agent", extra_conf: bytes = b"") -> Snmpd:
    """snmpd on ``host`` and a free port; ``extra_conf`` is appended to snmpd.conf as bytes (it may
    carry any encoding, e.g. CP949 strings for ``override`` values)."""
    binary = require("snmpd", "snmpd")
    require("snmpbulkwalk", "snmp")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_udp_port(host)
    community, auth, priv = (secrets.token_hex(8) for _ in range(3))
    conf = workdir / "snmpd.conf"
    conf.write_text(
        f"agentaddress udp:{host}:{port}\n"
        f"rocommunity {community} 127.0.0.0/8\n"
        f"createUser nms-poller SHA {auth} AES {priv}\n"
        "rouser nms-poller priv\n"
        f"sysName {sysname}\n"
        "sysLocation 금천구청 전산실\n"
    )
    if extra_conf:
        with conf.open("ab") as f:
            f.write(extra_conf)
    proc = subprocess.Popen(
        [binary, "-f", "-Lf", str(workdir / "snmpd.log"), "-C", "-c", str(conf), "-p", str(workdir / "pid")],
        env={"SNMP_PERSISTENT_DIR": str(workdir / "persist"), "PATH": "/usr/sbin:/usr/bin:/bin"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    agent = Snmpd(host, port, community, auth, priv, proc)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        probe = subprocess.run(["snmpget", *agent.v2c_args(), "-t", "0.5", "-r", "0", agent.target,
                                "1.3.6.1.2.1.1.5.0"], capture_output=True, text=True)
        if probe.returncode == 0:
            return agent
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    agent.stop()
    log = (workdir / "snmpd.log").read_text(errors="replace") if (workdir / "snmpd.log").exists() else ""
    raise AssertionError(f"snmpd on {host}:{port} did not answer; its log:\n{log[-2000:]}")


def bulkwalk(args: list[str], target: str, oid: str) -> dict[str, str]:
    """snmpbulkwalk -On -Oe -Oq: {numeric oid: value text}."""
    out = subprocess.run(["snmpbulkwalk", *args, "-On", "-Oe", "-Oq", "-Ot", "-OU", target, oid],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    result = {}
    for line in out.splitlines():
        if not line.startswith("."):
            continue
        oid_text, _, value = line.partition(" ")
        result[oid_text.lstrip(".")] = value.strip().strip('"')
    return result
