"""Exactness: the same softflowd export goes to the collector and to nfcapd; totals must agree."""

from __future__ import annotations

import pytest

from collectors.flows.service import FlowService
from collectors.flows.sites import SiteMap
from tests.flows_fixtures import (
    SITES,
    CaptureSocket,
    Nfcapd,
    as_tuples,
    flow_settings,
    free_udp_port,
    make_capture,
    reference_protocols,
    softflowd,
    wait_until,
)


# 2,000 flows: with 3,000 or more flows from this generator, nfcapd 1.7.1 itself keeps only part of
# the two-packet TCP flows of the same softflowd export (seen: 2,647 of 3,000 stored, while softflowd
# reports 3,000 exported and the collector and the reference decoder count 3,000). That is nfcapd's
# loss, not a disagreement on decoding, so the exactness test stays below that size.
@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory):
    return make_capture(tmp_path_factory.mktemp("pcap") / "district.pcap", count=2000)


@pytest.fixture
def service():
    svc = FlowService(settings=flow_settings(), sites=SiteMap(SITES))
    svc.start_threads()
    yield svc
    svc.stop_threads()


@pytest.mark.parametrize("version", [5, 9, 10])
def test_totals_per_protocol_equal_nfdump(version: int, capture, service: FlowService, tmp_path) -> None:
    nfcapd = Nfcapd(tmp_path / "nfcapd", free_udp_port())
    try:
        exported = softflowd(capture, nfcapd.port, version, tmp_path)
        assert softflowd(capture, service.port, version, tmp_path) == exported
        records = lambda: sum(service.engine.stats()["records"].values())  # noqa: E731
        wait_until(lambda: records() >= exported and service.drained(), what="the collector's records")
        nfcapd.settle()
    finally:
        nfcapd.stop()
    service.engine.tick()
    ours = as_tuples(service.engine.aggregator.snapshot()["protocols"])
    theirs = nfcapd.by_protocol()
    assert theirs, "nfdump found no flows"
    assert ours == theirs
    assert sum(f for _, _, f in ours.values()) == exported
    stats = service.engine.stats()
    assert stats["errors"] == {}
    assert stats["lost_flows"] == {} and stats["lost_packets"] == {}
    if version == 5:
        assert "icmpv6" not in ours  # NetFlow v5 carries IPv4 only
    else:
        assert "icmpv6" in ours


@pytest.mark.parametrize("version", [9, 10])
def test_fast_path_equals_reference_decoder(version: int, capture, tmp_path) -> None:
    """The numpy path against the record-at-a-time reference decoder, on softflowd's own bytes."""
    from collectors.flows.engine import FlowEngine
    from collectors.flows.reference import ReferenceDecoder

    sock = CaptureSocket()
    try:
        exported = softflowd(capture, sock.port, version, tmp_path)
        datagrams = sock.drain(10_000)
    finally:
        sock.close()
    engine = FlowEngine(flow_settings(), SiteMap(SITES))
    engine.process([(d, "127.0.0.1") for d in datagrams])
    ref = ReferenceDecoder()
    records = [r for d in datagrams for r in ref.feed(d, "127.0.0.1")]
    assert len(records) == exported
    assert as_tuples(engine.aggregator.snapshot()["protocols"]) == reference_protocols(records)
    sites = engine.aggregator.snapshot()["sites"]
    site_map = SiteMap(SITES)
    expected: dict[tuple[str, str, str], list[int]] = {}
    import ipaddress

    for r in records:
        src = r.get(8) or r.get(27)
        dst = r.get(12) or r.get(28)
        for address, direction in ((src, "out"), (dst, "in")):
            site, category = site_map.site_of(str(ipaddress.ip_address(address)))
            cell = expected.setdefault((site, category, direction), [0, 0, 0])
            cell[0] += r[1]
            cell[1] += r[2]
            cell[2] += 1
    assert sites == expected
