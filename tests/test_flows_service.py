"""The flow service end to end: real softflowd in, Prometheus exposition out."""

from __future__ import annotations

import argparse
import ipaddress
import types

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from collectors.flows.cli import register
from collectors.flows.service import FlowService
from collectors.flows.sites import SiteMap
from nms.app.district import load_district
from nms.inventory.models import Inventory
from tests.flows_fixtures import SITES, flow_settings, make_capture, softflowd, wait_until


@pytest.fixture
def service():
    svc = FlowService(settings=flow_settings(top_n=3, ports=[443, 53]), sites=SiteMap(SITES))
    svc.start_threads()
    yield svc
    svc.stop_threads()


def scrape(svc: FlowService) -> dict[str, list]:
    registry = CollectorRegistry(auto_describe=False)
    for collector in svc.collectors():
        registry.register(collector)
    out: dict[str, list] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        out.setdefault(family.name, []).extend(family.samples)
    return out


def test_metrics_from_a_softflowd_export(service: FlowService, tmp_path) -> None:
    pcap = make_capture(tmp_path / "c.pcap", count=500)
    exported = softflowd(pcap, service.port, 9, tmp_path)
    wait_until(lambda: sum(service.engine.stats()["records"].values()) == exported and service.drained())
    wait_until(lambda: len(service.engine.aggregator.snapshot()["talkers"]) == 3, what="a top-N window")
    m = scrape(service)
    flows = {s.labels["protocol"]: s.value for s in m["nms_flow_protocol_flows"] if s.name.endswith("_total")}
    assert sum(flows.values()) == exported
    ports = {s.labels["port"] for s in m["nms_flow_service_bytes"]}
    assert ports <= {"443", "53", "other"} and "443" in ports and "other" in ports
    sites = {s.labels["site"] for s in m["nms_flow_site_bytes"]}
    assert {"gasan-park", "siheung-market", "gu-office", "external"} <= sites
    assert {s.labels["direction"] for s in m["nms_flow_bytes"]} == {"in", "out"}
    assert len(m["nms_flow_top_talker_bytes"]) == 3
    assert [s.value for s in m["nms_flow_records"] if s.name.endswith("_total")] == [exported]
    assert m["nms_flow_templates"] and m["nms_flow_kernel_receive_drops"][0].value == 0
    assert m["nms_flow_waiting_sets"][0].value == 0


def test_top_talkers_that_leave_the_top_n_are_removed(service: FlowService, tmp_path) -> None:
    first = make_capture(tmp_path / "a.pcap", count=300, seed=1)
    softflowd(first, service.port, 9, tmp_path)
    wait_until(lambda: len(service.engine.aggregator.snapshot()["talkers"]) == 3, what="the first top N")
    before = {s.labels["address"] for s in scrape(service)["nms_flow_top_talker_bytes"]}
    wait_until(lambda: service.engine.aggregator.snapshot()["talkers"] == [], what="an empty window")
    assert scrape(service)["nms_flow_top_talker_bytes"] == []
    second = make_capture(tmp_path / "b.pcap", count=300, seed=2)
    softflowd(second, service.port, 9, tmp_path)
    wait_until(lambda: len(service.engine.aggregator.snapshot()["talkers"]) == 3, what="the second top N")
    after = {s.labels["address"] for s in scrape(service)["nms_flow_top_talker_bytes"]}
    assert len(after) == 3 and before != after


def test_reload_swaps_the_site_map(service: FlowService) -> None:
    inventory = Inventory(sites=[{"id": "new-site", "name": "새 사이트", "category": "welfare",
                                  "subnets": ["10.20.1.0/24"]}], devices=[])
    service.reload(types.SimpleNamespace(inventory=inventory))
    assert service.engine.aggregator.sites.site_of("10.20.1.9") == ("new-site", "welfare")
    assert service.engine.aggregator.sites.site_of("10.20.2.9") == ("external", "external")


def test_longest_prefix_wins() -> None:
    sites = SiteMap([("big", "park", ipaddress.ip_network("10.0.0.0/8")),
                     ("small", "market", ipaddress.ip_network("10.1.2.0/24"))])
    assert sites.site_of("10.1.2.3") == ("small", "market")
    assert sites.site_of("10.1.3.3") == ("big", "park")
    assert sites.site_of("11.0.0.1") == ("external", "external")


def test_cli_registers_the_flows_subcommand() -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(), load_district)  # the application gives it its configuration loader
    args = parser.parse_args(["flows", "--listen", "127.0.0.1:2056", "--metrics", "127.0.0.1:9999"])
    assert args.listen == "127.0.0.1:2056" and callable(args.func) and args.load_district is load_district


def test_lab_replay_reaches_the_collector(service: FlowService, tmp_path) -> None:
    from lab.flows import start_flow_replay

    inventory = Inventory(sites=[{"id": s, "name": s, "category": c, "subnets": [str(n)]}
                                 for s, c, n in SITES[:3]], devices=[])
    district = types.SimpleNamespace(inventory=inventory)
    proc = start_flow_replay(district, tmp_path, f"127.0.0.1:{service.port}", interval=0.5)
    try:
        wait_until(lambda: sum(service.engine.stats()["records"].values()) > 5000, timeout=60,
                   what="two replays of the lab capture")
    finally:
        proc.stop()
    assert not proc.running()
    assert list((tmp_path / "flows").glob("district-*.pcap"))
