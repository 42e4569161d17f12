#!/usr/bin/env python3
"""Benchmark: the SNMP collector at 500, 2,000 and 10,000 devices, against snmp_exporter.

Each size is a district made from the lab's own (about 96 % APs, like the real district), every
device on its own loopback address, all served by one fast simulated agent process
(lab/fastagent.py). For each size:

* a fresh collector process loads the inventory (``inventory_load_s``), polls one warm-up cycle
  and one measured cycle (``collector_cpu_s``), then renders one /metrics exposition
  (``exposition_cpu_s``, ``exposition_bytes``); ``peak_rss_mb`` is that process's peak RSS;
* Debian's prometheus-snmp-exporter 0.21 scrapes every device for the same OIDs (``exporter_cpu_s``);
* ``ratio`` = (collector + exposition CPU per varbind the collector read) /
  (exporter CPU per varbind the exporter read); ``devices_failed`` = devices the collector did
  not read in the measured cycle. ``inventory_load_s`` is wall time (it grows on a shared machine),
  ``inventory_load_cpu_s`` the CPU it took.

Prints one JSON object and writes bench/results/snmp_scale.json.
Usage: bench/snmp_scale.py [--sizes 500,2000,10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import secrets as pysecrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from benchlib import publish  # noqa: E402

LAB_CONFIG = REPO / "configs"
_DEVICE = re.compile(r"^- \{.*\}$")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_district(n: int, out: Path, port: int) -> Path:
    """A district of ``n`` devices: the lab's non-AP devices (up to 4 %), then its APs repeated."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(LAB_CONFIG / "snmp.yaml", out / "snmp.yaml")
    settings = (LAB_CONFIG / "nms.yaml").read_text()
    (out / "nms.yaml").write_text(settings)
    head, devices = (LAB_CONFIG / "inventory.yaml").read_text().split("\ndevices:\n", 1)
    lines = [line for line in devices.splitlines() if _DEVICE.match(line) and "status:" not in line]
    aps = [line for line in lines if "role: ap," in line]
    others = [line for line in lines if "role: ap," not in line][: max(1, n * 4 // 100)]
    rows = []
    for i, line in enumerate((others + aps * (n // len(aps) + 1))[:n]):
        line = re.sub(r"name: [^,]+", f"name: dev-{i:05d}", line, count=1)
        line = re.sub(r"address: [^,]+", f"address: 127.40.{i // 250}.{i % 250 + 1}", line, count=1)
        line = re.sub(r"port: \d+", f"port: {port}", line, count=1)
        line = re.sub(r"credentials: [^,}]+", "credentials: district-v2c", line, count=1)
        rows.append(line)
    (out / "inventory.yaml").write_text(head + "\ndevices:\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return out / "nms.yaml"


# --------------------------------------------------------------------------- collector side

async def _collector_run(config: Path, community: str) -> dict:
    from collectors.snmp.service import SnmpCollector
    from nms.app.district import load_district
    from nms.exposition import stream
    from nms.secrets import SecretResolver

    t0, c0 = time.perf_counter(), time.process_time()
    district = load_district(config)
    inventory_load_s, inventory_load_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    collector = SnmpCollector(district, SecretResolver(Path("/nonexistent"),
                                                       environ={"NMS_SECRET_DISTRICT_V2C": community}))
    await collector.poller.open()
    try:
        await collector.poll_all()  # warm-up: sessions, plans, each agent's learnt limits
        cpu0 = time.process_time()
        cycle = await collector.poll_all()
        collector_cpu = time.process_time() - cpu0
        cpu1 = time.process_time()
        size = sum(len(chunk) for chunk in stream(collector.metrics))
        exposition_cpu = time.process_time() - cpu1
        cpu2 = time.process_time()
        sum(len(chunk) for chunk in stream(collector.metrics))
        cached_cpu = time.process_time() - cpu2
    finally:
        collector.poller.close()
    return {"devices": cycle.devices, "varbinds": cycle.varbinds,
            "collector_cpu_s": collector_cpu, "exposition_cpu_s": exposition_cpu,
            "exposition_cached_cpu_s": cached_cpu, "exposition_bytes": size,
            "inventory_load_s": inventory_load_s, "inventory_load_cpu_s": inventory_load_cpu_s,
            "devices_failed": cycle.devices - cycle.ok,
            "failures": dict(cycle.errors),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def collector_main(config: str, community: str) -> int:
    print(json.dumps(asyncio.run(_collector_run(Path(config), community))))
    return 0


# --------------------------------------------------------------------------- one size

def run_size(n: int, workdir: Path) -> dict:
    from snmp_cycle import run_exporter

    from nms.app.district import load_district
    from nms.secrets import SecretResolver

    port = free_udp_port()
    community = pysecrets.token_hex(8)
    config = make_district(n, workdir / f"d{n}", port)
    agent = subprocess.Popen([sys.executable, "-m", "lab.fastagent", "--config", str(config), "--port", str(port),
                              "--community", community], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        line = agent.stdout.readline() if agent.stdout else ""
        if not line.startswith("ready"):
            raise SystemExit(f"the fast agent did not start: {line!r}")
        out = subprocess.run([sys.executable, __file__, "--collector", str(config), "--community", community],
                             cwd=REPO, capture_output=True, text=True, timeout=1800)
        if out.returncode != 0:
            raise SystemExit(f"collector run failed:\n{out.stderr[-3000:]}")
        collector = json.loads(out.stdout.strip().splitlines()[-1])
        district = load_district(config)
        secrets = SecretResolver(Path("/nonexistent"), environ={"NMS_SECRET_DISTRICT_V2C": community})
        exporter = run_exporter(district, secrets, district.inventory.active_devices(), workdir)
    finally:
        agent.terminate()
        agent.wait(10)
    per_collector = (collector["collector_cpu_s"] + collector["exposition_cpu_s"]) / max(1, collector["varbinds"])
    per_exporter = exporter["cpu_s"] / max(1, exporter["samples"])
    return {
        "devices": collector["devices"],
        "varbinds": collector["varbinds"],
        "collector_cpu_s": round(collector["collector_cpu_s"], 3),
        "exposition_cpu_s": round(collector["exposition_cpu_s"], 3),
        "exposition_cached_cpu_s": round(collector["exposition_cached_cpu_s"], 3),
        "exposition_bytes": collector["exposition_bytes"],
        "exporter_cpu_s": round(exporter["cpu_s"], 3),
        "exporter_varbinds": exporter["samples"],
        "exporter_devices_ok": exporter["ok"],
        "ratio": round(per_collector / per_exporter, 3) if per_exporter else None,
        "peak_rss_mb": round(collector["peak_rss_mb"], 1),
        "inventory_load_s": round(collector["inventory_load_s"], 3),
        "inventory_load_cpu_s": round(collector["inventory_load_cpu_s"], 3),
        "devices_failed": collector["devices_failed"],
        "failure_reasons": collector["failures"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="500,2000,10000", help="comma-separated device counts")
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "snmp_scale.json"))
    parser.add_argument("--collector", help=argparse.SUPPRESS)  # internal: the measured child process
    parser.add_argument("--community", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.collector:
        return collector_main(args.collector, args.community)
    workdir = Path(tempfile.mkdtemp(prefix="nms-scale-"))
    try:
        runs = []
        for n in (int(x) for x in args.sizes.split(",")):
            runs.append(run_size(n, workdir))
            print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    publish("snmp_scale", {"runs": runs, "note": "CPU-seconds from /proc and getrusage; the machine may be "
                           "shared, which inflates wall times, not CPU-seconds"}, Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
