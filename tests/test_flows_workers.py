"""Two receive processes (flows.workers: 2): one /metrics, every record counted once, equal to nfdump."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from collectors.flows.service import FlowService
from collectors.flows.sites import SiteMap
from tests.flows_fixtures import (
    NFCAPD_BUFFER,
    SITES,
    Nfcapd,
    as_tuples,
    export_datagrams,
    flow_settings,
    free_udp_port,
    make_capture,
    send_datagrams,
    wait_until,
)

SOURCES = [f"127.0.4.{i}" for i in range(1, 6)]  # five exporters: both workers get some


@pytest.mark.parametrize("version", [9, 10])
def test_two_workers_equal_nfdump(version: int, tmp_path) -> None:
    pcap = make_capture(tmp_path / "c.pcap", count=4000, seed=31)
    exported, datagrams = export_datagrams(pcap, version, tmp_path)
    service = FlowService(settings=flow_settings(workers=2), sites=SiteMap(SITES))
    service.start_threads()
    nfcapd = Nfcapd(tmp_path / "nfcapd", free_udp_port(), buffer=NFCAPD_BUFFER)
    try:
        for source in SOURCES:
            send_datagrams(datagrams, service.port, source)
            send_datagrams(datagrams, nfcapd.port, source)
        expected = exported * len(SOURCES)
        wait_until(lambda: sum(service.snapshot().records.values()) >= expected and service.drained(),
                   timeout=60, what="both workers' records")
        nfcapd.settle()
        assert nfcapd.kernel_drops() == 0
        assert service.pool is not None
        per_worker = service.pool.worker_snapshots()
        snap = service.snapshot()
        registry = CollectorRegistry(auto_describe=False)
        for collector in service.collectors():
            registry.register(collector)
        text = generate_latest(registry).decode()
    finally:
        service.stop_threads()
        nfcapd.stop()
    # each exporter lives in exactly one worker, and both workers have some
    owners = [set(w.exporters) for w in per_worker]
    assert owners[0] and owners[1] and not owners[0] & owners[1] and owners[0] | owners[1] == set(SOURCES)
    assert snap.records == {(s, version, 0): exported for s in SOURCES}
    assert as_tuples(snap.protocols) == nfcapd.by_protocol()
    assert snap.errors == {} and snap.lost_flows == {} and snap.lost_packets == {}
    families = {f.name: f for f in text_string_to_metric_families(text)}
    records = [s for s in families["nms_flow_records"].samples if s.name.endswith("_total")]
    assert sorted(s.labels["exporter"] for s in records) == SOURCES
    assert sum(s.value for s in records) == expected
    flows = sum(s.value for s in families["nms_flow_protocol_flows"].samples if s.name.endswith("_total"))
    assert flows == expected
    assert families["nms_flow_receive_workers"].samples[0].value == 2


def test_a_dead_worker_keeps_its_counts_and_the_other_keeps_receiving(tmp_path) -> None:
    import os
    import signal

    pcap = make_capture(tmp_path / "c.pcap", count=500, seed=32)
    exported, datagrams = export_datagrams(pcap, 9, tmp_path)
    service = FlowService(settings=flow_settings(workers=2), sites=SiteMap(SITES))
    service.start_threads()
    try:
        assert service.is_receiving()
        for source in SOURCES[:2]:  # 127.0.4.1 to one worker, 127.0.4.2 to the other
            send_datagrams(datagrams, service.port, source)
        wait_until(lambda: sum(service.snapshot().records.values()) >= 2 * exported, timeout=60,
                   what="both exporters' records")
        assert service.pool is not None
        victim = next(i for i, w in enumerate(service.pool.worker_snapshots()) if "127.0.4.1" in w.exporters)
        os.kill(service.pool.pids()[victim], signal.SIGKILL)  # a worker this test started
        wait_until(lambda: not service.is_receiving(), what="the worker's death to be seen")
        send_datagrams(datagrams, service.port, "127.0.4.2")
        wait_until(lambda: service.snapshot().records.get(("127.0.4.2", 9, 0)) == 2 * exported, timeout=60,
                   what="the surviving worker's records")
        snap = service.snapshot()
    finally:
        service.stop_threads()
    assert snap.records[("127.0.4.1", 9, 0)] == exported  # the dead worker's last counts stay in the sum
