"""Time a yearly report over 400 days of recorded data.

The recording rules' series (configs/prometheus/recording.yml) that the report reads are written
for 400 days at their 15-minute resolution as OpenMetrics, turned into TSDB blocks by
``promtool tsdb create-blocks-from openmetrics`` (Prometheus's backfill), and served by Debian's
Prometheus on a free loopback port. Then ``nms report yearly`` for the current year runs in this
process (Prometheus queries, PDF and Excel), for the simulated district's sites with APs.

Prints JSON with ``yearly_report_s`` and ``peak_rss_mb`` (this process: the report's own memory;
Prometheus's is reported apart as ``prometheus_rss_mb``). Goal: under 30 s and 500 MB.
"""

from __future__ import annotations

import argparse
import math
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.benchlib import publish
from lab.prometheus import ready_within
from nms.app.district import DEFAULT_CONFIG, load_district
from nms.inventory.models import Category, DeviceRole
from nms.inventory.summary import year_label
from nms.reports import period as periods
from nms.reports.figures import Collector
from nms.reports.generate import file_stem
from nms.reports.pdf import write_pdf
from nms.reports.promapi import PrometheusClient
from nms.reports.xlsx import write_xlsx

STEP = 900  # the recording rules' interval
OUTCOMES = ("connected", "busy", "after-hours", "abandoned", "unanswered")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_openmetrics(path: Path, inventory, start: int, end: int, seed: int = 7) -> int:
    """The report's rule series over [start, end]; returns the number of samples."""
    rng = random.Random(seed)
    times = list(range(start, end + 1, STEP))
    sites = sorted({d.site for d in inventory.devices if d.role is DeviceRole.AP})
    site_cat = {s.id: s.category.value for s in inventory.sites}
    groups = sorted({year_label(s.installed) for s in inventory.sites})
    n = 0
    with open(path, "w", encoding="utf-8") as out:
        def family(name: str, kind: str, series: list[tuple[str, list[float]]]) -> None:
            nonlocal n
            out.write(f"# TYPE {name} {kind}\n")
            for labels, values in series:
                out.writelines(f"{name}{{{labels}}} {v:.6g} {t}\n" for t, v in zip(times, values, strict=True))
                n += len(values)

        def availability(base: float) -> list[float]:
            return [1.0 if rng.random() > 0.02 else base * rng.random() for _ in times]

        family("site:nms_ap_up:avg15m", "gauge",
               [(f'site="{s}",category="{site_cat[s]}"', availability(0.9)) for s in sites])
        family("category:nms_ap_up:avg15m", "gauge", [(f'category="{c.value}"', availability(0.99)) for c in Category])
        family("installed_group:nms_ap_up:avg15m", "gauge",
               [(f'installed_group="{g}"', availability(0.99)) for g in groups])
        family("district:nms_ap_up:avg15m", "gauge", [("", availability(0.995))])
        daily = [0.5 - 0.5 * math.cos((t % 86400) / 86400 * 2 * math.pi) for t in times]
        family("category:nms_ap_clients:avg15m", "gauge",
               [(f'category="{c.value}"', [300 * d + rng.random() * 20 for d in daily]) for c in Category])
        family("category:nms_ap_clients:max15m", "gauge",
               [(f'category="{c.value}"', [360 * d + rng.random() * 30 for d in daily]) for c in Category])
        for direction in ("in", "out"):
            series = []
            for c in Category:
                total, values = 0.0, []
                for d in daily:
                    total += 2e8 * d * STEP / 900
                    values.append(total)
                series.append((f'category="{c.value}"', values))
            family(f"category:nms_site_{direction}_octets:sum", "gauge", series)
        family("nms_ivr_lines_in_use:avg15m", "gauge", [("", [20 * d for d in daily])])
        family("nms_ivr_lines_in_use:max15m", "gauge", [("", [min(60, 40 * d + rng.random() * 5) for d in daily])])
        family("nms_ivr_lines:max15m", "gauge", [("", [60.0] * len(times))])
        calls = []
        for o in OUTCOMES:
            total, values = 0, []
            for d in daily:
                total += int(rng.random() * 30 * d)
                values.append(float(total))
            calls.append((f'outcome="{o}"', values))
        family("outcome:nms_ivr_calls:sum", "gauge", calls)
        out.write("# EOF\n")
    return n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--keep", action="store_true", help="keep the work directory (printed on stderr)")
    parser.add_argument("--reuse", type=Path, metavar="DIR", help="a work directory kept by --keep: skip the backfill")
    args = parser.parse_args()
    prometheus = shutil.which("prometheus") or "/usr/bin/prometheus"
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    work = args.reuse or Path(tempfile.mkdtemp(prefix="nms-bench-report-"))
    if args.keep:
        print(f"work directory: {work}", file=sys.stderr)
    proc = None
    try:
        district = load_district(DEFAULT_CONFIG)
        end = int(time.time()) // STEP * STEP
        start = end - args.days * 86400
        t0 = t1 = t2 = time.monotonic()
        samples = None
        if args.reuse is None:
            samples = write_openmetrics(work / "rules.om", district.inventory, start, end)
            t1 = time.monotonic()
            subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet",
                            "--max-block-duration=2400h", str(work / "rules.om"), str(work / "data")],
                           check=True, timeout=1800)
            t2 = time.monotonic()
            (work / "rules.om").unlink()
        listen = f"127.0.0.1:{free_port()}"
        (work / "prometheus.yml").write_text("global: {}\n", encoding="utf-8")
        with open(work / "prometheus.log", "wb") as log:
            proc = subprocess.Popen([prometheus, f"--config.file={work / 'prometheus.yml'}",
                                     f"--web.listen-address={listen}", f"--storage.tsdb.path={work / 'data'}",
                                     "--storage.tsdb.retention.time=800d"], stdout=log, stderr=subprocess.STDOUT)
        if not ready_within(f"http://{listen}/-/ready", lambda: proc.poll() is None, 300):
            raise SystemExit("Prometheus did not start: " + (work / "prometheus.log").read_text()[-2000:])
        year = periods.year(str(datetime.now(periods.SEOUL).year))
        t3 = time.monotonic()
        figures = Collector(PrometheusClient(f"http://{listen}"), None).collect(year, district.inventory)
        t4 = time.monotonic()
        stem = file_stem(year)
        paths = [write_pdf(figures, work / "out" / f"{stem}.pdf")]
        t5 = time.monotonic()
        paths.append(write_xlsx(figures, work / "out" / f"{stem}.xlsx"))
        elapsed = time.monotonic() - t3
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        prom_rss = int(Path(f"/proc/{proc.pid}/status").read_text().split("VmHWM:")[1].split()[0]) / 1024
        sites = len({d.site for d in district.inventory.devices if d.role is DeviceRole.AP})
        assert figures.availability is not None and len(figures.site_availability) == sites, "backfill not read"
        result = {
            "yearly_report_s": round(elapsed, 2),
            "peak_rss_mb": round(peak, 1),
            "goal": {"yearly_report_s": 30, "peak_rss_mb": 500},
            "days_recorded": args.days,
            "samples_backfilled": samples,
            "sites": len(figures.site_availability),
            "prometheus_rss_mb": round(prom_rss, 1),
            "queries_s": round(t4 - t3, 2),
            "pdf_s": round(t5 - t4, 2),
            "xlsx_s": round(t3 + elapsed - t5, 2),
            "openmetrics_write_s": round(t1 - t0, 1),
            "backfill_s": round(t2 - t1, 1),
            "pdf_kb": round(paths[0].stat().st_size / 1024),
            "xlsx_kb": round(paths[1].stat().st_size / 1024),
        }
        publish("report", result)
        return 0
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            proc.wait(30)
        if not args.keep and args.reuse is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
