"""The topology derived from the inventory (nms/inventory/topology.py) and its info-series labels."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nms.app.district import load_district
from nms.configfile import ConfigError
from nms.inventory import topology
from nms.inventory.metrics import InventoryMetrics
from nms.inventory.models import DeviceRole, Inventory
from nms.inventory.topology import Topology
from tests.district_builder import device, write_district

REPO = Path(__file__).resolve().parent.parent


def _inventory(devices: list[dict], sites: list[dict] | None = None) -> Inventory:
    sites = sites or [
        {"id": "government-001", "name": "금천구청", "category": "government"},
        {"id": "park-001", "name": "금천체육공원", "category": "park"},
        {"id": "park-002", "name": "금천폭포공원", "category": "park", "upstream": "acc-sw-02"},
        {"id": "market-001", "name": "남문시장", "category": "market", "important": True},
    ]
    return Inventory.model_validate({"version": 1, "sites": sites, "devices": devices})


DEVICES = [
    device("core-sw-02", "backbone", "127.0.0.2", 161),
    device("core-sw-01", "backbone", "127.0.0.1", 161),
    device("acc-sw-01", "access", "127.0.0.11", 161),
    device("acc-sw-02", "access", "127.0.0.12", 161, site="park-001"),
    device("ips-01", "ips", "127.0.0.31", 161),
    device("ivr-01", "host", "127.0.0.41", 161),
    device("ap-gov-01", "ap", "127.0.1.1", 161),
    device("ap-park-01", "ap", "127.0.1.2", 161, site="park-001"),
    device("ap-park2-01", "ap", "127.0.1.3", 161, site="park-002"),
    device("ap-market-01", "ap", "127.0.1.4", 161, site="market-001"),
    device("ap-market-02", "ap", "127.0.1.5", 161, site="market-001", upstream="core-sw-02"),
]


def test_default_chain_site_access_backbone() -> None:
    topo = Topology.of(_inventory(DEVICES))
    assert topo.path("core-sw-01").upstream == ""
    assert topo.path("acc-sw-02").upstream == "core-sw-01"  # first backbone by name, not inventory order
    assert topo.path("ips-01").upstream == "core-sw-01"
    assert topo.path("ivr-01").upstream == "acc-sw-01"  # a server: the access switch at its own site
    assert topo.path("ap-gov-01").upstream == "acc-sw-01"  # the site's own switch
    assert topo.path("ap-park-01").upstream == "acc-sw-02"
    assert topo.path("ap-park2-01").upstream == "acc-sw-02"  # the site's explicit upstream
    assert topo.path("ap-market-01").upstream in ("acc-sw-01", "acc-sw-02")  # rendezvous-hashed
    assert topo.path("ap-market-02").upstream == "core-sw-02"  # the device's explicit upstream wins
    # the labels the inhibit rules compare: the first of each role on the path, itself included
    assert topo.path("acc-sw-01").access_switch == "acc-sw-01"
    assert topo.path("ap-park-01").access_switch == "acc-sw-02"
    assert topo.path("ap-park-01").backbone == "core-sw-01"
    assert topo.path("ap-market-02").access_switch == ""
    assert topo.path("core-sw-02").backbone == "core-sw-02"
    assert {"park-001", "park-002"} <= set(topo.behind("acc-sw-02"))
    assert "government-001" in topo.behind("acc-sw-01")
    assert ("market-001" in topo.behind("acc-sw-01")) != ("market-001" in topo.behind("acc-sw-02"))
    assert set(topo.behind("core-sw-01")) == {"government-001", "park-001", "park-002", "market-001"}


def test_rendezvous_keeps_sites_when_a_switch_is_added() -> None:
    sites = [{"id": f"park-{i:03d}", "name": f"공원{i}", "category": "park"} for i in range(1, 61)]
    switches = [device(f"acc-sw-0{i}", "access", f"127.0.0.1{i}", 161, site="park-060") for i in range(1, 4)]
    before = Topology.of(_inventory([device("core-sw-01", "backbone", "127.0.0.1", 161, site="park-060"),
                                     *switches], sites)).site_upstream
    more = [*switches, device("acc-sw-04", "access", "127.0.0.14", 161, site="park-060")]
    after = Topology.of(_inventory([device("core-sw-01", "backbone", "127.0.0.1", 161, site="park-060"),
                                    *more], sites)).site_upstream
    moved = [s for s in before if before[s] != after[s]]
    assert all(after[s] == "acc-sw-04" for s in moved)  # only towards the new switch
    assert len(moved) < 30
    assert len(set(before.values())) == 3  # every switch serves some of the 59 sites without one


@pytest.mark.parametrize(("upstream", "message"), [
    ("nope", "unknown upstream device 'nope'"),
    ("ap-gov-01", "is an AP"),
    ("acc-sw-01", "cannot be its own upstream"),
])
def test_bad_explicit_upstream_is_refused_by_name(upstream: str, message: str) -> None:
    devices = [d if d["name"] != "acc-sw-01" else {**d, "upstream": upstream} for d in DEVICES]
    found = topology.check(_inventory(devices))
    assert any(message in msg and loc[0] == "devices" for loc, msg in found), found


def test_upstream_loop_is_refused(tmp_path: Path) -> None:
    devices = [{**d, "upstream": "acc-sw-02"} if d["name"] == "core-sw-01" else d for d in DEVICES]
    config = write_district(tmp_path, devices, sites=_inventory(DEVICES).model_dump(mode="json")["sites"])
    with pytest.raises(ConfigError) as err:
        load_district(config)
    assert "upstream loop: core-sw-01 -> acc-sw-02 -> core-sw-01" in str(err.value)


def test_info_series_carry_the_topology() -> None:
    metrics = {m.name: m for m in InventoryMetrics(_inventory(DEVICES)).collect()}
    devices = {s.labels["device"]: s.labels for s in metrics["nms_device_info"].samples}
    assert (devices["ap-park-01"]["upstream"], devices["ap-park-01"]["access_switch"],
            devices["ap-park-01"]["backbone"]) == ("acc-sw-02", "acc-sw-02", "core-sw-01")
    sites = {s.labels["site"]: s.labels for s in metrics["nms_site_info"].samples}
    assert sites["market-001"]["important"] == "true" and sites["park-001"]["important"] == "false"
    assert sites["park-002"]["access_switch"] == "acc-sw-02"
    aps = {s.labels["site"]: s.value for s in metrics["nms_site_aps"].samples}
    assert aps == {"government-001": 1, "park-001": 1, "park-002": 1, "market-001": 2}


def test_shipped_district_every_site_is_served_by_an_access_switch() -> None:
    district = load_district(REPO / "configs" / "nms.yaml")
    topo = Topology.of(district.inventory)
    roles = {d.name: d.role for d in district.inventory.devices}
    assert all(roles.get(up) is DeviceRole.ACCESS for up in topo.site_upstream.values())
    doc = yaml.safe_load((REPO / "configs" / "inventory.yaml").read_text(encoding="utf-8"))
    assert not any("upstream" in d for d in doc["devices"])  # all derived, none hand-written
