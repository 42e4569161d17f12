"""Flow collector benchmark: decode+aggregate rate, and a softflowd burst next to nfcapd.

Prints one JSON object and writes it to bench/results/flows.json.
Needs softflowd and nfdump (`make setup`).

The burst goes to one receiver at a time, from the same capture: the collector, then nfcapd with
its default settings (the issue's comparison), then nfcapd with a large `-B` receive buffer to
show where its default loses records. Sending both at once from two softflowd processes would
put four busy processes on two cores and make each receiver's losses depend on the other.
nfcapd's losses are kernel drops at its socket (its receive buffer overflows during the burst),
reported from /proc/net/udp next to its count. nfcapd's CPU is its whole life, file writing
included, from wait4's rusage; the collector's is this process's CPU during the burst.
"""

from __future__ import annotations

import ipaddress
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchlib import publish  # noqa: E402

from collectors.flows.engine import FlowEngine  # noqa: E402
from collectors.flows.service import FlowService  # noqa: E402
from collectors.flows.settings import FlowSettings  # noqa: E402
from collectors.flows.sites import SiteMap  # noqa: E402
from lab.pcapgen import district_flows, write_pcap  # noqa: E402
from tests.flows_fixtures import Nfcapd, export_datagrams, free_udp_port, softflowd  # noqa: E402

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
        packets = sum(c for (_, v), c in service.engine.stats()["packets"].items() if v == 9)
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


def main() -> None:
    result: dict[str, object] = {}
    sites, subnets = site_map()
    with tempfile.TemporaryDirectory(prefix="flows-bench-") as tmp_name:
        tmp = Path(tmp_name)
        pcap = tmp / "burst.pcap"
        write_pcap(pcap, district_flows(subnets, BURST_FLOWS, seed=42, max_packets=1))
        for version, key in ((9, "v9_records_per_s"), (10, "ipfix_records_per_s")):
            exported, datagrams = export_datagrams(pcap, version, tmp)
            rate, decoded = decode_rate(datagrams, sites)
            result[key] = round(rate)
            result[f"{key.split('_')[0]}_records_decoded"] = decoded
            result[f"{key.split('_')[0]}_records_exported"] = exported

        result.update(collector_burst(pcap, tmp, sites))
        result.update(nfcapd_burst(pcap, tmp, "nfcapd", buffer=None))
        result.update(nfcapd_burst(pcap, tmp, "nfcapd_large_buffer", buffer=NFCAPD_LARGE_BUFFER))
    publish("flows", result)


if __name__ == "__main__":
    main()
