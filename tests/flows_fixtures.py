"""Shared helpers of the flow tests: real softflowd and nfcapd/nfdump, scapy-crafted packets."""

from __future__ import annotations

import ipaddress
import re
import shutil
import signal
import socket
import struct
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from collectors.flows.aggregate import protocol_name
from collectors.flows.settings import FlowSettings
from lab.pcapgen import district_flows, write_pcap
from tests.flows_reference import Record

SUBNETS = [ipaddress.ip_network(n) for n in ("10.20.1.0/24", "10.20.2.0/24", "10.20.3.0/24",
                                              "2001:db8:20::/64")]
SITES = [("gasan-park", "park", SUBNETS[0]), ("siheung-market", "market", SUBNETS[1]),
         ("gu-office", "government", SUBNETS[2]), ("gu-office", "government", SUBNETS[3])]


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is missing: run `make setup` (Debian packages softflowd and nfdump)")
    return path


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flow_settings(**changes: object) -> FlowSettings:
    return FlowSettings(listen="127.0.0.1:0", top_window=0.5, **changes)


def make_capture(path: Path, count: int = 2000, seed: int = 7, ipv6_share: float = 0.1) -> Path:
    write_pcap(path, district_flows(SUBNETS, count, seed=seed, ipv6_share=ipv6_share))
    return path


def softflowd(pcap: Path, port: int, version: int, workdir: Path) -> int:
    """Export a capture once to 127.0.0.1:port. Returns the records softflowd says it exported."""
    need("softflowd")
    proc = subprocess.run(
        ["softflowd", "-r", str(pcap), "-n", f"127.0.0.1:{port}", "-v", str(version), "-c", "none", "-d",
         "-6", "-p", str(workdir / f"softflowd-{port}.pid")],
        capture_output=True, text=True, timeout=120, check=True)
    found = re.search(r"Flows exported: \d+ \((\d+) records\)", proc.stdout + proc.stderr)
    assert found, proc.stdout + proc.stderr
    return int(found.group(1))


class Nfcapd:
    """nfcapd recording into a directory, stopped (and flushed) by :meth:`stop`.

    ``buffer`` is nfcapd's ``-B`` (socket receive buffer, bytes); None keeps nfcapd's default,
    the system's ``net.core.rmem_default``. softflowd sends a capture's whole export as fast as
    it can, and a default buffer overflows: the kernel then drops datagrams before nfcapd reads
    them (see :meth:`kernel_drops`).
    """

    def __init__(self, directory: Path, port: int, buffer: int | None = None):
        need("nfcapd")
        need("nfdump")
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.port = port
        self.log = directory.parent / f"nfcapd-{port}.log"
        command = ["nfcapd", "-w", str(directory), "-p", str(port), "-b", "127.0.0.1"]
        if buffer is not None:
            command += ["-B", str(buffer)]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: "Startup nfcapd" in self._log() or self.proc.poll() is not None, what="nfcapd to start")
        assert self.proc.poll() is None, f"nfcapd exited at start: {self._log()}"

    def _log(self) -> str:
        return self.log.read_text(errors="replace")

    def _socket(self) -> list[str] | None:
        """nfcapd's row of /proc/net/udp."""
        with open("/proc/net/udp", encoding="ascii") as fh:
            for line in fh:
                cols = line.split()
                if len(cols) > 12 and cols[1].endswith(f":{self.port:04X}"):
                    return cols
        return None

    def rx_queue(self) -> int:
        """Bytes waiting in nfcapd's socket."""
        cols = self._socket()
        return int(cols[4].split(":")[1], 16) if cols else 0

    def kernel_drops(self) -> int:
        """Datagrams the kernel dropped at nfcapd's socket because its receive buffer was full."""
        cols = self._socket()
        return int(cols[12]) if cols else 0

    def receive_buffer(self) -> int | None:
        """The SO_RCVBUF nfcapd reports having set (only logged when ``-B`` is given)."""
        found = re.findall(r"SO_RCVBUF to (\d+) bytes", self._log())
        return int(found[-1]) if found else None

    def settle(self) -> None:
        """Wait until nfcapd has read everything, then give it time to process the last datagrams."""
        wait_until(lambda: self.rx_queue() == 0, what="nfcapd to read its socket")
        time.sleep(2.0)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cpu_seconds(self) -> float:
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / 100.0

    def by_protocol(self) -> dict[str, tuple[int, int, int]]:
        """nfdump's totals: protocol -> (bytes, packets, flows)."""
        out = subprocess.run(["nfdump", "-R", str(self.directory), "-A", "proto", "-N", "-q",
                              "-o", "fmt:%pr %fl %pkt %byt"], capture_output=True, text=True, check=True).stdout
        totals: dict[str, list[int]] = {}
        for line in out.splitlines():  # one line per protocol and address family
            parts = line.split()
            if len(parts) == 4 and parts[0].isdigit():
                proto, flows, packets, nbytes = (int(x) for x in parts)
                cell = totals.setdefault(protocol_name(proto), [0, 0, 0])
                cell[0] += nbytes
                cell[1] += packets
                cell[2] += flows
        return {k: (b, p, f) for k, (b, p, f) in totals.items()}


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def reference_protocols(records: Iterable[Record]) -> dict[str, tuple[int, int, int]]:
    out: dict[str, list[int]] = {}
    for r in records:
        cell = out.setdefault(protocol_name(int(r.get(4, 0))), [0, 0, 0])
        cell[0] += int(r.get(1, 0))
        cell[1] += int(r.get(2, 0))
        cell[2] += 1
    return {k: tuple(v) for k, v in out.items()}


def as_tuples(cells: dict[str, list[int]]) -> dict[str, tuple[int, int, int]]:
    return {k: tuple(v) for k, v in cells.items()}


class CaptureSocket:
    """A plain UDP socket that keeps every datagram (to feed the same bytes to several decoders)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:  # as root, past net.core.rmem_max: a whole softflowd burst must fit
            self.sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 64 << 20)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]

    def drain(self, expected: int) -> list[bytes]:
        out = []
        while len(out) < expected:
            try:
                out.append(self.sock.recv(65535))
            except TimeoutError:
                break
        return out

    def close(self) -> None:
        self.sock.close()


def export_datagrams(pcap: Path, version: int, workdir: Path, limit: int = 1_000_000) -> tuple[int, list[bytes]]:
    """softflowd's export of ``pcap`` as the datagrams it sent: (records it says it exported, datagrams)."""
    sock = CaptureSocket()
    try:
        exported = softflowd(pcap, sock.port, version, workdir)
        return exported, sock.drain(limit)
    finally:
        sock.close()


def v9_record(src: str, dst: str, nbytes: int, packets: int, proto: int, sport: int, dport: int) -> bytes:
    """Data record for the template ``V9_FIELDS``."""
    return struct.pack("!4s4sIIBHH", ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed,
                       nbytes, packets, proto, sport, dport)


V9_FIELDS = ((8, 4), (12, 4), (1, 4), (2, 4), (4, 1), (7, 2), (11, 2))
