#!/usr/bin/env python3
"""Benchmark: one SNMP cycle over the whole simulated district, our collector vs snmp_exporter.

Both poll the same lab agents for the same OIDs: the collector (all-in: requests, decoding, state
update and one /metrics exposition) in this process, Debian's prometheus-snmp-exporter 0.21 with a
generated snmp.yml, one scrape per device. CPU is what each process spent, from /proc.
Prints one JSON object and writes it to bench/results/snmp_cycle.json.
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
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchlib import cpu_seconds, publish  # noqa: E402

from collectors.snmp.plan import plan_for  # noqa: E402
from collectors.snmp.service import SnmpCollector  # noqa: E402
from nms.app.district import DEFAULT_CONFIG, District, load_district  # noqa: E402
from nms.exposition import generate_text  # noqa: E402
from nms.secrets import SecretResolver  # noqa: E402

EXPORTER = "/usr/bin/prometheus-snmp-exporter"
# Scrapes of snmp_exporter in flight at once; the collector polls as many devices at once, so that
# both put the same queue on the simulated agents (a few snmpsim processes serve all 490 devices;
# on a real network each device answers for itself and the service's own concurrency applies).
EXPORTER_PARALLEL = 32
STRINGS = frozenset(("ifName", "ifAlias", "ifDescr", "hrStorageDescr", "entPhysicalName", "sysName", "sysDescr",
                     "sysLocation", "sysObjectID"))


def _oid(t: tuple[int, ...]) -> str:
    return ".".join(map(str, t))


def exporter_modules(district: District, secrets: SecretResolver) -> dict:
    """snmp.yml in the generator's output format: one module per (profile, credential set)."""
    modules = {}
    pairs = {(d.profile, d.credentials) for d in district.inventory.active_devices()}
    for profile_name, cred_name in sorted(pairs):
        profile = district.snmp.profiles[profile_name]
        plan = plan_for(profile)
        metrics = []
        for name, oid in plan.scalars.items():
            kind = "DisplayString" if name in STRINGS else "gauge"
            metrics.append({"name": name, "oid": _oid(oid), "type": kind, "help": name})
        for name, oid in plan.columns.items():
            kind = "DisplayString" if name in STRINGS else "gauge"
            if name.startswith(("ifHC", "ifIn", "ifOut")):
                kind = "counter"
            metrics.append({"name": name, "oid": _oid(oid), "type": kind, "help": name,
                            "indexes": [{"labelname": "index", "type": "gauge"}]})
        cred = district.snmp.credentials[cred_name]
        if cred.version == "2c":
            auth = {"community": secrets.get(cred_name)}
            version = 2
        else:
            auth = {"security_level": "authPriv", "username": cred.username,
                    "password": secrets.get(f"{cred_name}-auth"), "auth_protocol": cred.auth_protocol,
                    "priv_protocol": cred.priv_protocol, "priv_password": secrets.get(f"{cred_name}-priv")}
            version = 3
        modules[f"{profile_name}__{cred_name}"] = {
            "walk": [_oid(o) for o in plan.columns.values()],
            "get": [_oid(o) for o in plan.scalars.values()],
            "metrics": metrics, "version": version, "auth": auth,
            "max_repetitions": 25, "retries": 1, "timeout": "2s",
        }
    return modules  # 0.21 reads modules at the top level (newer versions split auths out)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_exporter(district: District, secrets: SecretResolver, devices: list, workdir: Path) -> dict:
    if not Path(EXPORTER).exists():
        raise SystemExit(f"{EXPORTER} is missing: install Debian package prometheus-snmp-exporter (make setup)")
    import yaml

    config = workdir / "snmp.yml"
    config.write_text(yaml.safe_dump(exporter_modules(district, secrets)))
    port = free_port()
    proc = subprocess.Popen([EXPORTER, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}",
                             "--log.level=error"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    results: list[tuple[bool, int]] = []
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)

        def scrape(device) -> tuple[bool, int]:
            url = (f"http://127.0.0.1:{port}/snmp?target={device.address}:{device.port}"
                   f"&module={device.profile}__{device.credentials}")
            try:
                body = urllib.request.urlopen(url, timeout=30).read().decode()
            except OSError:
                return False, 0
            samples = sum(1 for line in body.splitlines() if line and not line.startswith("#")
                          and not line.startswith("snmp_scrape"))
            return True, samples

        before = cpu_seconds(proc.pid)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(EXPORTER_PARALLEL) as pool:
            results = list(pool.map(scrape, devices))
        wall = time.perf_counter() - t0
        cpu = cpu_seconds(proc.pid) - before
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    if not any(ok for ok, _ in results):
        raise SystemExit(f"snmp_exporter answered no scrape; its log:\n{err.decode(errors='replace')[-3000:]}")
    return {"cpu_s": cpu, "wall_s": wall, "ok": sum(1 for ok, _ in results if ok),
            "samples": sum(n for _, n in results)}


async def run_collector(district: District, secrets: SecretResolver) -> dict:
    """Two cycles with one collector, as a running service does; the second is measured."""
    collector = SnmpCollector(district, secrets)
    await collector.poller.open()
    try:
        await collector.poll_all()  # warm-up: sessions, the v3 engine's discovery of each agent
        cpu0, t0 = time.process_time(), time.perf_counter()
        cycle = await collector.poll_all()
        wall = time.perf_counter() - t0
        body = generate_text(collector.metrics)
        cpu = time.process_time() - cpu0
    finally:
        collector.poller.close()
    return {"cpu_s": cpu, "wall_s": wall, "ok": cycle.ok, "failures": dict(cycle.errors),
            "varbinds": cycle.varbinds, "exposition_bytes": len(body),
            "devices": cycle.devices, "v3_devices": sum(
                1 for d in collector.devices() if district.snmp.credentials[d.credentials].version == "3")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(DEFAULT_CONFIG))
    parser.add_argument("--run-dir", default=str(REPO / "run" / "bench-lab"))
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "snmp_cycle.json"))
    parser.add_argument("--concurrency", type=int, default=EXPORTER_PARALLEL,
                        help="devices the collector polls at once (default: as many as snmp_exporter scrapes)")
    args = parser.parse_args()

    from lab import lab_down, lab_up

    district = load_district(Path(args.config))
    polling = district.settings.polling.model_copy(update={"concurrency": args.concurrency})
    district = replace(district, settings=district.settings.model_copy(update={"polling": polling}))
    from lab.options import LabOptions

    state = lab_up(district, Path(args.run_dir), prometheus=False, progress=sys.stderr.isatty(),
                   options=LabOptions(flows=False, asterisk=False))
    try:
        secrets = SecretResolver(Path(state.secrets_dir), environ={})
        collector = asyncio.run(run_collector(district, secrets))
        answering = [d for d in district.inventory.active_devices() if d.name not in set(state.down_devices)]
        workdir = Path(tempfile.mkdtemp(prefix="nms-bench-"))
        try:
            exporter = run_exporter(district, secrets, answering, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    finally:
        lab_down(Path(args.run_dir))

    varbinds = collector["varbinds"]
    exporter_varbinds = exporter["samples"]
    result = {
        "devices": collector["devices"],
        "devices_answering": collector["ok"],
        "collector_failures": collector["failures"],
        "v3_devices": collector["v3_devices"],
        "varbinds": varbinds,
        "collector_cpu_s": round(collector["cpu_s"], 4),
        "exporter_cpu_s": round(exporter["cpu_s"], 4),
        "collector_cpu_us_per_varbind": round(collector["cpu_s"] / varbinds * 1e6, 2),
        "exporter_cpu_us_per_varbind": round(exporter["cpu_s"] / exporter_varbinds * 1e6, 2),
        # per varbind that each side actually read
        "ratio": round((collector["cpu_s"] / varbinds) / (exporter["cpu_s"] / exporter_varbinds), 3),
        "wall_s": round(collector["wall_s"], 3),
        "exporter_wall_s": round(exporter["wall_s"], 3),
        "exporter_devices_ok": exporter["ok"],
        "exporter_samples": exporter["samples"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "timeout_s": {r.value: c.timeout for r, c in district.settings.polling.classes.items()},
        "concurrency": district.settings.polling.concurrency,
        "exporter_parallel_scrapes": EXPORTER_PARALLEL,
    }
    if collector["ok"] < exporter["ok"]:
        result["failed"] = (f"the collector answered {collector['ok']} devices, snmp_exporter "
                            f"{exporter['ok']}: the ratio compares unequal work")
    publish("snmp_cycle", result, Path(args.out))
    return 1 if "failed" in result else 0


if __name__ == "__main__":
    sys.exit(main())
