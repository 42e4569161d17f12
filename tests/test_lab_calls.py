"""The lab's telephone traffic (lab/calls/): simulated callers and staff on a real Asterisk 22.

The traffic model is checked on the shipped ivr.yaml (office hours in Seoul are busier). The whole
path is checked through ``lab_up`` on a small district with an ivr.yaml beside it: the caller process
dials the DIDs over AMI, the lab's staff simulators answer, the staff press the warning key, and the
real IVR controller (IvrService) counts the calls and stores the protection events, hashed and masked.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from ivr.ami_protocol import AmiConnection, AmiError
from ivr.config import DEFAULT_CONFIG, load_config
from ivr.render import render_extensions
from ivr.service import IvrService
from lab import LabOptions, lab_down, lab_status, lab_up
from lab import calls as labcalls
from lab.asterisk import LAB_DIALPLAN_INCLUDE, AsteriskInstance
from lab.processes import find_by_marker, is_running
from nms.app.district import load_district
from nms.secrets import SecretResolver
from tests import ivr_fixtures
from tests.lab_fixtures import write_small_district

asterisk_rootfs = ivr_fixtures.asterisk_rootfs
SEOUL = ZoneInfo("Asia/Seoul")


def test_traffic_follows_office_hours_in_seoul() -> None:
    config = load_config(DEFAULT_CONFIG)
    model = labcalls.TrafficModel(config, rate=1.0, rng=random.Random(7))

    def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(2026, 11, day, hour, minute, tzinfo=SEOUL)

    assert model.status(at(25, 10, 30)) == "open"  # a Wednesday
    assert model.status(at(25, 12, 30)) == "lunch"
    assert model.status(at(25, 23)) == "closed"
    assert model.status(at(28, 11)) == "holiday"  # a Saturday
    assert model.status(dt.datetime(2026, 12, 25, 11, tzinfo=SEOUL)) == "holiday"  # 성탄절 in ivr.yaml
    # The same instant given in UTC is judged on the Seoul clock.
    assert model.status(at(25, 10, 30).astimezone(dt.UTC)) == "open"
    peak, lunch, night = model.per_minute(at(25, 10, 30)), model.per_minute(at(25, 12, 30)), model.per_minute(at(25, 3))
    assert peak > lunch > night > 0
    assert model.per_minute(at(28, 11)) < lunch
    assert labcalls.TrafficModel(config, rate=3.0).per_minute(at(25, 10, 30)) == pytest.approx(3 * peak)
    assert not any(model.burst_starts(at(25, 3), 3600) for _ in range(50))  # no rushes at night

    dids = {config.main_number.did} | {did for d in config.departments for did in d.dids}
    plans = [model.plan() for _ in range(2000)]
    assert {p.did for p in plans} == dids
    assert all(re.fullmatch(r"0(10|2|31|32|70)[0-9]{7,8}", p.caller) for p in plans)
    assert all(10 <= p.talk <= 90 for p in plans if p.talk < config.call_limit.warning_after)
    abusive = [p for p in plans if p.abusive]
    assert abusive and all(p.department is not None and p.department.protection for p in abusive)
    assert all(1 <= p.warnings <= config.protection.warnings_before_end for p in abusive)
    assert 0 < model.burst_size(active=5) <= round(1.3 * config.lines)


def test_lab_copy_of_the_config_leaves_production_alone() -> None:
    config = load_config(DEFAULT_CONFIG)
    lab = labcalls.lab_ivr_config(config, "lab")
    assert [d.target for d in lab.departments] == [
        f"Local/{d.target.split('/')[1]}@nms-lab-staff/n" for d in config.departments]
    assert str(lab.recordings.directory) == "/nms/lab/recordings"
    assert [d.target for d in config.departments] == ["PJSIP/2301", "PJSIP/2302", "PJSIP/2303", "PJSIP/2304"]
    production = render_extensions(config)
    assert "nms-lab-staff" not in production and "Set(NMS_TARGET=PJSIP/2301)" in production
    assert "Set(NMS_TARGET=Local/2301@nms-lab-staff/n)" in render_extensions(lab, includes=(LAB_DIALPLAN_INCLUDE,))


@pytest.fixture
def calls_lab(asterisk_rootfs: Path) -> Iterator[tuple[Path, Path, str]]:
    """A small district with an ivr.yaml beside it (short prompts, open all day, free ports)."""
    base = Path(tempfile.mkdtemp(prefix="nms-lab-calls-"))
    base.chmod(0o755)  # the agents' unprivileged user reads below it
    run_dir = base / "run"
    run_dir.mkdir(mode=0o755)
    nms_yaml = write_small_district(base / "district")
    ivr_fixtures.write_config(nms_yaml.parent, ivr_fixtures.config_data())
    name = ivr_fixtures.instance_name("calls")
    try:
        yield nms_yaml, run_dir, name
    finally:
        lab_down(run_dir)
        AsteriskInstance(name=name, root=asterisk_rootfs).remove()
        shutil.rmtree(base, ignore_errors=True)


def _metrics(service: IvrService) -> str:
    registry = CollectorRegistry()
    for c in service.collectors():
        registry.register(c)
    return generate_latest(registry).decode()


async def _until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.2)


def test_lab_calls_are_answered_warned_and_stopped(calls_lab: tuple[Path, Path, str]) -> None:
    nms_yaml, run_dir, name = calls_lab
    district = load_district(nms_yaml)
    options = LabOptions(processes=1, flows=False, asterisk_name=name, call_rate=6.0)
    state = lab_up(district, run_dir, prometheus=False, progress=False, options=options)
    assert [p.name for p in state.extras] == ["asterisk", "calls"]
    assert "가상 통화" in state.describe()
    # The lab renders its own copy: staff simulators as targets, the caller's least-privilege account.
    etc = Path(state.asterisk_etc or "")
    assert "Set(NMS_TARGET=Local/2301@nms-lab-staff/n)" in (etc / "extensions.conf").read_text()
    manager = (etc / "manager.conf").read_text()
    account = manager[manager.index(f"[{labcalls.CALLER_USER}]"):]
    assert "read = \n" in account and "write = originate,call\n" in account
    secret_file = state.secrets_dir / labcalls.CALLER_SECRET
    assert secret_file.stat().st_mode & 0o777 == 0o600

    config = load_config(nms_yaml.parent / "ivr.yaml")
    service = IvrService(config, secrets=SecretResolver(state.secrets_dir, environ={}))
    seen_lines: list[int] = []

    async def scenario() -> None:
        await service.start()
        try:
            def done() -> bool:
                seen_lines.append(service.stats.lines_in_use)
                stored = service.store.events()
                return service.stats.calls["connected"] >= 1 and any(e["kind"] == "warning" for e in stored)

            await _until(done, 45, "a call answered by the lab's staff and ended, and a stored warning")
            # The caller's account can place and act on calls, nothing else.
            conn = AmiConnection(str(config.ami.host), config.ami.port, labcalls.CALLER_USER,
                                 secret_file.read_text().strip(), 5.0)
            await conn.connect(5)
            try:
                for action in ({"Action": "Command", "Command": "core show version"},
                               {"Action": "DBGetTree", "Family": "nmsevents"}):
                    with pytest.raises(AmiError, match=r"(?i)permission denied"):
                        await conn.ok(action)
            finally:
                conn.close()
        finally:
            await service.stop()

    ivr_fixtures.run(scenario(), timeout=60)
    assert max(seen_lines) >= 1
    text = _metrics(service)
    assert re.search(r'nms_ivr_calls_total\{outcome="connected"\} [1-9]', text), text
    assert re.search(r'nms_ivr_protection_events_total\{department="\w+",kind="warning"\} [1-9]', text), text
    # The made-up caller numbers are personal-data shaped: stored only hashed and masked.
    events = [e for e in service.store.events() if e["kind"] == "warning"]
    assert all(re.fullmatch(r"[0-9a-f]{64}", e["caller_hash"]) for e in events)
    assert all(re.fullmatch(r"0[0-9]{0,2}\*+[0-9]{4}", e["caller_mask"]) for e in events), events
    service.store.close()

    pids = state.pids
    lab_down(run_dir)
    assert lab_status(run_dir) is None
    assert not any(is_running(pid) for pid in pids)
    assert find_by_marker(f"/nms/{name}/etc/asterisk.conf") == []  # Asterisk itself (chroot execs it)
    assert find_by_marker(str(run_dir / "calls")) == []
