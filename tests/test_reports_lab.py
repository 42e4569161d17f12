"""The reports against a running lab: every figure checked against direct PromQL and SQLite.

The small district of test_dashboards_lab runs for real (snmpsim agents with one AP down, softflowd,
a lab Asterisk taking two calls with protection events, the service) and Debian's Prometheus loads
the shipped recording rules, with the 15-minute interval and windows shortened to 2 seconds so that
a minute of lab yields data. The report for the current month is then generated, and each figure is
compared with a query over the raw series (or the event store) over the same range.

Set NMS_REPORT_EXAMPLES=DIR to also write the PDF's first two pages as PNG there (docs/ examples).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from nms.reports import period as periods
from nms.reports.figures import Collector, Figures
from nms.reports.generate import generate
from nms.reports.promapi import PrometheusClient
from nms.reports.text import NO_DATA
from tests import ivr_fixtures
from tests.test_dashboards_lab import ALERTS, DOWN_AP, Lab, running_lab

asterisk_rootfs = ivr_fixtures.asterisk_rootfs

REPO = Path(__file__).resolve().parent.parent
RECORDING = REPO / "configs" / "prometheus" / "recording.yml"
STEP = "2s"


def short_rules(directory: Path) -> Path:
    """recording.yml with every group evaluated, and every window taken, over 2 s instead of 15 m."""
    doc = yaml.safe_load(RECORDING.read_text(encoding="utf-8"))
    for group in doc["groups"]:
        assert group["interval"] == "15m"
        group["interval"] = STEP
        for rule in group["rules"]:
            rule["expr"] = rule["expr"].replace("[15m]", f"[{STEP}]")
    path = directory / "recording-short.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def lab(asterisk_rootfs: Path) -> Iterator[Lab]:
    rules_dir = Path(tempfile.mkdtemp(prefix="nms-report-rules-"))
    try:
        with running_lab("nms-reports-", (ALERTS, short_rules(rules_dir))) as running:
            yield running
    finally:
        shutil.rmtree(rules_dir, ignore_errors=True)


def _last_rule_sample(client: PrometheusClient, expr: str, at: float) -> float:
    found = client.query(f"{expr}[10m]", at)
    return max(t for s in found for t, _ in s.samples)


def covered(lab: Lab, now: float) -> str:
    """The range the recording rules cover: from the first evaluation's window to ``now``.

    Raw samples before the rules were first evaluated are in no rule's window (in production the rules
    are loaded once, years before; here a few seconds after the service started).
    """
    found = PrometheusClient(lab.prometheus.url).query("district:nms_ap_up:avg15m[10m]", now)
    first = min(t for s in found for t, _ in s.samples) - 2
    return f"{round(now - first)}s"


@pytest.fixture(scope="module")
def report(lab: Lab) -> tuple[Figures, float]:
    """The current month's figures, once the calls' counts reached the recording rules."""
    client = PrometheusClient(lab.prometheus.url)
    calls = sum(lab.ivr.stats.calls.values())
    deadline = time.monotonic() + 90
    while True:
        now = time.time()
        found = client.query("sum(outcome:nms_ivr_calls:sum)", now)
        recorded = found[0].samples[-1][1] if found else 0
        if recorded >= calls and now - lab.prometheus.started > 30:
            break
        assert time.monotonic() < deadline, f"recording rules saw {recorded} of {calls} calls"
        time.sleep(1)
    time.sleep(3)  # a few more rule evaluations after the last call
    now = time.time()
    current = periods.month(_seoul_month(now))
    return Collector(client, lab.events_db).collect(current, lab.district.inventory, now), now


def _seoul_month(t: float) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(t, periods.SEOUL).strftime("%Y-%m")


def _direct(lab: Lab, expr: str, at: float, label: str) -> dict[str, float]:
    client = PrometheusClient(lab.prometheus.url)
    return {s.labels.get(label, ""): s.samples[-1][1] for s in client.query(expr, at)}


def test_availability_matches_the_raw_series(lab: Lab, report: tuple[Figures, float]) -> None:
    fig, now = report
    r = covered(lab, now)
    direct = _direct(lab, f'avg_over_time((avg by (category) (nms_device_up{{role="ap"}}))[{r}:1s])', now, "category")
    assert set(direct) == {"government", "market", "park"}
    for category, value in direct.items():
        assert fig.availability_by_category[category] == pytest.approx(value, abs=0.05), category
    assert fig.availability_by_category["market"] == 0.0  # its only AP is down all along
    assert fig.availability_by_category["welfare"] is None  # no AP there: no figure, not 0
    district = _direct(lab, f'avg_over_time((avg (nms_device_up{{role="ap"}}))[{r}:1s])', now, "")[""]
    assert fig.availability == pytest.approx(district, abs=0.05)
    sites = _direct(lab, f'avg_over_time((avg by (site) (nms_device_up{{role="ap"}}))[{r}:1s])', now, "site")
    assert [s[0] for s in fig.worst_sites] == sorted(sites, key=lambda s: (round(sites[s], 1), s))
    assert fig.worst_sites[0][:3] == ("market-001", "남문시장", "market") and fig.worst_sites[0][3] == 0.0
    groups = _direct(lab, f'avg_over_time((avg by (installed_group) (nms_device_up{{role="ap"}} * on (device) '
                          f'group_left (installed_group) max by (device, installed_group) (nms_device_info)))'
                          f'[{r}:1s])', now, "installed_group")
    assert set(fig.availability_by_group) == set(groups)
    for group, value in groups.items():
        assert fig.availability_by_group[group] == pytest.approx(value, abs=0.05), group
    assert fig.availability_previous is None  # the lab has no previous month
    today = next(day for day in fig.period.days() if day.isoformat() == _seoul_day(now))
    assert fig.availability_daily["market"] == {today: 0.0}
    assert DOWN_AP in {d.name for d in lab.district.inventory.devices}


def _seoul_day(t: float) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(t, periods.SEOUL).date().isoformat()


def test_clients_and_traffic_match_the_raw_series(lab: Lab, report: tuple[Figures, float]) -> None:
    fig, now = report
    client = PrometheusClient(lab.prometheus.url)
    r = covered(lab, now)
    peak = _direct(lab, f"max_over_time(nms_category_ap_clients[{r}])", now, "category")
    mean = _direct(lab, f"avg_over_time(nms_category_ap_clients[{r}])", now, "category")
    assert set(peak) >= {"government", "park"}
    for category in peak:
        # the rules' windows cover the raw samples from the first evaluation on: the peak can only be lower
        assert 0 < fig.clients_peak[category] <= peak[category], category
        assert fig.clients_mean[category] == pytest.approx(mean[category], rel=0.15), category
    # Counts are not extrapolated: the total is the raw counters' sum as the rule's last evaluation saw it.
    # A scrape stamped just before that evaluation may have been stored just after it, so the raw sum at
    # that instant is bracketed by the sums one scrape (1 s) apart.
    last = _last_rule_sample(client, "category:nms_site_in_octets:sum", now)
    for direction in ("in", "out"):
        expr = f"sum by (category) (nms_site_{direction}_octets_total)"
        raw, before = _direct(lab, expr, last, "category"), _direct(lab, expr, last - 1.5, "category")
        got = fig.traffic_in if direction == "in" else fig.traffic_out
        assert raw and any(v > 0 for v in raw.values())
        for category, value in raw.items():
            assert before[category] <= got[category] <= value, (direction, category)
    for category, days in fig.traffic_daily.items():
        assert sum(days.values()) == (fig.traffic_in[category] or 0) + (fig.traffic_out[category] or 0)


def test_telephony_matches_prometheus_and_the_event_store(lab: Lab, report: tuple[Figures, float]) -> None:
    fig, now = report
    client = PrometheusClient(lab.prometheus.url)
    last = _last_rule_sample(client, "outcome:nms_ivr_calls:sum", now)
    raw = _direct(lab, "sum by (outcome) (nms_ivr_calls_total)", last, "outcome")
    assert fig.calls is not None
    assert {o: n for o, n in fig.calls.items() if n} == {o: round(v) for o, v in raw.items() if v}
    assert sum(fig.calls.values()) == sum(lab.ivr.stats.calls.values()) == 2
    r = covered(lab, now)
    assert fig.lines_peak == _direct(lab, f"max_over_time(nms_ivr_lines_in_use[{r}])", now, "")[""] >= 1
    assert fig.lines_licensed == _direct(lab, f"max_over_time(nms_ivr_lines[{r}])", now, "")[""]
    assert 0 < fig.lines_mean <= fig.lines_peak
    db = sqlite3.connect(lab.events_db)
    rows = db.execute("SELECT department, kind, count(*) FROM protection_events WHERE time >= ? AND time < ? "
                      "GROUP BY department, kind", (fig.start, fig.end)).fetchall()
    db.close()
    assert fig.protection == {(d, k): n for d, k, n in rows}
    assert sum(fig.protection.values()) == 4


def _pdf_text(path: Path) -> str:
    done = subprocess.run(["pdftotext", "-layout", "--", str(path), "-"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return " ".join(done.stdout.split())


def test_files_carry_the_figures(lab: Lab, report: tuple[Figures, float], tmp_path: Path) -> None:
    if not shutil.which("pdftoppm"):
        pytest.fail("pdftoppm is missing: install the Debian package 'poppler-utils' (run `make setup`)")
    fig, now = report
    again, paths = generate(fig.period, lab.district.inventory, lab.prometheus.url, lab.events_db, tmp_path, now)
    pdf, xlsx = paths
    text = _pdf_text(pdf)
    assert "공공와이파이" in text and "남문시장" in text and "가용률" in text
    assert "사이트별 가용률 지도" in text  # three of the lab's sites have coordinates
    assert f"AP 가용률 {again.availability * 100:.1f}%" in text
    book = load_workbook(xlsx)
    assert {"요약", "시설현황", "가용률", "이용현황", "전화"} <= set(book.sheetnames)
    cells = {ws.title: [[c for c in row] for row in ws.iter_rows(values_only=True)] for ws in book.worksheets}
    worst = next(i for i, row in enumerate(cells["가용률"]) if row[0] == "가용률 하위 10개 사이트")
    assert list(cells["가용률"][worst + 2][:5]) == [1, "남문시장", "market-001", "전통시장", 0]
    flat = [v for row in cells["전화"] for v in row]
    assert sum(again.protection.values()) in flat and 2 in flat
    pages = tmp_path / "page"
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "2", "--", str(pdf), str(pages)], check=True,
                   timeout=120)
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == 2 and all(p.stat().st_size > 10_000 for p in pngs)
    target = os.environ.get("NMS_REPORT_EXAMPLES")
    if target:
        for i, png in enumerate(pngs, start=1):
            shutil.copy(png, Path(target) / f"report-example-page{i}.png")


def test_an_empty_month_says_so(lab: Lab, tmp_path: Path) -> None:
    empty = periods.month("2020-02")
    fig, (pdf, xlsx) = generate(empty, lab.district.inventory, lab.prometheus.url, lab.events_db, tmp_path)
    assert not fig.has_data and fig.calls is None and fig.availability is None and fig.protection is None
    text = _pdf_text(pdf)
    assert "수집된 데이터가 없습니다" in text and NO_DATA in text
    book = load_workbook(xlsx)
    values = [v for ws in book.worksheets if ws.title in ("가용률", "이용현황", "전화")
              for row in ws.iter_rows(values_only=True) for v in row[1:] if v is not None]
    assert NO_DATA in values
    assert not any(isinstance(v, int | float) and not isinstance(v, bool) and v == 0 for v in values), \
        "an empty month shows zeros"
