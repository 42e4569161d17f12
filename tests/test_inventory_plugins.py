"""nms.yaml picks the inventory source: ``inventory: {plugin: yaml|netbox, ...}`` (the path alone still works)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors.snmp.config import load_snmp_config
from nms.app.district import load_district
from nms.configfile import ConfigError
from nms.inventory.netbox import NetBoxSource
from nms.inventory.plugins import plugin_names
from nms.inventory.sources import load_inventory
from tests.netbox_fake import FakeNetBox

REPO = Path(__file__).resolve().parent.parent
NMS_YAML = (REPO / "configs" / "nms.yaml").read_text(encoding="utf-8")


@pytest.fixture
def configs(tmp_path: Path) -> Path:
    for name in ("snmp.yaml", "inventory.yaml", "ivr.yaml"):
        shutil.copy(REPO / "configs" / name, tmp_path / name)
    return tmp_path


@pytest.fixture
def fake() -> Iterator[FakeNetBox]:
    with FakeNetBox() as server:
        yield server


def _nms_yaml(configs: Path, inventory: str) -> Path:
    assert "inventory: inventory.yaml\n" in NMS_YAML
    text = NMS_YAML.replace("inventory: inventory.yaml\n", inventory, 1)
    path = configs / "nms.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_both_plugins_are_registered() -> None:
    assert plugin_names() == ["netbox", "yaml"]


def test_yaml_plugin_mapping_equals_the_short_form(configs: Path) -> None:
    short = load_district(_nms_yaml(configs, "inventory: inventory.yaml\n"))
    long = load_district(_nms_yaml(configs, "inventory: {plugin: yaml, path: inventory.yaml}\n"))
    assert long.inventory == short.inventory
    assert len(long.inventory.devices) > 400
    assert long.settings.inventory.file(configs) == configs / "inventory.yaml"


def test_unknown_plugin_is_refused_with_file_line_and_key(configs: Path) -> None:
    path = _nms_yaml(configs, "inventory:\n  plugin: ldap\n  path: inventory.yaml\n")
    with pytest.raises(ConfigError) as exc:
        load_district(path)
    text = str(exc.value)
    assert f"{path}:" in text and "inventory" in text and "ldap" in text


def test_netbox_plugin_loads_the_inventory_from_netbox(configs: Path, fake: FakeNetBox,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NMS_SECRET_NETBOX_TOKEN", fake.token)
    path = _nms_yaml(configs, f"inventory: {{plugin: netbox, url: '{fake.url}', token_secret: netbox-token}}\n")
    district = load_district(path)
    names = {d.name for d in district.inventory.devices}
    assert "core-sw-01" in names and len(names) == 10
    assert district.settings.inventory.file(configs) is None  # nothing local to edit
    # exactly what the NetBox source gives, cross-checked against snmp.yaml like the YAML file is
    snmp = load_snmp_config(configs / "snmp.yaml")
    assert district.inventory == NetBoxSource(fake.url, fake.token, snmp=snmp).load()


def test_netbox_plugin_failure_is_a_config_error_so_a_reload_keeps_the_last_good(
        configs: Path, fake: FakeNetBox, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _nms_yaml(configs, f"inventory: {{plugin: netbox, url: '{fake.url}'}}\n")
    monkeypatch.setenv("NMS_SECRET_NETBOX_TOKEN", "wrong-token")
    with pytest.raises(ConfigError) as exc:
        load_district(path)
    assert "inventory" in str(exc.value) and "netbox" in str(exc.value).lower()
    assert "wrong-token" not in str(exc.value)
    monkeypatch.delenv("NMS_SECRET_NETBOX_TOKEN")
    monkeypatch.setenv("NMS_SECRETS_DIR", str(configs / "no-secrets-here"))
    with pytest.raises(ConfigError) as exc:
        load_district(path)
    assert "netbox-token" in str(exc.value)


def test_yaml_source_still_reads_the_committed_inventory() -> None:
    assert load_inventory(REPO / "configs" / "inventory.yaml").devices
