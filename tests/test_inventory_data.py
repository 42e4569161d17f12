"""The committed district inventory reproduces the seed document, and bad inventories are refused."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
import yaml

from lab import district_seed
from nms.app.district import DEFAULT_CONFIG, District, load_district
from nms.configfile import ConfigError
from nms.inventory.models import DeviceRole, DeviceStatus
from nms.inventory.sources import load_inventory
from nms.inventory.summary import format_tables, summarize

REPO = Path(__file__).resolve().parents[1]
INVENTORY = REPO / "configs" / "inventory.yaml"
SNMP = REPO / "configs" / "snmp.yaml"

# The spec: the tables of /work/shared/seed/README.md (2022 work plan, as of 2021).
SEED_BY_CATEGORY = {
    "government": {"sites": 16, "aps": 111},
    "park": {"sites": 56, "aps": 64},
    "welfare": {"sites": 52, "aps": 120},
    "market": {"sites": 32, "aps": 54},
    "street": {"sites": 110, "aps": 127},
}
SEED_BY_YEAR = {
    "2013-2016": {"sites": 59, "aps": 134},
    "2017": {"sites": 77, "aps": 137},
    "2018": {"sites": 12, "aps": 54},
    "2019": {"sites": 90, "aps": 117},
    "2020": {"sites": 21, "aps": 25},
    "2021": {"sites": 7, "aps": 9},
}
ROLES = {"backbone": 2, "access": 9, "ips": 1, "ap": 476, "host": 2}


@pytest.fixture(scope="module")
def district() -> District:
    return load_district()


def test_default_config_uses_committed_inventory(district: District) -> None:
    assert district.settings.inventory.file(DEFAULT_CONFIG.parent).resolve() == INVENTORY


def test_summary_reproduces_seed_tables(district: District) -> None:
    summary = summarize(district.inventory)
    assert summary["by_category"] == SEED_BY_CATEGORY
    assert list(summary["by_category"]) == list(SEED_BY_CATEGORY)
    assert summary["by_year"] == SEED_BY_YEAR
    assert list(summary["by_year"]) == list(SEED_BY_YEAR)
    assert summary["devices_by_role"] == ROLES
    assert sum(v["sites"] for v in summary["by_category"].values()) == 266
    assert sum(v["aps"] for v in summary["by_year"].values()) == 476


def test_format_tables(district: District) -> None:
    text = format_tables(summarize(district.inventory))
    assert "관공서 (government)" in text and "주요거리 (street)" in text
    lines = text.splitlines()
    assert any(line.split()[-2:] == ["266", "476"] for line in lines), text
    assert any(line.startswith("2013-2016") and line.split()[1:] == ["59", "134"] for line in lines), text
    assert any("(ap)" in line and line.split()[-1] == "476" for line in lines), text


def test_every_wifi_site_has_an_ap_and_a_year(district: District) -> None:
    inv = district.inventory
    ap_sites = {d.site for d in inv.devices if d.role is DeviceRole.AP}
    for site in inv.sites:
        assert site.id in ap_sites, site.id
        assert site.installed is not None and site.name_en, site.id
    for ap in inv.devices:
        if ap.role is DeviceRole.AP and ap.status is DeviceStatus.ACTIVE:
            assert ap.installed == inv.site_by_id()[ap.site].installed, ap.name
            assert ap.name.startswith(f"ap-{ap.site}-")


def test_2013_2016_spread_over_four_years(district: District) -> None:
    years = {s.installed for s in district.inventory.sites if s.installed and s.installed <= 2016}
    assert years == {2013, 2014, 2015, 2016}


def test_planned_2022_aps(district: District) -> None:
    inv = district.inventory
    sites = inv.site_by_id()
    planned = [d for d in inv.devices if d.status is DeviceStatus.PLANNED]
    assert len(planned) == 17
    assert all(d.role is DeviceRole.AP and d.installed == 2022 for d in planned)
    by_place: dict[str, int] = {}
    for d in planned:
        by_place[sites[d.site].name] = by_place.get(sites[d.site].name, 0) + 1
    doksan = sum(n for name, n in by_place.items() if "독산로 지중화 구간" in name)
    parks = sum(n for name, n in by_place.items() if name in ("금천체육공원", "삼각공원"))
    assert (doksan, parks) == (7, 10), by_place
    assert any("정훈단지" in name for name in by_place)
    # A site holding only planned APs must not count (the summary already matched 266).
    active_sites = {d.site for d in inv.devices if d.role is DeviceRole.AP and d.status is not DeviceStatus.PLANNED}
    assert len(active_sites) == 266


def test_named_sites(district: District) -> None:
    inv = district.inventory
    by_name = {s.name: s for s in inv.sites}
    for name, category in [("금천체육공원", "park"), ("삼각공원", "park"), ("산기슭공원", "park"),
                           ("금천구청", "government")]:
        assert by_name[name].category == category, name
    active = [d for d in inv.devices if d.role is DeviceRole.AP and d.status is DeviceStatus.ACTIVE]
    hillside = by_name["산기슭공원"]
    assert hillside.installed == 2021
    assert sum(1 for d in active if d.site == hillside.id) == 3
    doksan = [s for s in inv.sites if s.name.startswith("독산로 지중화 구간") and s.installed == 2021]
    assert doksan and all(s.category == "street" for s in doksan)
    assert sum(1 for d in active if d.site in {s.id for s in doksan}) == 6
    # The 2021 row is exactly these sites.
    assert {s.id for s in inv.sites if s.installed == 2021} == {hillside.id} | {s.id for s in doksan}


def test_infrastructure(district: District) -> None:
    inv = district.inventory
    sites = inv.site_by_id()
    infra = [d for d in inv.devices if d.role is not DeviceRole.AP]
    assert {d.role: d.profile for d in infra} == {
        DeviceRole.BACKBONE: "switch", DeviceRole.ACCESS: "switch", DeviceRole.IPS: "ips", DeviceRole.HOST: "host"}
    for d in infra:
        assert sites[d.site].category == "government", d.name
        assert d.vendor and d.model, d.name
        v3 = d.role in (DeviceRole.BACKBONE, DeviceRole.IPS)
        assert d.credentials == ("district-v3" if v3 else "district-v2c"), d.name
        assert ipaddress.ip_address(d.address) in ipaddress.ip_network("127.20.0.0/24"), d.name
    assert district.snmp.credentials["district-v3"].version == "3"
    assert any(sites[d.site].name == "금천구청" for d in infra if d.role is DeviceRole.BACKBONE)


def test_aps_profiles_and_addresses(district: District) -> None:
    aps = [d for d in district.inventory.devices if d.role is DeviceRole.AP]
    vendors = {"ap-cisco": "Cisco", "ap-ubiquiti": "Ubiquiti"}
    for ap in aps:
        assert vendors[ap.profile] == ap.vendor, ap.name
        assert ap.credentials == "district-v2c", ap.name
        assert ipaddress.ip_address("127.20.1.0") <= ap.address <= ipaddress.ip_address("127.20.255.255")
    assert {ap.profile for ap in aps} == set(vendors)
    cisco = sum(1 for ap in aps if ap.profile == "ap-cisco")
    assert cisco > len(aps) / 2


def test_management_addresses_loopback_unique(district: District) -> None:
    devices = district.inventory.devices
    block = ipaddress.ip_network("127.20.0.0/16")
    for d in devices:
        assert d.address.is_loopback and d.address in block, d.name
        assert d.port == 1161, d.name
    assert len({d.address for d in devices}) == len(devices)
    assert len({d.name for d in devices}) == len(devices)


def test_site_subnets_unique_private(district: District) -> None:
    ten = ipaddress.ip_network("10.0.0.0/8")
    nets = []
    for site in district.inventory.sites:
        assert len(site.subnets) == 1, site.id
        net = site.subnets[0]
        assert net.version == 4 and net.prefixlen >= 24 and net.subnet_of(ten), site.id
        nets.append(net)
    for i, a in enumerate(nets):
        for b in nets[i + 1:]:
            assert not a.overlaps(b), (a, b)


def test_committed_file_matches_generator() -> None:
    text = INVENTORY.read_text(encoding="utf-8")
    assert text.startswith("# GENERATED FILE")
    assert district_seed.COMMAND in text.splitlines()[1]
    assert yaml.safe_load(text) == district_seed.generate(), (
        f"configs/inventory.yaml has drifted from its generator: rerun `{district_seed.COMMAND}`")


def test_generator_is_deterministic(tmp_path: Path) -> None:
    out = tmp_path / "inv.yaml"
    assert district_seed.main(["--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == district_seed.render(district_seed.generate())
    assert load_inventory(out).model_dump() == load_district().inventory.model_dump()


# --- Malformed inventories ----------------------------------------------------------------------

GOOD = """\
version: 1
sites:
  - id: park-001
    name: 금천체육공원
    category: park
    installed: 2013
  - id: street-001
    name: 시흥대로 1구간
    category: street
    installed: 2017
devices:
  - name: ap-park-001-01
    role: ap
    site: park-001
    address: 127.20.1.1
    port: 1161
    profile: ap-cisco
    credentials: district-v2c
  - name: ap-street-001-01
    role: ap
    site: street-001
    address: 127.20.1.2
    port: 1161
    profile: ap-cisco
    credentials: district-v2c
"""


def _district_with(tmp_path: Path, inventory_text: str) -> Path:
    inv = tmp_path / "inventory.yaml"
    inv.write_text(inventory_text, encoding="utf-8")
    cfg = tmp_path / "nms.yaml"
    cfg.write_text(f"inventory: inventory.yaml\nsnmp: {SNMP}\n", encoding="utf-8")
    return cfg


def _rejected(tmp_path: Path, text: str) -> str:
    cfg = _district_with(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_district(cfg)
    return str(exc.value)


def test_good_fixture_loads(tmp_path: Path) -> None:
    district = load_district(_district_with(tmp_path, GOOD))
    assert [d.name for d in district.inventory.devices] == ["ap-park-001-01", "ap-street-001-01"]


def test_malformed_yaml(tmp_path: Path) -> None:
    text = GOOD.replace("    name: 금천체육공원\n", "    name: [금천체육공원\n")
    msg = _rejected(tmp_path, text)
    assert msg.startswith(f"{tmp_path / 'inventory.yaml'}:"), msg
    assert "malformed YAML" in msg


def test_unconstructible_value(tmp_path: Path) -> None:
    text = GOOD.replace("    installed: 2017\n", "    installed: !!python/object:os.system x\n")
    msg = _rejected(tmp_path, text)
    assert msg.startswith(f"{tmp_path / 'inventory.yaml'}:10: sites[1].installed: invalid value: "), msg
    assert "python/object" in msg


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    text = GOOD.replace("    category: street\n", "    category: street\n    name: 독산로\n")
    assert _rejected(tmp_path, text) == f"{tmp_path / 'inventory.yaml'}:10: sites[1].name: duplicate key"


def test_duplicate_device_name(tmp_path: Path) -> None:
    text = GOOD.replace("  - name: ap-street-001-01\n", "  - name: ap-park-001-01\n")
    msg = _rejected(tmp_path, text)
    assert msg == (f"{tmp_path / 'inventory.yaml'}:19: ap-park-001-01: name: "
                   "duplicate device name 'ap-park-001-01' (also device number 1 in the list)")


def test_duplicate_address(tmp_path: Path) -> None:
    text = GOOD.replace("address: 127.20.1.2", "address: 127.20.1.1")
    msg = _rejected(tmp_path, text)
    assert msg == (f"{tmp_path / 'inventory.yaml'}:22: ap-street-001-01: address: "
                   "duplicate management address 127.20.1.1 port 1161 (also ap-park-001-01)")


def test_same_address_other_port_is_fine(tmp_path: Path) -> None:
    text = GOOD.replace("address: 127.20.1.2\n    port: 1161", "address: 127.20.1.1\n    port: 1162")
    assert len(load_district(_district_with(tmp_path, text)).inventory.devices) == 2


def test_unknown_profile(tmp_path: Path) -> None:
    text = GOOD.replace("    profile: ap-cisco\n    credentials: district-v2c\n  - name: ap-street",
                        "    profile: ap-aruba\n    credentials: district-v2c\n  - name: ap-street")
    msg = _rejected(tmp_path, text)
    assert msg.startswith(f"{tmp_path / 'inventory.yaml'}:17: ap-park-001-01: profile: "
                          "unknown SNMP profile 'ap-aruba'"), msg
    assert "ap-cisco" in msg  # lists the known profiles


def test_unknown_credentials(tmp_path: Path) -> None:
    text = GOOD.replace("credentials: district-v2c\n  - name", "credentials: district-v1\n  - name")
    msg = _rejected(tmp_path, text)
    assert msg.startswith(f"{tmp_path / 'inventory.yaml'}:18: ap-park-001-01: credentials: "
                          "unknown credential set 'district-v1'")


def test_unknown_site(tmp_path: Path) -> None:
    text = GOOD.replace("    site: street-001\n", "    site: street-999\n")
    msg = _rejected(tmp_path, text)
    assert msg == f"{tmp_path / 'inventory.yaml'}:21: ap-street-001-01: site: unknown site 'street-999'"


def test_bad_category(tmp_path: Path) -> None:
    text = GOOD.replace("category: street", "category: school")
    msg = _rejected(tmp_path, text)
    assert msg.startswith(f"{tmp_path / 'inventory.yaml'}:9: street-001: category: 'school' is not one of "), msg
    assert "'government'" in msg and "'street'" in msg


def test_missing_required_key(tmp_path: Path) -> None:
    text = GOOD.replace("    address: 127.20.1.2\n", "")
    msg = _rejected(tmp_path, text)
    assert msg == f"{tmp_path / 'inventory.yaml'}:19: ap-street-001-01: address: missing: this key is required"


def test_every_problem_is_reported(tmp_path: Path) -> None:
    text = GOOD.replace("    site: street-001\n", "    site: street-999\n").replace(
        "address: 127.20.1.2", "address: 127.20.1.1")
    lines = _rejected(tmp_path, text).splitlines()
    assert [line.split(": ", 2)[1:] for line in lines] == [
        ["ap-street-001-01", "site: unknown site 'street-999'"],
        ["ap-street-001-01", "address: duplicate management address 127.20.1.1 port 1161 (also ap-park-001-01)"]
    ], lines


def test_load_inventory_without_snmp_skips_profile_check(tmp_path: Path) -> None:
    inv = tmp_path / "inventory.yaml"
    inv.write_text(GOOD.replace("profile: ap-cisco", "profile: ap-aruba"), encoding="utf-8")
    assert len(load_inventory(inv).devices) == 2
    inv.write_text(GOOD.replace("    site: park-001\n", "    site: nowhere\n"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"inventory\.yaml:14: ap-park-001-01: site: unknown site 'nowhere'"):
        load_inventory(inv)
