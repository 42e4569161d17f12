"""Trap receiver throughput: a burst of real linkDown/linkUp traps from many inventory devices.

One v2c linkDown and one linkUp datagram are made by net-snmp's ``snmptrap`` (captured on a loopback
socket), then a separate process sends ``--traps`` copies of them from ``--devices`` loopback source
addresses, as fast as it can, at the receiver (collectors/traps, on its own event loop as in
``nms run``). Reports what the receiver counted, what the kernel dropped, and the receiver's CPU per
trap (this process's CPU, which runs only the receiver while the sender is another process).

    .venv/bin/python bench/traps.py [--traps 50000] [--devices 200]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.benchlib import publish
from collectors.traps.service import TrapReceiverService
from collectors.traps.settings import TrapSettings
from nms.inventory.models import Inventory
from nms.secrets import SecretResolver

COMMUNITY = "bench-community"
SENDER = """
import socket, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
datagrams, sources = bytes.fromhex(sys.argv[3]).split(b"|SEP|"), sys.argv[4].split(",")
socks = []
for s in sources:
    k = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); k.bind((s, 0)); socks.append(k)
for i in range(count):
    socks[i % len(socks)].sendto(datagrams[(i // len(socks)) % 2], ("127.0.0.1", port))
"""


def capture(oid: str) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        subprocess.run([shutil.which("snmptrap") or "snmptrap", "-v2c", "-c", COMMUNITY, f"127.0.0.1:{port}", "",
                        oid, "1.3.6.1.2.1.2.2.1.1.3", "i", "3", "1.3.6.1.2.1.2.2.1.8.3", "i", "2"],
                       check=True, timeout=10)
        return s.recv(65535)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traps", type=int, default=50_000)
    parser.add_argument("--devices", type=int, default=200)
    args = parser.parse_args()
    sources = [f"127.31.{i // 250}.{i % 250 + 1}" for i in range(args.devices)]
    inventory = Inventory.model_validate({
        "sites": [{"id": "government-001", "name": "금천구청", "category": "government"}],
        "devices": [{"name": f"acc-sw-{i:04d}", "role": "access", "site": "government-001", "address": a,
                     "profile": "switch", "credentials": "district-v2c"} for i, a in enumerate(sources)]})
    secrets = Path(tempfile.mkdtemp(prefix="nms-bench-traps-"))
    (secrets / "district-v2c").write_text(COMMUNITY)
    settings = TrapSettings(enabled=True, listen="127.0.0.1:0")
    service = TrapReceiverService(SimpleNamespace(inventory=inventory, settings=SimpleNamespace(traps=settings)),
                                  SecretResolver(secrets, environ={}))
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    asyncio.run_coroutine_threadsafe(service.start(), loop).result(10)
    datagrams = capture("1.3.6.1.6.3.1.1.5.3") + b"|SEP|" + capture("1.3.6.1.6.3.1.1.5.4")

    def counted() -> int:
        with service.state.lock:
            return sum(d.counts["linkDown"] + d.counts["linkUp"] for d in service.state.devices.values())

    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.monotonic()
    subprocess.run([sys.executable, "-c", SENDER, str(service.port), str(args.traps), datagrams.hex(),
                    ",".join(sources)], check=True, timeout=600)
    sent_in = time.monotonic() - start
    last, stable = -1, time.monotonic()
    while time.monotonic() - stable < 1.0:  # until the count stops moving for a second
        n = counted()
        if n != last:
            last, stable = n, time.monotonic()
        time.sleep(0.05)
    elapsed = stable - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    asyncio.run_coroutine_threadsafe(service.stop(), loop).result(10)
    received = counted()
    links = sum(len(d.links) for d in service.state.devices.values())
    publish("traps", {
        "traps_sent": args.traps, "devices": args.devices, "send_seconds": round(sent_in, 3),
        "traps_counted": received, "lost": args.traps - received,
        "loss_ratio": round((args.traps - received) / args.traps, 4),
        "counted_per_second": round(received / elapsed, 1),
        "receiver_cpu_us_per_trap": round(cpu / max(received, 1) * 1e6, 1),
        "link_states_kept": links,
        "note": "loss is kernel drops at the receiver's socket (traps.receive_buffer) while it decodes with pysnmp",
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
