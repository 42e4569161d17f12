"""Importing the inventory from NetBox: pynetbox against a local NetBox API (tests/netbox_fake.py)."""

from __future__ import annotations

import io
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pynetbox
import pytest

from nms import exitcodes
from nms.configfile import read_yaml, validate
from nms.inventory.diff import FieldChange, ItemChange, diff_inventories
from nms.inventory.models import Category, DeviceRole, DeviceStatus, Inventory
from nms.inventory.netbox import NetBoxError, NetBoxSource, import_netbox, run_import_netbox
from nms.inventory.sources import InventorySource, YamlSource, load_inventory
from nms.store import ConfigStore

try:
    from tests.netbox_fake import FakeNetBox
except ImportError:  # tests/ is not a package: pytest puts it on sys.path itself
    from netbox_fake import FakeNetBox

from collectors.snmp.config import SnmpConfig, load_snmp_config

REPO = Path(__file__).resolve().parent.parent
TOKEN_ENV = "NMS_TEST_NETBOX_TOKEN"


@pytest.fixture
def fake() -> Iterator[FakeNetBox]:
    with FakeNetBox() as server:
        yield server


@pytest.fixture
def target(tmp_path: Path) -> Path:
    """configs/inventory.yaml-to-be, with the project's snmp.yaml beside it."""
    configs = tmp_path / "configs"
    configs.mkdir()
    shutil.copy(REPO / "configs" / "snmp.yaml", configs / "snmp.yaml")
    return configs / "inventory.yaml"


@pytest.fixture
def snmp() -> SnmpConfig:
    return validate(read_yaml(REPO / "configs" / "snmp.yaml"), SnmpConfig)


def _run(fake: FakeNetBox, target: Path, monkeypatch: pytest.MonkeyPatch, *, apply: bool,
         token: str | None = None) -> tuple[int, str]:
    monkeypatch.setenv(TOKEN_ENV, fake.token if token is None else token)
    out = io.StringIO()
    code = run_import_netbox(fake.url, TOKEN_ENV, target, apply, out, load_snmp_config)  # as `nms` calls it
    return code, out.getvalue()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dry_run_lists_the_changes_and_writes_nothing(fake: FakeNetBox, target: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = _run(fake, target, monkeypatch, apply=False)
    assert code == 0, out
    assert "+ site geumcheon-gu-office (금천구청, government)" in out
    assert "+ device core-sw-01 (backbone 127.20.1.1 at geumcheon-gu-office, active)" in out
    assert "sites: 3 added, 0 removed, 0 changed; devices: 10 added, 0 removed, 0 changed" in out
    assert "dry run" in out
    assert sorted(p.name for p in target.parent.iterdir()) == ["snmp.yaml"]  # no file, no history, no temp


def test_apply_writes_an_inventory_the_service_loads(fake: FakeNetBox, target: Path, snmp: SnmpConfig,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = _run(fake, target, monkeypatch, apply=True)
    assert code == 0, out
    assert f"wrote {target}" in out
    inventory = load_inventory(target, snmp)  # what the service itself does, with the SNMP cross-checks
    assert inventory == NetBoxSource(fake.url, fake.token, snmp=snmp).load()

    sites = inventory.site_by_id()
    assert sorted(sites) == ["geumcheon-gu-office", "geumcheon-sports-park", "nammun-market"]
    office = sites["geumcheon-gu-office"]
    assert (office.name, office.name_en, office.category, office.installed) == (
        "금천구청", "Geumcheon-gu Office", Category.GOVERNMENT, 2016)  # category from a tag
    assert [str(n) for n in office.subnets] == ["127.20.1.0/24"]
    assert office.address == "서울특별시 금천구, 시흥대로73길 70"
    assert (office.lat, office.lon) == (37.4568, 126.8954)  # NetBox's latitude/longitude kept
    assert sites["geumcheon-sports-park"].lat is None and sites["geumcheon-sports-park"].lon is None
    assert sites["geumcheon-sports-park"].category is Category.PARK  # custom field
    assert sites["nammun-market"].category is Category.MARKET  # custom field with the Korean label

    devices = {d.name: d for d in inventory.devices}
    assert len(devices) == 10
    core = devices["core-sw-01"]
    assert (core.role, core.site, str(core.address), core.profile, core.credentials, core.status) == (
        DeviceRole.BACKBONE, "geumcheon-gu-office", "127.20.1.1", "switch", "district-v2c", DeviceStatus.ACTIVE)
    assert (core.vendor, core.model) == ("Cisco", "C9500-24Y4C")
    assert devices["access-sw-01"].installed == 2022
    assert devices["access-sw-02"].status is DeviceStatus.PLANNED
    assert devices["ap-park-02"].status is DeviceStatus.PLANNED  # staged
    assert devices["ap-old-01"].status is DeviceStatus.DISABLED  # failed
    assert devices["ips-01"].credentials == "district-v3"  # tag snmp-credentials:district-v3
    assert devices["ivr-01"].role is DeviceRole.HOST and devices["ivr-01"].profile == "host"  # custom field
    assert devices["ap-park-01"].profile == "ap-cisco"  # AP default by manufacturer
    assert devices["ap-market-01"].profile == "ap-ubiquiti"  # tag snmp-profile:ap-ubiquiti
    assert devices["ap-market-01"].tags == ["outdoor"]  # control tags are not copied

    # Lists spanned several pages, and pynetbox followed NetBox's `next` links to the end.
    assert any("dcim/devices/" in r and "offset=12" in r for r in fake.requests)
    entries = ConfigStore(target).history()
    assert len(entries) == 1 and "import from NetBox" in entries[0].message
    assert YamlSource(target, snmp).load() == inventory


def test_second_import_shows_exactly_the_changed_device(fake: FakeNetBox, target: Path, snmp: SnmpConfig,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run(fake, target, monkeypatch, apply=True)[0] == 0
    first_text, first_version = ConfigStore(target).read()
    fake.data.device("core-sw-01").primary_ip4 = "127.20.1.9/24"

    out = io.StringIO()
    diff = import_netbox(fake.url, fake.token, target, apply=False, out=out, snmp=snmp)
    assert diff.changed_devices == (
        ItemChange("core-sw-01", (FieldChange("address", "127.20.1.1", "127.20.1.9"),)),)
    assert not (diff.added_sites or diff.removed_sites or diff.changed_sites
                or diff.added_devices or diff.removed_devices)
    assert diff.lines() == ["~ device core-sw-01: address: 127.20.1.1 -> 127.20.1.9"]
    assert "~ device core-sw-01: address: 127.20.1.1 -> 127.20.1.9" in out.getvalue()
    assert ConfigStore(target).read() == (first_text, first_version)  # a dry run writes nothing

    code, text = _run(fake, target, monkeypatch, apply=True)
    assert code == 0, text
    assert str(next(d for d in load_inventory(target, snmp).devices if d.name == "core-sw-01").address) == \
        "127.20.1.9"
    store = ConfigStore(target)
    assert len(store.history()) == 2
    store.rollback(first_version, author="test")
    assert store.read() == (first_text, first_version)

    # Same data again: nothing to write, no new history entry.
    fake.data.device("core-sw-01").primary_ip4 = "127.20.1.1/24"
    code, text = _run(fake, target, monkeypatch, apply=True)
    assert code == 0 and "no changes" in text and "already up to date" in text
    assert len(store.history()) == 3


def test_what_cannot_be_imported_is_reported(fake: FakeNetBox, target: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = _run(fake, target, monkeypatch, apply=False)
    assert code == 0
    assert "skipped: device 'ap-market-02': no primary IP address in NetBox" in out
    assert "skipped: site '물품창고' (warehouse): no category" in out
    assert "skipped: device 'ap-store-01': its site 'warehouse' is not imported" in out
    assert "skipped: 1 device(s) with a role that is not mapped: Patch panel [patch-panel] (1)" in out
    assert "warning: tag 'category:beach'" in out


def test_profiles_unknown_to_snmp_yaml_are_skipped(fake: FakeNetBox, target: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    fake.data.device("core-sw-02").custom_fields["snmp_profile"] = "no-such-profile"
    code, out = _run(fake, target, monkeypatch, apply=True)
    assert code == 0, out
    assert "skipped: device 'core-sw-02': SNMP profile 'no-such-profile' is not defined in snmp.yaml" in out
    assert "core-sw-02" not in {d.name for d in load_inventory(target).devices}


def test_bad_token_is_a_clear_error_and_nothing_is_written(fake: FakeNetBox, target: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = _run(fake, target, monkeypatch, apply=True, token="not-the-token")
    assert code == 1
    assert f"error: NetBox at {fake.url} refused access (HTTP 403: Invalid token)" in out
    assert "not-the-token" not in out
    assert not target.exists()
    with pytest.raises(NetBoxError, match="HTTP 403"):
        NetBoxSource(fake.url, "wrong").load()


def test_missing_token_variable(fake: FakeNetBox, target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    out = io.StringIO()
    assert run_import_netbox(fake.url, TOKEN_ENV, target, True, out) == exitcodes.SECRET
    assert TOKEN_ENV in out.getvalue() and "not set or empty" in out.getvalue()
    monkeypatch.setenv(TOKEN_ENV, "  ")
    assert run_import_netbox(fake.url, TOKEN_ENV, target, True, io.StringIO()) == exitcodes.SECRET


def test_unreachable_server_is_a_clear_error(target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(NetBoxError, match=r"cannot connect to NetBox at http://127\.0\.0\.1:\d+: connection refused"):
        NetBoxSource(url, "t").load()
    monkeypatch.setenv(TOKEN_ENV, "t")
    out = io.StringIO()
    assert run_import_netbox(url, TOKEN_ENV, target, True, out) == 1
    assert url in out.getvalue()
    assert not target.exists()


def test_server_that_never_answers_times_out(target: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # connections are queued, never answered
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with pytest.raises(NetBoxError, match="did not answer in time"):
            import_netbox(url, "t", target, apply=True, out=io.StringIO(), timeout=0.5)
    assert not target.exists()


def test_malformed_json_is_a_clear_error_and_keeps_the_file(fake: FakeNetBox, target: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run(fake, target, monkeypatch, apply=True)[0] == 0
    before = target.read_bytes()
    fake.data.device("core-sw-01").primary_ip4 = "127.20.1.9/24"
    fake.malformed = True
    code, out = _run(fake, target, monkeypatch, apply=True)
    assert code == 1
    assert f"error: {fake.url} did not answer with valid JSON" in out
    assert target.read_bytes() == before
    assert not list(target.parent.rglob("*.tmp"))


def test_not_a_netbox_url(fake: FakeNetBox) -> None:
    with pytest.raises(NetBoxError, match=r"HTTP 404.*without /api"):
        NetBoxSource(fake.url + "/api", fake.token).load()
    with pytest.raises(NetBoxError, match="invalid NetBox URL"):
        NetBoxSource("ftp://127.0.0.1/", fake.token).load()


def test_a_concurrent_edit_of_the_file_is_not_overwritten(fake: FakeNetBox, target: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Somebody saves the inventory while the import reads NetBox: the import must not clobber it."""
    assert _run(fake, target, monkeypatch, apply=True)[0] == 0
    edited = target.read_text() + "# edited meanwhile\n"
    fake.data.device("core-sw-01").primary_ip4 = "127.20.1.9/24"
    fake.on_request.append(lambda path: target.write_text(edited) if "dcim/devices" in path else None)
    code, out = _run(fake, target, monkeypatch, apply=True)
    assert code == 1 and "was changed by someone else" in out, out
    assert target.read_text() == edited


def test_refuses_to_replace_devices_with_nothing(fake: FakeNetBox, target: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A token that may not see devices gets empty lists from NetBox: do not wipe the inventory."""
    assert _run(fake, target, monkeypatch, apply=True)[0] == 0
    before = target.read_bytes()
    fake.data.devices.clear()
    code, out = _run(fake, target, monkeypatch, apply=True)
    assert code == 1 and "refusing to replace the 10 devices" in out
    assert target.read_bytes() == before


def test_netbox_4_2_prefix_scope(target: Path, snmp: SnmpConfig) -> None:
    with FakeNetBox(api_version="4.2") as fake:
        inventory = NetBoxSource(fake.url, fake.token, snmp=snmp).load()
    assert [str(n) for n in inventory.site_by_id()["nammun-market"].subnets] == ["127.20.3.0/24"]


def test_progress_bar_goes_to_stderr(fake: FakeNetBox, target: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import_netbox(fake.url, fake.token, target, apply=False, progress=True, out=io.StringIO())
    captured = capsys.readouterr()
    assert "NetBox devices" in captured.err and "13/13" in captured.err
    assert captured.out == ""


def test_an_invalid_current_file_is_replaced_and_kept_in_history(fake: FakeNetBox, target: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    target.write_text("sites: [oops\n")
    code, out = _run(fake, target, monkeypatch, apply=True)
    assert code == 0, out
    assert "is not a valid inventory" in out
    assert len(load_inventory(target).devices) == 10
    store = ConfigStore(target)
    assert store.read_version(store.history()[0].version) == "sites: [oops\n"


def test_sources_are_plugins(fake: FakeNetBox, target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run(fake, target, monkeypatch, apply=True)[0] == 0
    sources: list[InventorySource] = [YamlSource(target), NetBoxSource(fake.url, fake.token)]
    assert all(isinstance(s, InventorySource) for s in sources)
    assert [s.name for s in sources] == ["yaml", "netbox"]
    loaded = [s.load() for s in sources]
    assert diff_inventories(loaded[0], loaded[1]).is_empty


def test_fake_primary_ips_are_netbox_ip_address_objects(fake: FakeNetBox) -> None:
    """The fake keeps NetBox's invariants: a device's primary IP is an IP address on its interface."""
    nb = pynetbox.api(fake.url, token=fake.token)
    device = nb.dcim.devices.get(name="core-sw-01")
    assert device.primary_ip4.address == "127.20.1.1/24"
    assert nb.version == fake.api_version
    ips = list(nb.ipam.ip_addresses.filter(device_id=device.id))
    assert [ip.address for ip in ips] == ["127.20.1.1/24"]
    assert ips[0].assigned_object.device.id == device.id
    assert ips[0].id == device.primary_ip4.id


def test_diff_of_sites_and_several_fields() -> None:
    old = Inventory.model_validate({
        "sites": [{"id": "a", "name": "가", "category": "park"}, {"id": "b", "name": "나", "category": "market"}],
        "devices": [{"name": "sw", "role": "access", "site": "a", "address": "127.0.0.2", "profile": "switch",
                     "credentials": "c", "tags": ["x"]},
                    {"name": "gone", "role": "ap", "site": "b", "address": "127.0.0.3", "profile": "ap-cisco",
                     "credentials": "c"}]})
    new = Inventory.model_validate({
        "sites": [{"id": "a", "name": "가", "category": "street", "installed": 2020},
                  {"id": "c", "name": "다", "category": "welfare"}],
        "devices": [{"name": "sw", "role": "access", "site": "a", "address": "127.0.0.2", "profile": "switch",
                     "credentials": "c", "status": "disabled", "tags": ["x", "y"]}]})
    diff = diff_inventories(old, new)
    assert not diff.is_empty and diff_inventories(new, new).is_empty
    assert diff.lines() == [
        "+ site c (다, welfare)",
        "- site b (나, market)",
        "~ site a: category: park -> street",
        "~ site a: installed: (none) -> 2020",
        "- device gone (ap 127.0.0.3 at b, active)",
        "~ device sw: status: active -> disabled",
        "~ device sw: tags: [x] -> [x, y]",
    ]
    assert diff.format().splitlines()[-1] == (
        "sites: 1 added, 1 removed, 1 changed; devices: 0 added, 1 removed, 1 changed")
    assert diff_inventories(new, new).format() == "no changes"
