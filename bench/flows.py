"""Flow collector benchmark: decode+aggregate rate, and a softflowd burst next to nfcapd.

Prints one JSON object and writes it to bench/results/flows.json.
Needs softflowd and nfdump (`make setup`).
"""

from __future__ import annotations

import ipaddress
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collectors.flows.engine import FlowEngine  # noqa: E402
from collectors.flows.pcapgen import district_flows, write_pcap  # noqa: E402
from collectors.flows.service import FlowService  # noqa: E402
from collectors.flows.settings import FlowSettings  # noqa: E402
from collectors.flows.sites import SiteMap  # noqa: E402
from tests.flows_fixtures import CaptureSocket, Nfcapd, free_udp_port, softflowd  # noqa: E402

BURST_FLOWS = 200_000


def site_map() -> tuple[SiteMap, list]:
    inventory = ROOT / "configs" / "inventory.yaml"
    try:
        from nms.district import load_inventory

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


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0


def main() -> None:
    result: dict[str, object] = {}
    sites, subnets = site_map()
    with tempfile.TemporaryDirectory(prefix="flows-bench-") as tmp_name:
        tmp = Path(tmp_name)
        pcap = tmp / "burst.pcap"
        write_pcap(pcap, district_flows(subnets, BURST_FLOWS, seed=42, max_packets=1))
        for version, key in ((9, "v9_records_per_s"), (10, "ipfix_records_per_s")):
            sock = CaptureSocket()
            try:
                exported = softflowd(pcap, sock.port, version, tmp)
                datagrams = sock.drain(1_000_000)
            finally:
                sock.close()
            rate, decoded = decode_rate(datagrams, sites)
            result[key] = round(rate)
            result[f"{key.split('_')[0]}_records_decoded"] = decoded
            result[f"{key.split('_')[0]}_records_exported"] = exported

        # The burst: both receivers get the same export at the same time, from two softflowd runs.
        service = FlowService(settings=FlowSettings(listen="127.0.0.1:0"), sites=sites)
        service.start_threads()
        nfcapd = Nfcapd(tmp / "nfcapd", free_udp_port())
        try:
            cpu0, nf0 = time.process_time(), proc_cpu(nfcapd.proc.pid)
            runs = [subprocess.Popen(["softflowd", "-r", str(pcap), "-n", f"127.0.0.1:{port}", "-v", "9",
                                      "-c", "none", "-d", "-p", str(tmp / f"sf{port}.pid")],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                    for port in (service.port, nfcapd.port)]
            outputs = [p.communicate(timeout=300)[0] for p in runs]
            exported_counts = [int(re.search(r"Flows exported: \d+ \((\d+) records\)", o).group(1))
                               for o in outputs]
            counted = lambda: sum(service.engine.stats()["records"].values())  # noqa: E731
            last = -1
            while counted() != last or not service.drained():  # until nothing more arrives
                last = counted()
                time.sleep(0.5)
            collector_cpu = time.process_time() - cpu0
            nfcapd.settle()
            nfcapd_cpu = proc_cpu(nfcapd.proc.pid) - nf0
        finally:
            nfcapd.stop()
            drops = service.receiver.kernel_drops() if service.receiver else None
            queue_dropped = service.receiver.queue_dropped if service.receiver else None
            service.stop_threads()
        info = subprocess.run(["nfdump", "-R", str(nfcapd.directory), "-I"], capture_output=True, text=True).stdout
        found = re.search(r"^Flows: (\d+)", info, re.M)
        result.update({
            "burst_exported": exported_counts[0],
            "burst_exported_to_nfcapd": exported_counts[1],
            "burst_packets": sum(c for (_, v), c in service.engine.stats()["packets"].items() if v == 9),
            "burst_counted": counted(),
            "burst_kernel_drops": drops,
            "burst_queue_dropped": queue_dropped,
            "nfcapd_counted": int(found.group(1)) if found else 0,
            "collector_cpu_s": round(collector_cpu, 3),
            "nfcapd_cpu_s": round(nfcapd_cpu, 3),
        })
    out = ROOT / "bench" / "results" / "flows.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2)
    out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
