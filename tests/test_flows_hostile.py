"""Hostile and broken senders: no sender can starve another, and every cost is bounded per sender.

Each test reproduces one attack on the collector's engine with crafted datagrams (or real
softflowd exports), then checks that a legitimate exporter is still decoded exactly.
"""

from __future__ import annotations

import struct

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from collectors.flows.engine import FlowEngine
from collectors.flows.metrics import FlowCollector
from collectors.flows.settings import ExporterPolicy
from collectors.flows.sites import SiteMap
from tests.flows_fixtures import (
    SITES,
    V9_FIELDS,
    as_tuples,
    export_datagrams,
    flow_settings,
    make_capture,
    reference_protocols,
    v9_record,
)
from tests.flows_reference import ReferenceDecoder

LEGIT = "127.0.0.1"
RECORD = v9_record("10.20.1.5", "203.0.113.9", 1000, 10, 6, 40000, 443)


def v9_message(*sets: bytes, seq: int = 1, source_id: int = 0) -> bytes:
    return struct.pack("!HHIIII", 9, 1, 0, 0, seq, source_id) + b"".join(sets)


def ipfix_message(*sets: bytes, seq: int = 0, domain: int = 0) -> bytes:
    body = b"".join(sets)
    return struct.pack("!HHIII", 10, 16 + len(body), 0, seq, domain) + body


def flowset(set_id: int, content: bytes) -> bytes:
    return struct.pack("!HH", set_id, 4 + len(content)) + content


def template_record(tid: int, fields=V9_FIELDS) -> bytes:
    return struct.pack("!HH", tid, len(fields)) + b"".join(struct.pack("!HH", t, n) for t, n in fields)


def spoofed(i: int) -> str:
    return f"127.{1 + i // 62500 % 200}.{i // 250 % 250}.{1 + i % 250}"


@pytest.fixture(scope="module")
def legit_export(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[int, list[bytes]]]:
    """A real exporter's traffic: softflowd's v9 and IPFIX export of a district capture."""
    tmp = tmp_path_factory.mktemp("hostile")
    pcap = make_capture(tmp / "legit.pcap", count=3000, seed=21)
    return {version: export_datagrams(pcap, version, tmp, 10_000) for version in (9, 10)}


def expected(datagrams: list[bytes]) -> dict:
    ref = ReferenceDecoder()
    return reference_protocols([r for d in datagrams for r in ref.feed(d, LEGIT)])


def decoded(e: FlowEngine) -> dict:
    e.tick(now=2.0)
    return as_tuples(e.aggregator.snapshot()["protocols"])


def exposition(e: FlowEngine) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FlowCollector.for_engine(e))
    return generate_latest(registry).decode()


@pytest.mark.parametrize("version", [9, 10])
def test_junk_from_thousands_of_senders_does_not_lock_out_an_exporter(version: int, legit_export) -> None:
    """Issue 12, weak spot 1: six-byte junk, then valid headers with garbage, from 3,000 addresses."""
    exported, datagrams = legit_export[version]
    e = FlowEngine(flow_settings(exporters=ExporterPolicy(max_candidates=256)), SiteMap(SITES))
    junk = [(b"\x00\x09junk", spoofed(i)) for i in range(3000)]
    garbage = [(v9_message(flowset(0, b"\x01\x00\x00\x01\xff\xff"), seq=i), spoofed(i)) for i in range(3000)]
    e.process(junk, now=1.0)
    # the exporter starts in the middle of the flood: the candidate table turns over many times
    # between its datagrams, and its first ones (templates) must survive that
    mixed = garbage[:1000] + [item for i, d in enumerate(datagrams)
                              for item in [(d, LEGIT), *garbage[1000 + i * 20:1000 + (i + 1) * 20]]]
    e.process(mixed + garbage[1000 + len(datagrams) * 20:], now=1.0)
    assert decoded(e) == expected(datagrams)
    assert sum(e.stats()["records"].values()) == exported
    stats = e.stats()
    assert stats["exporters"] == [LEGIT]
    assert stats["refused"]["bad_header"] == 3000
    assert stats["candidates"] <= e.settings.exporters.max_candidates
    # every junk sender but the last 256 made room for a newer one; the exporter never did
    assert stats["evicted"]["candidates_full"] == 3000 - e.settings.exporters.max_candidates
    assert stats["errors"]["truncated_header"] == 3000 and stats["errors"]["truncated_template"] == 3000
    text = exposition(e)  # a junk sender's address is never a label value
    assert "127.1." not in text and "127.2." not in text
    assert 'nms_flow_refused_datagrams_total{reason="bad_header"} 3000.0' in text


def test_one_exporter_cannot_fill_the_template_store(legit_export) -> None:
    """Issue 12, weak spot 2: one source's template flood leaves room for everyone else."""
    exported, datagrams = legit_export[10]
    e = FlowEngine(flow_settings(max_templates=2000), SiteMap(SITES))
    flood = []
    for n in range(60):  # 60 datagrams of 200 distinct templates each, all from one source
        records = b"".join(template_record(256 + n * 200 + i) for i in range(200))
        flood.append((ipfix_message(flowset(2, records)), "127.9.9.9"))
    e.process(flood, now=1.0)
    assert e.decoder.templates.owned("127.9.9.9") == e.settings.exporters.max_templates
    assert e.stats()["errors"]["exporter_template_limit"] > 0
    e.process([(d, LEGIT) for d in datagrams], now=1.0)
    assert sum(e.stats()["records"].values()) == exported
    assert decoded(e) == expected(datagrams)


def test_template_floods_from_many_candidates_make_room_for_an_exporter(legit_export) -> None:
    """Many sources fill the whole store: the least recently heard candidates give way."""
    exported, datagrams = legit_export[9]
    e = FlowEngine(flow_settings(max_templates=1000), SiteMap(SITES))
    flood = [(v9_message(flowset(0, b"".join(template_record(256 + i) for i in range(100)))), spoofed(n))
             for n in range(50)]
    e.process(flood, now=1.0)
    assert len(e.decoder.templates.templates) == 1000
    e.process([(d, LEGIT) for d in datagrams], now=1.0)
    assert sum(e.stats()["records"].values()) == exported
    assert decoded(e) == expected(datagrams)
    assert e.stats()["evicted"]["templates_full"] >= 1


def test_empty_template_records_are_refused_before_anything_is_built() -> None:
    """Issue 12, weak spot 3: 16,244 empty template records in one 65 KB datagram."""
    e = FlowEngine(flow_settings())
    bomb = v9_message(flowset(0, struct.pack("!HH", 300, 0) * 16_244))
    assert len(bomb) >= 65_000
    e.process([(bomb, "127.9.9.9")] * 20, now=1.0)
    assert e.stats()["errors"] == {"bad_template": 20}
    assert e.decoder.templates.templates == {}


def test_a_template_count_impossible_for_the_set_length_builds_nothing() -> None:
    e = FlowEngine(flow_settings())
    liar = ipfix_message(flowset(2, struct.pack("!HH", 300, 500) + struct.pack("!HH", 1, 4) * 10))
    e.process([(liar, "127.9.9.9")], now=1.0)
    assert e.stats()["errors"] == {"truncated_template": 1}
    assert e.decoder.templates.templates == {}


def test_template_records_per_datagram_are_bounded() -> None:
    """A datagram of thousands of valid one-field templates stores at most MAX_TEMPLATE_RECORDS."""
    from collectors.flows.decoder import MAX_TEMPLATE_RECORDS

    e = FlowEngine(flow_settings())
    many = v9_message(flowset(0, b"".join(template_record(256 + i, ((1, 4),)) for i in range(8000))))
    e.process([(many, "127.9.9.9")], now=1.0)
    assert len(e.decoder.templates.templates) == MAX_TEMPLATE_RECORDS
    assert e.stats()["errors"] == {"template_flood": 1}


def test_pending_data_is_bounded_in_bytes_per_exporter(legit_export) -> None:
    """Issue 12, weak spot 4: 1,000 data sets of 65 KB for templates that never come."""
    exported, datagrams = legit_export[10]
    limit = 1 << 20
    e = FlowEngine(flow_settings(exporters=ExporterPolicy(pending_bytes=limit)), SiteMap(SITES))
    big = ipfix_message(flowset(999, b"\x00" * 65_000))
    e.process([(big, "127.9.9.9")] * 1000, now=1.0)
    sets, nbytes = e.stats()["waiting"]
    assert nbytes <= limit and sets == limit // 65_000
    assert e.stats()["errors"]["template_missing"] == 1000 - sets
    # another exporter's data waits for its template as before (IPFIX: templates sent last here)
    reordered = sorted(datagrams, key=lambda d: struct.unpack_from("!H", d, 16)[0] == 2)
    e.process([(d, LEGIT) for d in reordered], now=1.0)
    assert sum(e.stats()["records"].values()) == exported
    assert decoded(e) == expected(datagrams)


def test_held_variable_length_data_is_replayed_a_datagram_at_a_time() -> None:
    """Megabytes of one-byte variable-length records held, then their template: the work done in
    one datagram's time stays that of one datagram; the rest is dropped and counted."""
    e = FlowEngine(flow_settings())
    held = ipfix_message(flowset(400, b"\x00" * 60_000))
    e.process([(held, "127.0.0.9")] * 100, now=1.0)
    assert e.stats()["waiting"][1] == 100 * 60_000
    variable = struct.pack("!HHHH", 400, 1, 82, 0xFFFF)
    e.process([(ipfix_message(flowset(2, variable)), "127.0.0.9")], now=1.0)
    assert e.decoder.table.get("127.0.0.9").records == {(10, 0): 60_000}  # one set's records, 1-byte each
    assert e.stats()["errors"]["template_missing"] == 99
    assert e.stats()["waiting"] == (0, 0)


def test_allow_list_refuses_other_senders_by_reason_only(legit_export) -> None:
    exported, datagrams = legit_export[9]
    e = FlowEngine(flow_settings(exporters=ExporterPolicy(allow=["127.0.0.0/30"])), SiteMap(SITES),
                   allowed=["192.0.2.1"])
    e.process([(d, "127.0.0.77") for d in datagrams] + [(d, LEGIT) for d in datagrams], now=1.0)
    stats = e.stats()
    assert stats["exporters"] == [LEGIT]
    assert stats["refused"]["not_allowed"] == len(datagrams)
    assert sum(stats["records"].values()) == exported
    assert "127.0.0.77" not in exposition(e)
    assert e.decoder.table.allowed("192.0.2.1") and e.decoder.table.allowed("::ffff:127.0.0.2")


def test_idle_exporters_and_junk_only_candidates_are_evicted_with_their_state() -> None:
    policy = ExporterPolicy(idle_timeout=100, candidate_timeout=10)
    e = FlowEngine(flow_settings(exporters=policy), SiteMap(SITES))
    e.process([(v9_message(flowset(0, template_record(256)), flowset(256, RECORD), seq=1), LEGIT),
               (v9_message(flowset(256, RECORD), seq=2), LEGIT),
               (v9_message(flowset(0, template_record(256))), "127.0.0.2")], now=1.0)
    assert e.stats()["exporters"] == [LEGIT] and e.stats()["candidates"] == 1
    e.tick(now=20.0)
    assert e.stats()["candidates"] == 0 and e.stats()["evicted"] == {"no_records": 1}
    assert e.decoder.templates.owned("127.0.0.2") == 0
    assert e.aggregator.snapshot()["interfaces"]
    e.tick(now=200.0)
    assert e.stats()["exporters"] == [] and e.stats()["evicted"]["idle"] == 1
    assert e.decoder.templates.templates == {} and e.decoder.sequences.streams == {}
    assert e.aggregator.snapshot()["interfaces"] == {}  # its series go with it


def test_a_spoofed_sender_repeating_a_valid_datagram_stays_a_candidate() -> None:
    """Records decode, but the sequence number never follows on: the address never becomes a label."""
    e = FlowEngine(flow_settings())
    valid = ipfix_message(flowset(2, template_record(256)), flowset(256, RECORD * 3), seq=7)
    e.process([(valid, spoofed(i % 50)) for i in range(500)], now=1.0)
    assert e.stats()["exporters"] == [] and e.stats()["candidates"] == 50
    assert "127.1." not in exposition(e)
    e.process([(ipfix_message(flowset(2, template_record(256)), flowset(256, RECORD), seq=i), LEGIT)
               for i in range(2)], now=1.0)
    assert e.stats()["exporters"] == [LEGIT]


def test_cpu_budget_refuses_only_the_sender_that_spent_it() -> None:
    """65,000 one-byte variable-length records per datagram: the most decode work a sender can ask
    for. Its budget runs out; the exporter sending between its datagrams is decoded in full."""
    e = FlowEngine(flow_settings(), SiteMap(SITES))
    variable = struct.pack("!HHHH", 400, 1, 82, 0xFFFF)  # one field: interfaceName, variable length
    hog = ipfix_message(flowset(2, variable), flowset(400, b"\x00" * 65_000))
    legit = v9_message(flowset(0, template_record(256)), flowset(256, RECORD))
    e.process([item for _ in range(200) for item in ((hog, "127.0.0.9"), (legit, LEGIT))], now=1.0)
    assert e.stats()["refused"]["cpu_budget"] > 0
    assert decoded(e)["tcp"] == (200 * 1000, 200 * 10, 200)
    assert e.decoder.table.get(LEGIT).tokens > 0


def test_under_pressure_candidates_share_one_budget_and_exporters_go_first() -> None:
    """When the decoder falls behind, thousands of senders cost together what one may cost."""
    e = FlowEngine(flow_settings(exporters=ExporterPolicy(cpu_per_second=0.05)))
    legit = v9_message(flowset(0, template_record(256)), flowset(256, RECORD))
    e.process([(legit, LEGIT), (v9_message(flowset(256, RECORD), seq=2), LEGIT)], now=1.0)
    assert e.stats()["exporters"] == [LEGIT]  # an exporter already: two datagrams in sequence
    e.decoder.pressure = True
    variable = struct.pack("!HHHH", 400, 1, 82, 0xFFFF)
    hog = ipfix_message(flowset(2, variable), flowset(400, b"\x00" * 65_000))
    e.process([item for i in range(100) for item in ((hog, spoofed(i)), (legit, LEGIT))], now=1.0)
    assert e.stats()["refused"]["cpu_budget"] > 50  # most candidates found the shared budget spent
    assert e.stats()["exporters"][0] == LEGIT
    assert decoded(e)["tcp"][2] == 102  # the exporter kept being decoded, within its own budget


def test_observation_domains_per_exporter_are_bounded() -> None:
    e = FlowEngine(flow_settings(exporters=ExporterPolicy(max_domains=4)))
    e.process([(v9_message(flowset(0, template_record(256)), flowset(256, RECORD), source_id=i), LEGIT)
               for i in range(10)], now=1.0)
    assert e.stats()["refused"]["domain_limit"] == 6
    assert sorted(domain for (_, _, domain) in e.stats()["records"]) == [0, 1, 2, 3]


def test_inventory_devices_join_an_allow_list_and_an_empty_list_admits_anyone() -> None:
    import types

    from collectors.flows.service import FlowService
    from collectors.flows.settings import FlowSettings
    from nms.inventory.models import Inventory

    inventory = Inventory(sites=[{"id": "s", "name": "s", "category": "park", "subnets": ["10.20.1.0/24"]}],
                          devices=[{"name": "r1", "role": "backbone", "site": "s", "address": "127.20.0.1",
                                    "profile": "switch", "credentials": "c"}])

    def district(**policy: object) -> types.SimpleNamespace:
        settings = FlowSettings(exporters=ExporterPolicy(**policy))
        return types.SimpleNamespace(settings=types.SimpleNamespace(flows=settings), inventory=inventory)

    table = FlowService(district(allow=["127.0.0.1"])).engine.decoder.table
    assert table.allowed("127.0.0.1") and table.allowed("127.20.0.1") and not table.allowed("127.0.0.2")
    table = FlowService(district(allow=["127.0.0.1"], inventory=False)).engine.decoder.table
    assert table.allowed("127.0.0.1") and not table.allowed("127.20.0.1")
    table = FlowService(district()).engine.decoder.table
    assert table.open and table.allowed("127.0.0.2")


def test_reload_applies_a_new_allow_list() -> None:
    import types

    from collectors.flows.service import FlowService
    from collectors.flows.settings import FlowSettings
    from nms.inventory.models import Inventory

    def district(allow: list[str]) -> types.SimpleNamespace:
        settings = FlowSettings(exporters=ExporterPolicy(allow=allow))
        return types.SimpleNamespace(settings=types.SimpleNamespace(flows=settings),
                                     inventory=Inventory(sites=[], devices=[]))

    service = FlowService(district(["127.0.0.1"]))
    service.reload(district(["127.0.0.2"]))
    table = service.engine.decoder.table
    assert table.allowed("127.0.0.2") and not table.allowed("127.0.0.1")
    assert service.settings.exporters.allow == ["127.0.0.2"]
