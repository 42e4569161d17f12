"""Reboots, counter wraps, misfires and SIGHUP reloads, against simulated agents and the real CLI."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

from collectors.snmp.service import SnmpCollector
from lab import start_agents
from lab.options import LabOptions
from nms.inventory.models import DeviceRole
from nms.secrets import SecretResolver
from tests.district_builder import device, write_district
from tests.lab_fixtures import free_tcp_port
from tests.service_runner import RunningService, wait_for


def test_reboot_counts_as_reboot_and_wrap_as_wrap(lab_district, lab_run_dir):
    """ap-park-01 reboots every 3 s; acc-sw-01's busiest port passes 2^64 10 s after the lab starts
    (starting the agents alone can take several seconds on a loaded machine)."""
    options = LabOptions(down=[], reboot=["ap-park-01"], reboot_interval=3, wrap=["acc-sw-01"], wrap_after=10)
    started = time.monotonic()
    with start_agents(lab_district, lab_run_dir, options=options) as agents:
        collector = SnmpCollector(lab_district, SecretResolver(agents.secrets_dir, environ={}))
        switch = next(d for d in collector.devices() if d.name == "acc-sw-01")
        ap = next(d for d in collector.devices() if d.name == "ap-park-01")
        site_octets: list[int] = []

        async def poll_for(seconds: float) -> None:
            await collector.poller.open()
            try:
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    samples = await asyncio.gather(collector.poll_device(switch), collector.poll_device(ap))
                    assert all(s.ok for s in samples), [s.message for s in samples]
                    site_octets.append(collector.states["acc-sw-01"].octets["ifHCInOctets"])
                    await asyncio.sleep(0.5)
            finally:
                collector.poller.close()

        asyncio.run(poll_for(max(4.0, started + 14 - time.monotonic())))
    switch_state, ap_state = collector.states["acc-sw-01"], collector.states["ap-park-01"]
    assert switch_state.wraps >= 1, "the Counter64 passed 2^64 during the polls"
    assert switch_state.reboots == 0, "a wrap is not a reboot"
    assert ap_state.reboots >= 2, "sysUpTime went back at every simulated reboot"
    assert ap_state.wraps == 0, "counters restarting after a reboot are not wraps"
    assert site_octets == sorted(site_octets), "the site's summed octets never go back"
    assert site_octets[-1] > 0


def test_blocked_event_loop_counts_misfires(tmp_path):
    config = write_district(tmp_path / "cfg", [device("ap-x", "ap", "127.0.0.64", 9, site="park-001")],
                            interval=1.0, timeout=0.2)
    with RunningService(config, SecretResolver(environ={"NMS_SECRET_DISTRICT_V2C": "x"})) as svc:
        collector = svc.services[0]
        assert wait_for(lambda: collector.health.cycles[DeviceRole.AP.value] >= 1, 10)
        # A stalled event loop (a runaway job, a stuck disk) makes the scheduler miss its runs.
        svc.runner.loop.call_soon_threadsafe(time.sleep, 3.0)
        text = svc.wait_scrape(lambda t: 'nms_snmp_misfires_total{class="ap"} 0' not in t
                               and 'nms_snmp_misfires_total{class="ap"}' in t, 15)
        assert text, "the missed cycles are counted"


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.read().decode()


def test_sighup_reloads_the_inventory_of_a_running_nms_collect(tmp_path):
    port = free_tcp_port()
    config = write_district(tmp_path / "cfg", [device("sw-x", "access", "127.0.0.65", 9),
                                               device("sw-y", "access", "127.0.0.66", 9)],
                            interval=1.0, timeout=0.2, listen=f"127.0.0.1:{port}")
    env = dict(os.environ, NMS_SECRET_DISTRICT_V2C="x")
    proc = subprocess.Popen([sys.executable, "-m", "nms.cli", "--config", str(config), "collect"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: _try(lambda: 'device="sw-y"' in _scrape(port)), 15), "service did not come up"
        inventory = Path(config).parent / "inventory.yaml"
        data = yaml.safe_load(inventory.read_text())
        data["devices"] = [d for d in data["devices"] if d["name"] != "sw-y"]
        inventory.write_text(yaml.safe_dump(data, allow_unicode=True))
        proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: _try(lambda: 'device="sw-y"' not in _scrape(port)), 10), "SIGHUP did not reload"
        text = _scrape(port)
        assert 'device="sw-x"' in text and "nms_config_last_reload_successful 1" in text
        assert proc.poll() is None, "the service keeps running after a reload"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err[-2000:]


def _try(check):
    try:
        return check()
    except OSError:
        return False
