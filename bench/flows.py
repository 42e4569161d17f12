"""Flow collector benchmark: decode+aggregate rate, a softflowd burst next to nfcapd, a hostile
flood, and the receive processes' rate.

Prints one JSON object and writes it to bench/results/flows.json.
Needs softflowd and nfdump (`make setup`).

Hostile (``hostile_*``): the collector runs in a process of its own, with default settings (no
allow-list: the hardest case). One legitimate exporter (127.0.0.1) sends softflowd's v9 export of
200,000 flows evenly over 30 s, while 5,000 junk datagrams a second come from 2,000 loopback
addresses (127.1.x.y, bound sockets) and 10 malformed-template datagrams a second (65 KB of empty
template records, templates impossible for their set, floods of one-field templates) from ten more.
``hostile_legit_records_lost`` is the exporter's records minus those the collector counted for it.

Workers (``workers*``): the collector is stopped (SIGSTOP) while eight exporters' exports are queued
in its sockets, then resumed; the rate is records over the time to decode them all. The machine
is shared (``load_average`` is reported next to it), so the ratio is what this machine gave.

The burst goes to one receiver at a time, from the same capture: the collector, then nfcapd with
its default settings (the issue's comparison), then nfcapd with a large `-B` receive buffer to
show where its default loses records. Sending both at once from two softflowd processes would
put four busy processes on two cores and make each receiver's losses depend on the other.
nfcapd's losses are kernel drops at its socket (its receive buffer overflows during the burst),
reported from /proc/net/udp next to its count. nfcapd's CPU is its whole life, file writing
included, from wait4's rusage; the collector's is this process's CPU during the burst.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import multiprocessing
import os
import re
import resource
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchlib import cpu_seconds, publish  # noqa: E402

from collectors.flows.engine import FlowEngine  # noqa: E402
from collectors.flows.service import FlowService  # noqa: E402
from collectors.flows.settings import FlowSettings  # noqa: E402
from collectors.flows.sites import SiteMap  # noqa: E402
from lab.pcapgen import district_flows, write_pcap  # noqa: E402
from tests.flows_fixtures import Nfcapd, export_datagrams, free_udp_port, softflowd, wait_until  # noqa: E402
from tests.lab_fixtures import free_tcp_port  # noqa: E402

BURST_FLOWS = 200_000
NFCAPD_LARGE_BUFFER = 16 << 20  # asked; the kernel caps SO_RCVBUF at twice net.core.rmem_max


def site_map() -> tuple[SiteMap, list]:
    inventory = ROOT / "configs" / "inventory.yaml"
    try:
        from nms.inventory.sources import load_inventory

        inv = load_inventory(inventory)
        sites = SiteMap.from_inventory(inv)
        subnets = [n for s in inv.sites for n in s.subnets]
        if subnets:
            return sites, subnets
    except Exception:  # the default inventory may not exist yet: a synthetic district of 300 sites
        pass
    subnets = [ipaddress.ip_network(f"10.{1 + i // 200}.{i % 200}.0/24") for i in range(300)]
    return SiteMap((f"site{i}", "park", n) for i, n in enumerate(subnets)), subnets


def decode_rate(datagrams: list[bytes], sites: SiteMap, rounds: int = 5) -> tuple[float, int]:
    items = [(d, "127.0.0.1") for d in datagrams]
    rates = []
    records = 0
    for _ in range(rounds):
        engine = FlowEngine(FlowSettings(), sites)
        start = time.process_time()
        for i in range(0, len(items), 4096):
            engine.process(items[i:i + 4096], now=1.0)
        engine.aggregator.talkers.roll(10_000.0)  # close the window: the top-N ranking is part of the work
        elapsed = time.process_time() - start
        records = sum(engine.stats()["records"].values())
        rates.append(records / elapsed)
    return statistics.median(rates), records


def collector_burst(pcap: Path, tmp: Path, sites: SiteMap) -> dict[str, object]:
    """softflowd's burst to the collector alone."""
    service = FlowService(settings=FlowSettings(listen="127.0.0.1:0"), sites=sites)
    service.start_threads()
    try:
        cpu0 = time.process_time()
        exported = softflowd(pcap, service.port, 9, tmp)
        counted = lambda: sum(service.engine.stats()["records"].values())  # noqa: E731
        last = -1
        while counted() != last or not service.drained():  # until nothing more arrives
            last = counted()
            time.sleep(0.5)
        cpu = time.process_time() - cpu0
        drops = service.receiver.kernel_drops() if service.receiver else None
        queue_dropped = service.receiver.queue_dropped if service.receiver else None
        packets = sum(c for (_, v, _), c in service.engine.stats()["packets"].items() if v == 9)
    finally:
        service.stop_threads()
    return {"burst_exported": exported, "burst_packets": packets, "burst_counted": counted(),
            "burst_kernel_drops": drops, "burst_queue_dropped": queue_dropped, "collector_cpu_s": round(cpu, 3)}


def nfcapd_burst(pcap: Path, tmp: Path, name: str, buffer: int | None) -> dict[str, object]:
    """softflowd's burst to nfcapd alone; ``buffer`` None is nfcapd's default."""
    nfcapd = Nfcapd(tmp / name, free_udp_port(), buffer=buffer)
    cpu = None
    try:
        exported = softflowd(pcap, nfcapd.port, 9, tmp)
        nfcapd.settle()
        drops = nfcapd.kernel_drops()
        rcvbuf = nfcapd.receive_buffer() or socket_default_buffer()
    finally:
        if nfcapd.proc.poll() is None:
            nfcapd.proc.send_signal(signal.SIGTERM)  # nfcapd writes its last block and exits
            _, status, usage = os.wait4(nfcapd.proc.pid, 0)  # reaped here: the rusage is nfcapd's own
            nfcapd.proc.returncode = os.waitstatus_to_exitcode(status)
            cpu = round(usage.ru_utime + usage.ru_stime, 3)
    info = subprocess.run(["nfdump", "-R", str(nfcapd.directory), "-I"], capture_output=True, text=True).stdout
    found = re.search(r"^Flows: (\d+)", info, re.M)
    return {f"{name}_burst_exported": exported, f"{name}_counted": int(found.group(1)) if found else 0,
            f"{name}_kernel_drops": drops, f"{name}_receive_buffer": rcvbuf, f"{name}_cpu_s": cpu}


def socket_default_buffer() -> int:
    """SO_RCVBUF of a socket with default settings (what nfcapd gets without ``-B``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        return s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)


# -- the collector in a process of its own ----------------------------------------------------------

def serve(settings_json: str, metrics: str) -> None:
    """``bench/flows.py --serve SETTINGS METRICS``: a FlowService with /metrics, until SIGTERM."""
    from prometheus_client import CollectorRegistry, start_http_server

    service = FlowService(settings=FlowSettings.model_validate_json(settings_json))
    service.start_threads()
    registry = CollectorRegistry(auto_describe=False)
    for collector in service.collectors():
        registry.register(collector)
    host, _, port = metrics.rpartition(":")
    start_http_server(int(port), addr=host, registry=registry)
    print(json.dumps({"port": service.port}), flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    service.stop_threads()


class Collector:
    """The collector under test, in its own process group (its workers included)."""

    def __init__(self, settings: FlowSettings):
        self.metrics_port = free_tcp_port()
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})  # inherited: sigwait gets them
        try:
            self.proc = subprocess.Popen([sys.executable, __file__, "--serve", settings.model_dump_json(),
                                          f"127.0.0.1:{self.metrics_port}"], stdout=subprocess.PIPE, text=True,
                                         start_new_session=True)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
        assert self.proc.stdout is not None
        self.port = json.loads(self.proc.stdout.readline())["port"]

    def pids(self) -> list[int]:
        out = [self.proc.pid]
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            out += [int(c) for c in (task / "children").read_text().split()]
        return out

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids())

    def rss_mb(self) -> float:
        total = 0
        for pid in self.pids():
            found = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
            total += int(found.group(1)) if found else 0
        return round(total / 1024, 1)

    def samples(self, name: str) -> list[tuple[dict[str, str], float]]:
        from prometheus_client.parser import text_string_to_metric_families

        text = urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=30).read().decode()
        return [(s.labels, s.value) for f in text_string_to_metric_families(text) for s in f.samples
                if s.name == name]

    def total(self, name: str, **labels: str) -> float:
        return sum(v for lab, v in self.samples(name) if all(lab.get(k) == x for k, x in labels.items()))

    def by_label(self, name: str, label: str) -> dict[str, float]:
        return {lab[label]: v for lab, v in self.samples(name) if v}

    def signal(self, sig: int) -> None:
        os.killpg(self.proc.pid, sig)  # the collector's own process group (start_new_session)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.proc.wait()


# -- hostile senders -------------------------------------------------------------------------------

HOSTILE_SECONDS = 30.0
JUNK_PER_S = 5000
JUNK_SOURCES = 2000
MALFORMED_PER_S = 10
LEGIT = "127.0.0.1"


def _v9(*sets: bytes, seq: int = 0) -> bytes:
    return struct.pack("!HHIIII", 9, 1, 0, 0, seq, 0) + b"".join(sets)


def _ipfix(*sets: bytes, seq: int = 0) -> bytes:
    body = b"".join(sets)
    return struct.pack("!HHIII", 10, 16 + len(body), 0, seq, 0) + body


def _set(set_id: int, content: bytes) -> bytes:
    return struct.pack("!HH", set_id, 4 + len(content)) + content


def junk_kinds() -> list[bytes]:
    """What a broken or hostile sender sends: not NetFlow, bad headers, and valid headers around garbage."""
    return [
        b"\x00\x09junk",  # six bytes
        os.urandom(300),
        struct.pack("!HH", 5, 31) + bytes(20),  # v5 with an impossible count
        _ipfix(_set(2, b"\x01\x00"))[:-1] + b"\x00\x00",  # IPFIX length mismatch
        _v9(_set(0, struct.pack("!HH", 256, 1) + b"\xff\xff")),  # truncated template
        _v9(_set(300, os.urandom(1400))),  # data for a template that never comes (held, then dropped)
        _ipfix(_set(2, struct.pack("!HHHH", 256, 1, 1, 4)), _set(256, os.urandom(1000))),  # valid template + data
        _ipfix(_set(7, os.urandom(200))),  # unknown set ID
    ]


def malformed_templates() -> list[bytes]:
    """10 a second of these: each is the most template work one datagram can ask for."""
    empty = _v9(_set(0, struct.pack("!HH", 300, 0) * 16_244))  # issue 12: 16,244 empty template records
    liar = _ipfix(_set(2, struct.pack("!HH", 300, 16_000) + struct.pack("!HH", 1, 4) * 16_000))
    flood = _v9(_set(0, b"".join(struct.pack("!HHHH", 256 + i, 1, 1, 4) for i in range(8_000))))
    return [empty, liar, flood]


def _paced(port: int, datagrams: list[tuple[bytes, socket.socket]], seconds: float) -> None:
    start = time.monotonic()
    n = len(datagrams)
    for i, (data, sock) in enumerate(datagrams):
        due = start + seconds * i / n
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        with contextlib.suppress(OSError):  # a full send buffer: the datagram is lost, as on a network
            sock.sendto(data, ("127.0.0.1", port))


def send_junk(port: int, seconds: float) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, JUNK_SOURCES + 256)), hard))
    socks = []
    for i in range(JUNK_SOURCES):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((f"127.1.{i // 250}.{1 + i % 250}", 0))
        socks.append(s)
    kinds = junk_kinds()
    count = int(JUNK_PER_S * seconds)
    _paced(port, [(kinds[i % len(kinds)], socks[(i * 7) % len(socks)]) for i in range(count)], seconds)


def send_malformed(port: int, seconds: float) -> None:
    socks = []
    for i in range(10):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        s.bind((f"127.0.9.{1 + i}", 0))
        socks.append(s)
    kinds = malformed_templates()
    count = int(MALFORMED_PER_S * seconds)
    _paced(port, [(kinds[i % len(kinds)], socks[i % len(socks)]) for i in range(count)], seconds)


def send_legit(port: int, datagrams: list[bytes], seconds: float, source: str = LEGIT) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, 0))
    _paced(port, [(d, s) for d in datagrams], seconds)


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    try:
        wait_until(predicate, timeout=timeout)
    except AssertionError:
        return False
    return True


def hostile(datagrams: list[bytes], exported: int) -> dict[str, object]:
    collector = Collector(FlowSettings(listen="127.0.0.1:0"))
    ctx = multiprocessing.get_context("fork")
    try:
        send_legit(collector.port, datagrams[:1], 0.0)  # the exporter starts before the flood
        cpu0 = collector.cpu()
        senders = [ctx.Process(target=send_legit, args=(collector.port, datagrams[1:], HOSTILE_SECONDS)),
                   ctx.Process(target=send_junk, args=(collector.port, HOSTILE_SECONDS)),
                   ctx.Process(target=send_malformed, args=(collector.port, HOSTILE_SECONDS))]
        for p in senders:
            p.start()
        for p in senders:
            p.join()
        counted = lambda: collector.total("nms_flow_records_total", exporter=LEGIT)  # noqa: E731
        wait_for(lambda: counted() >= exported and collector.total("nms_flow_queue_length") == 0, 30)
        cpu = collector.cpu() - cpu0
        return {
            "hostile_seconds": HOSTILE_SECONDS,
            "hostile_junk_datagrams": int(JUNK_PER_S * HOSTILE_SECONDS),
            "hostile_junk_sources": JUNK_SOURCES,
            "hostile_malformed_template_datagrams": int(MALFORMED_PER_S * HOSTILE_SECONDS),
            "hostile_legit_records_sent": exported,
            "hostile_legit_records_lost": exported - round(counted()),
            "hostile_collector_cpu_s": round(cpu, 2),
            "rss_mb_after_hostile": collector.rss_mb(),
            "hostile_exporters": collector.total("nms_flow_exporters"),
            "hostile_refused": collector.by_label("nms_flow_refused_datagrams_total", "reason"),
            "hostile_evicted": collector.by_label("nms_flow_exporters_evicted_total", "reason"),
            "hostile_decode_errors": collector.by_label("nms_flow_decode_errors_total", "reason"),
            "hostile_kernel_drops": collector.total("nms_flow_kernel_receive_drops_total"),
            "hostile_queue_dropped": collector.total("nms_flow_queue_dropped_total"),
        }
    finally:
        collector.stop()


# -- receive processes ----------------------------------------------------------------------------

WORKER_SOURCES = [f"127.0.5.{i}" for i in range(1, 9)]  # odd ones go to one worker, even ones to the other


def workers_rate(datagrams: list[bytes], exported: int, workers: int) -> tuple[float, float] | None:
    """Records per second of ``workers`` receive processes draining four exporters' queued exports:
    (per second of wall time, per second of the processes' CPU time)."""
    settings = FlowSettings(listen="127.0.0.1:0", workers=workers, receive_buffer=512 << 20,
                            queue_bytes=1 << 32, queue_limit=10_000_000)
    collector = Collector(settings)
    expected = exported * len(WORKER_SOURCES)
    try:
        time.sleep(1.0)  # let the workers settle before they are stopped
        collector.signal(signal.SIGSTOP)
        try:
            for source in WORKER_SOURCES:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind((source, 0))
                for d in datagrams:
                    s.sendto(d, ("127.0.0.1", collector.port))
                s.close()
        finally:
            cpu0 = collector.cpu()
            start = time.monotonic()
            collector.signal(signal.SIGCONT)
        if not wait_for(lambda: collector.total("nms_flow_records_total") >= expected, 120):
            return None
        elapsed = time.monotonic() - start
        cpu = collector.cpu() - cpu0
        if collector.total("nms_flow_kernel_receive_drops_total"):
            return None
        return expected / elapsed, expected / cpu
    finally:
        collector.stop()


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2], sys.argv[3])
        return
    result: dict[str, object] = {}
    sites, subnets = site_map()
    with tempfile.TemporaryDirectory(prefix="flows-bench-") as tmp_name:
        tmp = Path(tmp_name)
        pcap = tmp / "burst.pcap"
        write_pcap(pcap, district_flows(subnets, BURST_FLOWS, seed=42, max_packets=1))
        exports = {}
        for version, key in ((9, "v9_records_per_s"), (10, "ipfix_records_per_s")):
            exported, datagrams = export_datagrams(pcap, version, tmp)
            exports[version] = (exported, datagrams)
            rate, decoded = decode_rate(datagrams, sites)
            result[key] = round(rate)
            result[f"{key.split('_')[0]}_records_decoded"] = decoded
            result[f"{key.split('_')[0]}_records_exported"] = exported

        result.update(collector_burst(pcap, tmp, sites))
        result.update(nfcapd_burst(pcap, tmp, "nfcapd", buffer=None))
        result.update(nfcapd_burst(pcap, tmp, "nfcapd_large_buffer", buffer=NFCAPD_LARGE_BUFFER))

        exported, datagrams = exports[9]
        result.update(hostile(datagrams, exported))
        exported, datagrams = exports[10]
        one = workers_rate(datagrams, exported, 1)
        two = workers_rate(datagrams, exported, 2)
        result["workers1_records_per_s"] = round(one[0]) if one else None
        result["workers_records_per_s"] = round(two[0]) if two else None
        result["workers_speedup"] = round(two[0] / one[0], 2) if one and two else None
        result["workers1_records_per_cpu_s"] = round(one[1]) if one else None
        result["workers_records_per_cpu_s"] = round(two[1]) if two else None
        result["cpu_cores"] = os.cpu_count()
        result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    publish("flows", result)


if __name__ == "__main__":
    main()
