"""Proof that the dashboards and the alert rules work, against a running lab.

A small district runs for real: snmpsim agents (one AP down), softflowd replaying district
traffic, a lab Asterisk 22 taking two calls (staff warnings, then a call that reaches the time
limit), and the service (SNMP and flow collectors, IVR controller, inventory info) in-process
with one /metrics. Debian's Prometheus scrapes it every second and loads configs/prometheus/alerts.yml.

The queries come from the shipped dashboard JSON, as Grafana would send them (dashboards.grafana:
variables resolved against Prometheus, "All" as the variable's allValue, the panel's default step).
Every query of every panel must return data (at least one finite value), except panels marked
event-driven, which must parse. Over the last 10 minutes at the default step no traffic series
drops to zero between two non-zero points (the APs are polled every 4 s here, 4 scrapes), every
count panel returns whole numbers, and the day's counts equal the event store's. The same run draws
every dashboard to PNG (dashboards.render); with NMS_DASHBOARD_PNG_DIR set, into that directory.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from collectors.flows.service import FlowService
from collectors.snmp.service import SnmpCollector
from dashboards import render
from dashboards.build import load_all
from dashboards.grafana import HttpPrometheus, default_step, resolve_variables, run_target, substitute
from dashboards.model import EVENT_DRIVEN_MARK
from ivr.config import load_config
from ivr.metrics import day_start
from lab import LabOptions, start_agents
from lab.flows import start_flow_replay
from lab.prometheus import ready_within
from nms.app.district import District, load_district
from nms.inventory.metrics import InventoryService
from nms.secrets import SecretResolver
from tests import ivr_fixtures
from tests.flows_fixtures import free_udp_port as free_flow_port
from tests.lab_fixtures import free_tcp_port, free_udp_port
from tests.service_runner import RunningService

asterisk_rootfs = ivr_fixtures.asterisk_rootfs

REPO = Path(__file__).resolve().parent.parent
ALERTS = REPO / "configs" / "prometheus" / "alerts.yml"
PROMETHEUS = "/usr/bin/prometheus"
DOWN_AP = "ap-market-01"  # the only AP of market-001: a device down, a site without Wi-Fi, a category at 0%
REBOOTING = "acc-sw-01"  # reboots every 40 s: the reboot annotation has something to mark
ADDED_ELSEWHERE = {"nms_device_system_info": "the SNMP branch (issue 15: system group info series)",
                   "ifLastChange": "the SNMP branch (issue 15: IF-MIB ifLastChange)",
                   "nms_ivr_trunk_": "no carrier trunk in the lab's IVR (ivr_fixtures sets sip.trunk to None); "
                                     "tests/test_ivr_trunk.py checks these series against a registrar"}
"""Metrics a dashboard reads that another branch adds, or that this lab cannot have: a query on one may
return nothing only while Prometheus has no series of it at all."""
AP_POLL = 4  # seconds; every other class polls every 2 s, Prometheus scrapes every 1 s

SITES = [
    {"id": "government-001", "name": "금천구청", "category": "government", "installed": 2015,
     "subnets": ["10.10.1.0/24"], "lat": 37.4568, "lon": 126.8954},
    {"id": "market-001", "name": "남문시장", "category": "market", "installed": 2019, "subnets": ["10.40.1.0/24"],
     "lat": 37.4710, "lon": 126.8990},
    {"id": "park-001", "name": "금천체육공원", "category": "park", "installed": 2017, "subnets": ["10.20.1.0/24"],
     "lat": 37.4600, "lon": 126.8880},
    {"id": "park-002", "name": "삼각공원", "category": "park", "installed": 2021, "subnets": ["10.20.2.0/24"]},
]


def write_district(directory: Path) -> Path:
    """Two backbone switches, an access switch, the IPS (v3), a server and four APs (one planned)."""
    net = f"127.{random.randint(100, 250)}.{random.randint(0, 250)}"
    names = [("bb-01", "backbone", "switch", "government-001", {}),
             ("bb-02", "backbone", "switch", "government-001", {}),
             ("acc-sw-01", "access", "switch", "government-001", {}),
             ("ips-01", "ips", "ips", "government-001", {"credentials": "district-v3"}),
             ("media-ctl-01", "host", "host", "government-001", {"tags": ["removable-media"]}),
             ("ap-gov-01", "ap", "ap-cisco", "government-001", {"vendor": "Cisco"}),
             ("ap-park-01", "ap", "ap-ubiquiti", "park-001", {"vendor": "Ubiquiti"}),
             ("ap-park-02", "ap", "ap-cisco", "park-001", {"installed": 2021, "vendor": "Cisco"}),
             (DOWN_AP, "ap", "ap-cisco", "market-001", {"vendor": "Cisco"})]
    hosts = [f"{net}.{i + 1}" for i in range(len(names))]
    port = free_udp_port(hosts)
    devices = [{"name": name, "role": role, "site": site, "address": host, "port": port, "profile": profile,
                "credentials": "district-v2c", **extra}
               for (name, role, profile, site, extra), host in zip(names, hosts, strict=True)]
    devices.append({"name": "ap-park-03", "role": "ap", "site": "park-002", "address": f"{net}.99", "port": port,
                    "profile": "ap-cisco", "credentials": "district-v2c", "status": "planned"})
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "configs" / "snmp.yaml", directory / "snmp.yaml")
    (directory / "inventory.yaml").write_text(
        yaml.safe_dump({"version": 1, "sites": SITES, "devices": devices}, allow_unicode=True), encoding="utf-8")
    classes = {role: {"interval": AP_POLL if role == "ap" else 2, "timeout": 0.5, "retries": 0}
               for role in ("backbone", "access", "ips", "ap", "host")}
    (directory / "nms.yaml").write_text(yaml.safe_dump({
        "inventory": "inventory.yaml", "snmp": "snmp.yaml", "http": {"listen": f"127.0.0.1:{free_tcp_port()}"},
        "polling": {"jitter": 0.0, "concurrency": 32, "classes": classes},
        "flows": {"listen": f"127.0.0.1:{free_flow_port()}", "top_window": 2, "top_n": 10}}), encoding="utf-8")
    return directory / "nms.yaml"


class Prometheus(HttpPrometheus):
    """Debian's Prometheus scraping the service every second, with the shipped alert rules."""

    def __init__(self, directory: Path, target: str, rule_files: Sequence[Path] = (ALERTS,)):
        if not Path(PROMETHEUS).exists():
            pytest.fail("prometheus is missing: install the Debian package 'prometheus' (run `make setup`)")
        directory.mkdir(parents=True, exist_ok=True)
        config = directory / "prometheus.yml"
        config.write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(f) for f in rule_files],
            "scrape_configs": [{"job_name": "nms", "static_configs": [{"targets": [target]}]}]}))
        self.listen = f"127.0.0.1:{free_tcp_port()}"
        super().__init__(f"http://{self.listen}")
        self.log = directory / "prometheus.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [PROMETHEUS, f"--config.file={config}", f"--web.listen-address={self.listen}",
                 f"--storage.tsdb.path={directory / 'data'}"], stdout=log, stderr=subprocess.STDOUT, cwd=directory)
        if not ready_within(f"{self.url}/-/ready", lambda: self.proc.poll() is None, 30):
            self.stop()
            pytest.fail(f"Prometheus did not start:\n{self.log.read_text(errors='replace')[-3000:]}")
        self.started = time.time()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Lab:
    district: District
    prometheus: Prometheus
    ivr: Any
    events_db: Path


def _staff_answered(client) -> list[str]:
    return [e.get("DestChannel") for e in client.events if e.get("Event") == "DialEnd"
            and e.get("DialStatus") == "ANSWER" and "@nms-lab-staff" in (e.get("DestChannel") or "")]


async def _calls(ivr_lab, service) -> None:
    """Call 1: the staff presses the warning key until the call is terminated. Call 2: reaches the time limit."""
    deadline = time.monotonic() + 30
    while not service.stats.connected:
        assert time.monotonic() < deadline, "the IVR controller never connected to the lab Asterisk"
        await asyncio.sleep(0.1)
    key = ivr_lab.config.protection.warning_key
    first, second = ivr_lab.config.departments[0], ivr_lab.config.departments[1]
    async with ivr_lab.client() as client:
        await client.call(first.dids[0], caller="01055550001")
        staff = await client.wait_until(lambda: _staff_answered(client), 30, "staff answered call 1")
        await client.call(second.dids[0], caller="01055550002")
        for n, sound in enumerate(("nms/warning-1", "nms/warning-2", "nms/warning-final"), start=1):
            await client.press(staff[0], key)
            await client.wait_until(lambda s=sound: client.playbacks(s), 15, sound)
            await client.wait_until(lambda n=n: len(client.user_events("NmsProtection")) >= n, 10)
        await client.wait_until(
            lambda: any(e.get("Kind") == "time-limit-end" for e in client.user_events("NmsProtection")), 30,
            "call 2 reaching the time limit")
    deadline = time.monotonic() + 15
    while sum(service.stats.protection.values()) < 4 or sum(service.stats.calls.values()) < 2:
        assert time.monotonic() < deadline, f"controller saw {service.stats.protection} / {service.stats.calls}"
        await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
def lab(asterisk_rootfs: Path) -> Iterator[Lab]:
    with running_lab("nms-dashboards-", (ALERTS,)) as running:
        yield running


@contextmanager
def running_lab(prefix: str, rule_files: Sequence[Path]) -> Iterator[Lab]:
    """The small district, the service, two calls, and a Prometheus loading ``rule_files``."""
    run_dir = Path(tempfile.mkdtemp(prefix=prefix))
    run_dir.chmod(0o755)  # the agents' unprivileged user reads their data below it
    stack: list[Any] = []
    try:
        district = load_district(write_district(run_dir / "district"))
        agents = start_agents(district, run_dir, options=LabOptions(down=[DOWN_AP], reboot=[REBOOTING],
                                                                    reboot_interval=40.0, wrap=[]))
        stack.append(agents)
        ivr_data = ivr_fixtures.config_data(call_limit={"warning_after": 5, "end_after": 10})
        ivr_lab = ivr_fixtures.IvrLab(load_config(ivr_fixtures.write_config(run_dir / "ivr", ivr_data)),
                                      run_dir / "ivr", ivr_fixtures.instance_name("dash"))
        stack.append(ivr_lab)
        ivr = ivr_lab.service()
        services = [SnmpCollector(district, SecretResolver(agents.secrets_dir, environ={})), FlowService(district),
                    ivr, InventoryService(district)]
        service = RunningService(district.config_path, services=services)
        service.__enter__()
        stack.append(service)
        replay = start_flow_replay(district, run_dir, district.settings.flows.listen, version=9, interval=1.0)
        stack.append(replay)
        prometheus = Prometheus(run_dir / "prometheus", district.settings.http.listen, rule_files)
        stack.append(prometheus)
        asyncio.run(asyncio.wait_for(_calls(ivr_lab, ivr), 120))
        yield Lab(district, prometheus, ivr, ivr_lab.config.events.database)
    finally:
        for part in reversed(stack):
            if isinstance(part, RunningService):
                part.__exit__(None, None, None)
            elif hasattr(part, "close"):
                part.close()
            else:
                part.stop()
        shutil.rmtree(run_dir, ignore_errors=True)


def _finite(body: dict) -> bool:
    data = body["data"]
    if data["resultType"] == "matrix":
        points = [v for series in data["result"] for _, v in series["values"]]
    elif data["resultType"] == "vector":
        points = [series["value"][1] for series in data["result"]]
    else:
        points = [data["result"][1]]
    return any(math.isfinite(float(p)) for p in points)


def _missing_elsewhere(prom: Prometheus, expr: str) -> str | None:
    """The branch that adds a metric of this query, if Prometheus has never seen that metric."""
    for metric, branch in ADDED_ELSEWHERE.items():
        if metric in expr:
            selector = f'{{__name__=~"{metric}.*"}}' if metric.endswith("_") else metric
            status, body = prom.get("/api/v1/series", **{"match[]": selector, "start": str(prom.started)})
            if status == 200 and not body["data"]:
                return branch
    return None


@dataclass
class Query:
    dashboard: str
    panel: str
    ref: str
    expr: str
    instant: bool
    event_driven: bool

    def run(self, prom: Prometheus, start: float, end: float) -> str | None:
        """None if the query answered as it must; else what went wrong."""
        if self.instant:
            status, body = prom.get("/api/v1/query", query=self.expr, time=str(end))
        else:
            status, body = prom.get("/api/v1/query_range", query=self.expr, start=str(start), end=str(end), step="1")
        if status != 200 or body.get("status") != "success":
            return f"HTTP {status}: {body.get('error', body)}"
        if self.event_driven:
            return None
        if not body["data"]["result"]:
            if _missing_elsewhere(prom, self.expr):
                return None
            return "no data"
        if not _finite(body):
            return "only NaN/Inf"
        return None

    def __str__(self) -> str:
        return f"{self.dashboard} / {self.panel} / {self.ref}: {self.expr}"


def panel_queries(prom: Prometheus, start: float, end: float) -> list[Query]:
    out = []
    for name, dashboard in load_all().items():
        values = resolve_variables(prom, dashboard, start, end)
        for panel in dashboard["panels"]:
            if panel["type"] == "row":
                continue
            event_driven = EVENT_DRIVEN_MARK in panel.get("description", "")
            for target in panel["targets"]:
                out.append(Query(name, panel["title"], target["refId"], substitute(target["expr"], values),
                                 bool(target.get("instant")), event_driven))
        for annotation in dashboard["annotations"]["list"]:  # they mark events: they must parse
            out.append(Query(name, f"annotation {annotation['name']}", "-", substitute(annotation["expr"], values),
                             False, True))
    return out


# -- the proofs ----------------------------------------------------------------------------------------
def test_every_panel_query_returns_data(lab: Lab) -> None:
    prom = lab.prometheus
    pending: list[Query] = []
    problems: dict[str, str] = {}
    deadline = time.monotonic() + 60
    first = True
    while first or (pending and time.monotonic() < deadline):
        if not first:
            time.sleep(2)
        end = time.time()
        start = prom.started
        queries = panel_queries(prom, start, end) if first else pending
        first = False
        problems = {}
        for q in queries:
            problem = q.run(prom, start, end)
            if problem:
                problems[str(q)] = problem
        pending = [q for q in queries if str(q) in problems]
        # A parse error never goes away: stop waiting for data that cannot come.
        if any(p.startswith("HTTP 400") for p in problems.values()):
            break
    assert not problems, "queries that failed:\n" + "\n".join(f"  {q}\n    -> {p}" for q, p in problems.items())
    assert len(load_all()) == 9


def _rules(prom: Prometheus) -> list[dict]:
    status, body = prom.get("/api/v1/rules")
    assert status == 200, body
    return [r for g in body["data"]["groups"] for r in g["rules"]]


def test_every_alert_rule_evaluates_in_prometheus(lab: Lab) -> None:
    prom = lab.prometheus
    shipped = {r.get("alert") or r["record"]: r["expr"] for g in yaml.safe_load(ALERTS.read_text())["groups"]
               for r in g["rules"]}
    deadline = time.monotonic() + 30
    while True:
        rules = _rules(prom)
        unevaluated = [r["name"] for r in rules if r.get("lastEvaluation", "").startswith("0001")]
        if not unevaluated or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert {r["name"] for r in rules} == set(shipped), "Prometheus did not load every shipped rule"
    assert not unevaluated, f"never evaluated: {unevaluated}"
    unhealthy = {r["name"]: r.get("lastError") for r in rules if r["health"] != "ok" or r.get("lastError")}
    assert not unhealthy, unhealthy
    for name, expr in shipped.items():  # and each expression, asked directly
        status, body = prom.get("/api/v1/query", query=expr)
        assert status == 200 and body["status"] == "success", (name, body)


def test_alerts_see_the_labs_faults(lab: Lab) -> None:
    """The rules match the real series: the AP that is down makes its alerts pending (or firing).

    market-001 has that one AP only and is not marked important: the AP's warning is all there is."""
    prom = lab.prometheus
    want = {("NmsApDown", "device", DOWN_AP), ("NmsApAvailabilityLow", "category", "market")}
    deadline = time.monotonic() + 30
    while True:
        status, body = prom.get("/api/v1/alerts")
        assert status == 200, body
        active = {(a["labels"]["alertname"], key, a["labels"].get(key)) for a in body["data"]["alerts"]
                  for key in ("device", "site", "category") if a["state"] in ("pending", "firing")}
        if want <= active or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert want <= active, f"missing: {want - active}"
    names = {a[0] for a in active}
    assert "NmsAmiDisconnected" not in names and "NmsIpsUnreachable" not in names, names
    assert "NmsSiteAllApsDown" not in names and "NmsDeviceDown" not in names, names


# -- truthful numbers -----------------------------------------------------------------------------------
TEN_MINUTES = 600
CHOSEN = {"nms-site": {"site": "government-001"}, "nms-device": {"site": "government-001", "device": "bb-01"},
          "nms-interface": {"site": "government-001", "device": "bb-01"}}
"""Variable values for the drill-down pages (the rest default as in Grafana: All, or the first option)."""


def _steady_lab(lab: Lab, polls: int = 6) -> tuple[float, float]:
    """The last 10 minutes, once the slowest class has been polled ``polls`` times after its first window."""
    ready = lab.prometheus.started + polls * AP_POLL + 30
    while time.time() < ready:  # bounded: waits for data, asserts nothing about time
        time.sleep(1)
    end = time.time()
    return end - TEN_MINUTES, end


def _panels_with_values(prom: Prometheus, start: float, end: float):
    """(dashboard, panel, target, result) for every target, with the dashboard's variables and default step."""
    for name, dashboard in load_all().items():
        values = resolve_variables(prom, dashboard, start, end, CHOSEN.get(dashboard["uid"]))
        for panel in dashboard["panels"]:
            if panel["type"] == "row":
                continue
            step = default_step(panel, start, end)
            for target in panel["targets"]:
                yield name, panel, target, run_target(prom, target, substitute(target["expr"], values), start, end,
                                                      step)


def zero_between_non_zero(points: list[tuple[float, float]]) -> float | None:
    """The time of a 0 that has a non-zero value before and after it, if any."""
    values = [v for _, v in points]
    for i, value in enumerate(values):
        if value == 0 and any(v != 0 for v in values[:i]) and any(v != 0 for v in values[i + 1:]):
            return points[i][0]
    return None


_TRAFFIC = ("Octets", "UcastPkts", "_bytes_total")
LAB_MAX_BPS = 1e12
"""More than all the lab's ports together could carry: a value above it is a counting error."""


def test_traffic_never_drops_to_zero_between_polls(lab: Lab) -> None:
    """Every timeseries panel over the last 10 minutes at its default step; traffic series must not zig-zag."""
    start, end = _steady_lab(lab)
    checked, problems = 0, []
    for name, panel, target, result in _panels_with_values(lab.prometheus, start, end):
        if panel["type"] != "timeseries" or not any(m in target["expr"] for m in _TRAFFIC):
            continue
        for labels, points in result.series:
            checked += 1
            at = zero_between_non_zero(points)
            if at is not None:
                problems.append(f"{name} / {panel['title']} / {labels}: 0 at {at} between non-zero points")
            if panel["fieldConfig"]["defaults"].get("unit") == "bps" and max(abs(v) for _, v in points) > LAB_MAX_BPS:
                problems.append(f"{name} / {panel['title']} / {labels}: {max(v for _, v in points):.3g} bit/s")
    assert checked >= 20, f"only {checked} traffic series: is the lab's traffic flowing?"
    assert not problems, "\n".join(problems)


def test_the_check_would_see_a_window_of_one_scrape(lab: Lab) -> None:
    """The control: a window shorter than the AP poll (the issue's [1m] over 60 s polls) does zig-zag here."""
    _start, end = _steady_lab(lab)
    result = run_target(lab.prometheus, {"refId": "A"}, 'rate(ifHCInOctets{role="ap",ifName=~"(?i)(gi|eth).*"}[2s])',
                        end - 60, end, 1)
    assert result.series, "no AP traffic in the lab"
    assert any(zero_between_non_zero(points) is not None for _, points in result.series)


def test_count_panels_return_whole_numbers(lab: Lab) -> None:
    start, end = _steady_lab(lab)
    checked, problems = 0, []
    for name, panel, target, result in _panels_with_values(lab.prometheus, start, end):
        if panel["fieldConfig"]["defaults"].get("decimals") != 0:
            continue
        for labels, points in result.series:
            for _, value in points:
                checked += 1
                if math.isfinite(value) and not float(value).is_integer():
                    problems.append(f"{name} / {panel['title']} / {target['refId']} {labels}: {value}")
    assert checked >= 50, checked
    assert not problems, "\n".join(problems[:30])


def _panel_value(prom: Prometheus, uid: str, title: str) -> float:
    dashboard = next(d for d in load_all().values() if d["uid"] == uid)
    panel = next(p for p in dashboard["panels"] if p["title"] == title)
    end = time.time()
    values = resolve_variables(prom, dashboard, end - TEN_MINUTES, end)
    [target] = panel["targets"]
    result = run_target(prom, target, substitute(target["expr"], values), end - TEN_MINUTES, end, 15)
    [(_, points)] = result.series
    return points[-1][1]


def test_daily_counts_equal_the_event_store(lab: Lab) -> None:
    """The telephony dashboard's counts of the day are the event store's counts of the same (Seoul) day."""
    store, config = lab.ivr.store, lab.ivr.config
    since = day_start(config.hours.timezone)
    want_events = len(store.events(since=since))
    want_calls = sum(store.calls_since(since).values())
    assert want_events >= 4 and want_calls >= 2, (want_events, want_calls)
    deadline = time.monotonic() + 30
    while True:  # until Prometheus has scraped the last call's end
        events = _panel_value(lab.prometheus, "nms-telephony", "오늘 보호 조치 · Protection events today")
        calls = _panel_value(lab.prometheus, "nms-telephony", "오늘 전체 통화 · Calls today")
        if (events, calls) == (want_events, want_calls) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert (events, calls) == (want_events, want_calls)
    assert events.is_integer() and calls.is_integer()


def test_render_every_dashboard_to_png(lab: Lab) -> None:
    """What the NOC would see, drawn from the real query results (dashboards/png/ in the README)."""
    target = os.environ.get("NMS_DASHBOARD_PNG_DIR")
    # For the README's pictures: let the 4-minute windows fill first (a bounded wait, no assertion on time).
    _steady_lab(lab, polls=100 if target else 6)
    out = Path(target) if target else Path(tempfile.mkdtemp(prefix="nms-png-"))
    try:
        paths = render.render_all(lab.prometheus, out, minutes=10, chosen=CHOSEN)
        assert len(paths) == len(load_all())
        for path in paths:
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20_000, path
    finally:
        if not target:
            shutil.rmtree(out, ignore_errors=True)
