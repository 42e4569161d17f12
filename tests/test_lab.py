"""The simulated district: real snmpsim agents and a real Prometheus, checked with net-snmp's tools."""

from __future__ import annotations

import calendar
import itertools
import json
import os
import re
import shutil
import signal
import smtplib
import stat
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from lab import AgentSet, LabOptions, LabState, dynamics, lab_down, lab_status, lab_up
from lab.agentdata import context_for, device_records, expected_value, read_snmprec
from lab.faults import choose_faults
from lab.labsecrets import LabCredential, ensure_lab_secrets
from lab.prometheus import check_config
from nms.app.district import District, load_district
from nms.inventory.models import Device, DeviceRole
from tests.lab_fixtures import (
    free_tcp_port,
    lab_agents,  # noqa: F401 (fixture)
    lab_district,  # noqa: F401 (fixture)
    lab_run_dir,  # noqa: F401 (fixture)
    require_tool,
    write_small_district,
)

IF_HC_IN_OCTETS = "1.3.6.1.2.1.31.1.1.1.6"
IF_IN_ERRORS = "1.3.6.1.2.1.2.2.1.14"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
CISCO_CLIENTS = "1.3.6.1.4.1.9.9.273.1.1.2.1.1"


class SmallLab:
    """A lab of the small district (tests/lab_fixtures.py) started with ``lab_up``."""

    def __init__(self, district: District, state: LabState):
        self.district = district
        self.state = state
        self.credentials = ensure_lab_secrets(state.secrets_dir, district.snmp)  # reads the lab's secrets

    def device(self, name: str) -> Device:
        return next(d for d in self.district.inventory.devices if d.name == name)

    def endpoint(self, name: str) -> str:
        d = self.device(name)
        return f"{d.address}:{d.port}"

    def credential(self, name: str) -> LabCredential:
        return self.credentials[self.device(name).credentials]

    def data(self, name: str) -> dict[str, tuple[str, str]]:
        files = list((self.state.run_dir / "agents" / "data" / name).glob("*.snmprec"))
        assert len(files) == 1, files
        return read_snmprec(files[0])

    def run(self, tool: str, name: str, *oids: str, cred: LabCredential | None = None,
            timeout: float = 1.0) -> subprocess.CompletedProcess[str]:
        cred = cred or self.credential(name)
        cmd = [require_tool(tool, "snmp"), *cred.net_snmp_args(), "-t", str(timeout), "-r", "0", "-On", "-Oe",
               "-Oq", "-Ot", self.endpoint(name), *oids]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60)

    def values(self, tool: str, name: str, *oids: str) -> dict[str, str]:
        done = self.run(tool, name, *oids)
        assert done.returncode == 0, f"{tool} {name}: {done.stderr}"
        return parse_output(done.stdout)


def parse_output(text: str) -> dict[str, str]:
    """``{oid: value}`` from net-snmp's ``-On -Oq`` output (continuation lines joined)."""
    out: dict[str, str] = {}
    last = None
    for line in text.splitlines():
        if line.startswith("."):
            oid, _, value = line[1:].partition(" ")
            out[oid] = value.strip()
            last = oid
        elif last is not None and line.strip():
            out[last] += " " + line.strip()
    return out


def text_of(value: str) -> str:
    """A string value as net-snmp printed it: quoted text, or hex bytes (Korean in UTF-8, or in CP949
    as the lab's Dasan switches send it)."""
    inner = value.strip('"').strip()
    if re.fullmatch(r"([0-9A-F]{2} ?)+", inner):
        raw = bytes.fromhex(inner.replace(" ", ""))
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("cp949")
    return inner


def read_at(lab: SmallLab, name: str, oid: str) -> tuple[int, float, float]:
    """One GET: the integer value and the wall-clock window it was read in."""
    before = time.time()
    value = lab.values("snmpget", name, oid)[oid]
    return int(value), before, time.time()


def model_values(lab: SmallLab, name: str, oid: str, before: float, after: float) -> set[int | str]:
    record = lab.data(name)[oid]
    return {expected_value(record, t) for t in range(int(before), int(after) + 1)}


@pytest.fixture(scope="module")
def small_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmallLab]:
    district = load_district(write_small_district(tmp_path_factory.mktemp("district")))
    run_dir = Path(tempfile.mkdtemp(prefix="nms-lab-test-"))
    run_dir.chmod(0o755)
    options = LabOptions(down=["ap-park-01"], reboot=["media-ctl-01"], reboot_interval=6, wrap=["ips-01"],
                         wrap_after=8)
    state = lab_up(district, run_dir, prometheus=False, progress=False, options=options)
    try:
        yield SmallLab(district, state)
    finally:
        lab_down(run_dir)
        shutil.rmtree(run_dir, ignore_errors=True)


# --- the model, without agents ------------------------------------------------------------------

def kst(day: str, hour: float) -> float:
    """Epoch of ``day`` (YYYY-MM-DD) at ``hour`` o'clock in Seoul."""
    return calendar.timegm(time.strptime(day, "%Y-%m-%d")) - dynamics.KST_OFFSET + hour * 3600


def test_occupancy_follows_time_of_day_and_site_category() -> None:
    weekday, saturday = "2026-11-25", "2026-11-28"  # a Wednesday and a Saturday
    occ = dynamics.occupancy
    assert occ("market", kst(weekday, 17)) > 3 * occ("market", kst(weekday, 4))
    assert occ("government", kst(weekday, 14)) > 5 * occ("government", kst(saturday, 14))
    assert occ("park", kst(weekday, 20)) > 2 * occ("park", kst(weekday, 10))
    assert occ("park", kst(saturday, 14)) > 2 * occ("park", kst(weekday, 14))
    assert occ("street", kst(weekday, 8)) > 2 * occ("street", kst(weekday, 10))
    assert occ("street", kst(weekday, 18)) > 2 * occ("street", kst(weekday, 15))
    assert occ("welfare", kst(weekday, 11)) > 5 * occ("welfare", kst(weekday, 21))


def test_counter_rises_wraps_and_restarts_after_reboot() -> None:
    t0 = kst("2026-11-25", 9)
    spec = {"k": "c", "r": 1e6, "cat": 0, "base": 0.2, "m": 64, "o": 0, "b": t0 - 86400}
    values = [dynamics.value_at(spec, t0 + s) for s in range(0, 7200, 60)]
    assert all(b > a for a, b in itertools.pairwise(values))
    wrapping = dict(spec, o=2**64 - dynamics.counter_increase(spec, t0 - 86400, t0 + 100))
    assert dynamics.value_at(wrapping, t0 + 99) > 2**64 - 2**30
    assert dynamics.value_at(wrapping, t0 + 101) < 2**30
    rebooting = {"k": "c", "r": 1e6, "cat": 0, "m": 64, "o": 0, "rp": 600, "ph": t0}
    assert dynamics.value_at(rebooting, t0 + 599) > dynamics.value_at(rebooting, t0 + 601)
    uptime = {"k": "u", "rp": 600, "ph": t0}
    assert dynamics.value_at(uptime, t0 + 601) == 100


def test_full_district_data_and_faults() -> None:
    """The embedded district: data for every active device; a handful down, never backbone or IPS."""
    district = load_district()
    active = list(district.inventory.active_devices())
    now = time.time()
    faults = choose_faults(active, LabOptions(), now)
    roles = {d.name: d.role for d in active}
    assert 1 <= len(faults.down) <= 5
    assert not {roles[n] for n in faults.down} & {DeviceRole.BACKBONE, DeviceRole.IPS}
    assert faults.reboot and faults.wrap
    assert not set(faults.reboot) & set(faults.down)
    sizes = {}
    for device in active:
        ctx = context_for(device, district.inventory, district.snmp.profiles, faults, now)
        sizes[device.name] = len(device_records(ctx).items)
    switches = [d.name for d in active if d.role in (DeviceRole.BACKBONE, DeviceRole.ACCESS)]
    assert all(sizes[n] > 24 * 15 for n in switches)
    assert min(sizes.values()) > 30


# --- real agents -------------------------------------------------------------------------------

def test_secrets_are_private_files(small_lab: SmallLab) -> None:
    secrets_dir = small_lab.state.secrets_dir
    assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700
    names = sorted(p.name for p in secrets_dir.iterdir())
    assert names == ["alert-relay-token", "district-v2c", "district-v3-auth", "district-v3-priv"]
    state_text = (small_lab.state.run_dir / "lab.json").read_text()
    for path in secrets_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_text().strip() not in state_text


def test_v2c_walk_serves_switch_tables(small_lab: SmallLab) -> None:
    got = small_lab.values("snmpbulkwalk", "acc-sw-01", "1.3.6.1.2.1")
    names = [oid for oid in got if oid.startswith("1.3.6.1.2.1.31.1.1.1.1.")]
    assert len(names) == 24  # a V5824G
    assert got["1.3.6.1.2.1.1.5.0"] == '"acc-sw-01"'
    aliases = [text_of(v) for oid, v in got.items() if oid.startswith("1.3.6.1.2.1.31.1.1.1.18.")]
    assert any(re.fullmatch(r"\dF \w+", a) for a in aliases), aliases  # "3F 정보통신팀", ...
    oper = [v for oid, v in got.items() if oid.startswith("1.3.6.1.2.1.2.2.1.8.")]
    assert {"1", "2"} <= set(oper)  # up and down ports
    assert any(oid.startswith("1.3.6.1.2.1.25.3.3.1.2.") for oid in got)  # hrProcessorLoad
    sensor_types = {v for oid, v in got.items() if oid.startswith("1.3.6.1.2.1.99.1.1.1.1.")}
    assert sensor_types == {"8", "4"}  # celsius, and the 12 V rail in voltsDC
    # every value served is the data file's (dynamic ones aside)
    data = small_lab.data("acc-sw-01")
    assert set(got) <= set(data)


def test_v3_walk_serves_the_ips_and_v2c_gets_nothing(small_lab: SmallLab) -> None:
    got = small_lab.values("snmpbulkwalk", "ips-01", "1.3.6.1.4.1.8072.9999.1")
    assert set(got) == {"1.3.6.1.4.1.8072.9999.1.1.0", "1.3.6.1.4.1.8072.9999.1.2.0", "1.3.6.1.4.1.8072.9999.1.3.0"}
    assert int(got["1.3.6.1.4.1.8072.9999.1.3.0"]) <= int(got["1.3.6.1.4.1.8072.9999.1.2.0"])
    x_table = small_lab.values("snmpbulkwalk", "ips-01", "1.3.6.1.2.1.31.1.1.1.1")
    assert len(x_table) == 4
    v2c = small_lab.run("snmpget", "ips-01", SYS_UPTIME, cred=small_lab.credentials["district-v2c"], timeout=0.5)
    assert v2c.returncode != 0 and "Timeout" in v2c.stderr


def test_wrong_community_gets_no_answer(small_lab: SmallLab) -> None:
    wrong = LabCredential("district-v2c", "2c", community="public")
    done = small_lab.run("snmpget", "acc-sw-01", SYS_UPTIME, cred=wrong, timeout=0.5)
    assert done.returncode != 0 and "Timeout" in done.stderr


def test_down_device_times_out(small_lab: SmallLab) -> None:
    assert small_lab.state.down_devices == ["ap-park-01"]
    done = small_lab.run("snmpget", "ap-park-01", SYS_UPTIME, timeout=0.5)
    assert done.returncode != 0 and "Timeout" in done.stderr


def test_counters_rise_and_match_the_model(small_lab: SmallLab) -> None:
    data = small_lab.data("acc-sw-01")
    oid = next(o for o, (tag, _) in data.items() if o.startswith(IF_HC_IN_OCTETS + ".") and ":" in tag)
    first, b1, a1 = read_at(small_lab, "acc-sw-01", oid)
    time.sleep(1.1)
    second, b2, a2 = read_at(small_lab, "acc-sw-01", oid)
    assert second > first
    assert first in model_values(small_lab, "acc-sw-01", oid, b1, a1)
    assert second in model_values(small_lab, "acc-sw-01", oid, b2, a2)


def test_ap_clients_follow_the_model(small_lab: SmallLab) -> None:
    before = time.time()
    got = small_lab.values("snmpbulkwalk", "ap-market-01", CISCO_CLIENTS)
    after = time.time()
    assert sorted(got) == [f"{CISCO_CLIENTS}.2", f"{CISCO_CLIENTS}.3"]  # one row per radio (ifIndex)
    for oid, value in got.items():
        assert int(value) in model_values(small_lab, "ap-market-01", oid, before, after)


def test_rebooting_device_uptime_goes_back(small_lab: SmallLab) -> None:
    """media-ctl-01 reboots every 6 s here: its sysUpTime restarts and its counters are small."""
    readings = []
    deadline = time.time() + 15
    while time.time() < deadline:
        readings.append(read_at(small_lab, "media-ctl-01", SYS_UPTIME)[0])
        if len(readings) > 1 and readings[-1] < readings[-2]:
            break
        time.sleep(0.5)
    assert all(r <= 600 for r in readings)
    assert any(b < a for a, b in itertools.pairwise(readings)), readings
    octets, before, after = read_at(small_lab, "media-ctl-01", f"{IF_HC_IN_OCTETS}.2")
    assert octets in model_values(small_lab, "media-ctl-01", f"{IF_HC_IN_OCTETS}.2", before, after)
    assert octets < 6 * 1e9


def test_counters_wrap(small_lab: SmallLab) -> None:
    """ips-01's busiest port (ifIndex 3): ifHCInOctets passes 2^64 and ifInErrors 2^32 at the wrap time."""
    wrap_at = small_lab.state.wraps["ips-01"]
    checks = [(f"{IF_HC_IN_OCTETS}.3", 64), (f"{IF_IN_ERRORS}.3", 32)]
    for oid, bits in checks:
        value, before, after = read_at(small_lab, "ips-01", oid)
        assert value in model_values(small_lab, "ips-01", oid, before, after)
        if after < wrap_at:
            assert value > 2**bits - 2**(bits - 8)
    time.sleep(max(0.0, wrap_at + 1.2 - time.time()))
    for oid, bits in checks:
        value, before, after = read_at(small_lab, "ips-01", oid)
        assert value < 2**(bits - 8), (oid, value)
        assert value in model_values(small_lab, "ips-01", oid, before, after)


def test_stop_device_simulates_an_outage(lab_agents: AgentSet) -> None:  # noqa: F811
    from tests.lab_fixtures import snmp_cmd

    assert snmp_cmd("snmpget", lab_agents, "ap-market-01", SYS_UPTIME).returncode == 0
    lab_agents.stop_device("ap-market-01")
    gone = snmp_cmd("snmpget", lab_agents, "ap-market-01", SYS_UPTIME, timeout=0.5)
    assert gone.returncode != 0 and "Timeout" in gone.stderr
    assert snmp_cmd("snmpget", lab_agents, "acc-sw-01", SYS_UPTIME).returncode == 0


# --- lifecycle -----------------------------------------------------------------------------------

def gone(pid: int) -> bool:
    stat_file = Path(f"/proc/{pid}/stat")
    return not stat_file.exists() or stat_file.read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")


def test_up_is_idempotent_and_down_leaves_no_process(lab_district: District, lab_run_dir: Path) -> None:  # noqa: F811
    options = LabOptions(processes=1)
    state = lab_up(lab_district, lab_run_dir, prometheus=False, progress=False, options=options)
    pids = state.pids
    assert len(state.agents) == 2  # the v2c devices, and the v3 ones
    assert [p.name for p in state.extras] == ["softflowd"]  # the flow replay (no ivr.yaml beside this district)
    again = lab_up(lab_district, lab_run_dir, prometheus=False, progress=False, options=options)
    assert again.already_running and again.pids == pids
    status = lab_status(lab_run_dir)
    assert status is not None and status.all_running()
    assert "SNMP 에이전트" in status.describe()
    saved = json.loads((lab_run_dir / "lab.json").read_text())
    assert sorted(saved["endpoints"]) == sorted(state.endpoints)

    # A lab with a dead part is cleaned up and started again.
    os.kill(pids[0], signal.SIGKILL)
    time.sleep(0.2)
    status = lab_status(lab_run_dir)
    assert status is not None and not status.all_running()
    restarted = lab_up(lab_district, lab_run_dir, prometheus=False, progress=False, options=options)
    assert not restarted.already_running and restarted.all_running()
    assert all(gone(pid) for pid in pids)

    # Even without its state file, down finds the lab's processes by their command lines.
    (lab_run_dir / "lab.json").unlink()
    lab_down(lab_run_dir)
    assert lab_status(lab_run_dir) is None
    assert all(gone(pid) for pid in restarted.pids)


def test_prometheus_is_ready_and_its_config_checks(lab_district: District, lab_run_dir: Path) -> None:  # noqa: F811
    require_tool("promtool", "prometheus")
    listen = f"127.0.0.1:{free_tcp_port()}"
    am_listen, smtp_listen = f"127.0.0.1:{free_tcp_port()}", f"127.0.0.1:{free_tcp_port()}"
    state = lab_up(lab_district, lab_run_dir, progress=False,
                   options=LabOptions(processes=1, prometheus_listen=listen, alertmanager_listen=am_listen,
                                      smtp_listen=smtp_listen, flows=False, asterisk=False))
    try:
        assert state.prometheus_url == f"http://{listen}"
        with urllib.request.urlopen(f"{state.prometheus_url}/-/ready", timeout=5) as resp:
            assert resp.status == 200
        config = lab_run_dir / "prometheus" / "prometheus.yml"
        assert "SUCCESS" in check_config(config)
        with urllib.request.urlopen(f"{state.prometheus_url}/api/v1/status/config", timeout=5) as resp:
            loaded = yaml.safe_load(json.load(resp)["data"]["yaml"])
        jobs = {job["job_name"]: job for job in loaded["scrape_configs"]}
        assert jobs["nms"]["static_configs"][0]["targets"] == [lab_district.settings.http.listen]
        assert jobs["nms"]["scrape_interval"] == "15s"
        assert jobs["prometheus"]["static_configs"][0]["targets"] == [listen]
        # the lab's Alertmanager gets the alerts, and its mail goes to the lab's SMTP sink
        assert loaded["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [am_listen]
        assert jobs["alertmanager"]["static_configs"][0]["targets"] == [am_listen]
        assert state.alertmanager_url == f"http://{am_listen}"
        with urllib.request.urlopen(f"{state.alertmanager_url}/api/v2/status", timeout=5) as resp:
            am_config = yaml.safe_load(json.load(resp)["config"]["original"])
        assert am_config["global"]["smtp_smarthost"] == smtp_listen
        assert {p.name for p in state.extras} == {"smtpsink", "alertmanager"}
        assert all(p.running() for p in state.extras)
        with smtplib.SMTP(*smtp_listen.split(":"), timeout=5) as smtp:
            smtp.sendmail("nms@geumcheon.example", ["noc@geumcheon.example"], "Subject: lab\r\n\r\nhello\r\n")
        assert any((lab_run_dir / "mail" / "new").iterdir())
        assert "Alertmanager" in state.describe()
    finally:
        lab_down(lab_run_dir)
    assert state.prometheus is not None and not state.prometheus.running()
    assert not any(p.running() for p in state.extras)
