"""Bad IVR configurations are refused with file, line and key, and never reach Asterisk."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.config import DEFAULT_CONFIG, load_config
from nms.configfile import ConfigError
from tests import ivr_fixtures
from tests.ivr_fixtures import config_data, run, write_config

asterisk_rootfs = ivr_fixtures.asterisk_rootfs
ivr_lab_factory = ivr_fixtures.ivr_lab_factory


def test_shipped_config_is_valid() -> None:
    config = load_config(DEFAULT_CONFIG)
    assert config.lines == 60
    assert config.protection.warning_key == "*1"
    assert config.call_limit.warning_after == 900 and config.call_limit.end_after == 1200
    assert {"warning-1", "warning-2"} <= set(config.announcements)


def _refused(tmp_path: Path, data: dict) -> str:
    path = write_config(tmp_path, data)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value)


def test_unknown_announcement_key(tmp_path: Path) -> None:
    data = config_data()
    data["announcements"]["staff-protecton"] = "오타"
    message = _refused(tmp_path, data)
    assert "unknown announcement key 'staff-protecton'" in message
    assert "announcements.staff-protecton" in message
    assert f"{tmp_path / 'ivr.yaml'}:" in message


def test_overlapping_hours(tmp_path: Path) -> None:
    data = config_data(real_hours=True)
    data["hours"]["business"].append({"days": ["fri", "sat"], "start": "17:00", "end": "20:00"})
    message = _refused(tmp_path, data)
    assert "hours.business[1]" in message and "overlap" in message and "fri" in message


def test_did_used_twice(tmp_path: Path) -> None:
    data = config_data()
    data["departments"][1]["dids"].append(data["departments"][0]["dids"][0])
    message = _refused(tmp_path, data)
    assert "departments[1].dids[1]" in message and "is used twice" in message


def test_department_without_target(tmp_path: Path) -> None:
    data = config_data()
    del data["departments"][2]["target"]
    message = _refused(tmp_path, data)
    assert "departments[2]" in message and "has no staff dial target" in message


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    data = config_data()
    data["announcements"]["bogus"] = "x"
    del data["departments"][0]["target"]
    path = write_config(tmp_path, data)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert len(info.value.problems) == 2
    assert all(p.line for p in info.value.problems)


def test_bad_reload_leaves_running_dialplan(ivr_lab_factory, tmp_path: Path) -> None:
    lab = ivr_lab_factory()
    service = lab.service()
    before_files = {p.name: p.read_bytes() for p in lab.instance.etc_dir.iterdir() if p.is_file()}
    before_plan = lab.instance.cli("dialplan show from-pstn")

    async def scenario() -> None:
        await service.start()
        try:
            await service.controller.ready.wait()
            running = await service.controller.running_config_id()
            bad = config_data(ports=(lab.config.ami.port, lab.config.sip.port))
            bad["departments"][0]["dids"] = list(bad["departments"][1]["dids"])  # a copy: no YAML alias
            bad_path = write_config(tmp_path / "bad", bad)
            with pytest.raises(ConfigError, match="is used twice"):
                service.reload(bad_path)
            assert await service.controller.running_config_id() == running
        finally:
            await service.stop()

    run(scenario())
    after_files = {p.name: p.read_bytes() for p in lab.instance.etc_dir.iterdir() if p.is_file()}
    assert after_files == before_files
    assert lab.instance.cli("dialplan show from-pstn") == before_plan
