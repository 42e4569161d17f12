"""Broken agents against the collector: each fault costs only that device, is counted, and logged once.

The agents are real UDP responders on loopback: a scripted one (tests/snmp_responder.py) that sends
what broken devices send, and net-snmp's snmpd configured to cap GETBULK replies and to serve
absurd sensor scales and CP949 strings. A good device polled next to each broken one must show
exactly the series it shows when polled next to a well-behaved one.
"""

from __future__ import annotations

import asyncio
import logging
import secrets as pysecrets
from pathlib import Path

import pytest

from collectors.snmp import ber
from collectors.snmp.plan import ENT_SENSOR, IF_TABLE, IF_X_TABLE
from collectors.snmp.service import SnmpCollector
from nms.app.district import load_district
from nms.exposition import generate_text
from nms.secrets import SecretResolver
from tests.district_builder import device, write_district
from tests.service_runner import RunningService
from tests.snmp_agents import bulkwalk, start_snmpd
from tests.snmp_responder import Responder, device_table

GOOD, BAD = "127.0.0.81", "127.0.0.82"
VOLATILE = ("nms_snmp_poll_duration_seconds", "nms_snmp_last_poll_timestamp_seconds", "nms_snmp_polls_total")


def _collector(tmp_path: Path, responder: Responder, community: str, timeout: float = 0.5) -> SnmpCollector:
    config = write_district(tmp_path / "cfg", [
        device("good-sw", "access", GOOD, responder.port_of(GOOD)),
        device("bad-sw", "access", BAD, responder.port_of(BAD)),
    ], timeout=timeout, retries=0)
    return SnmpCollector(load_district(config), SecretResolver(Path("/nonexistent"),
                                                               environ={"NMS_SECRET_DISTRICT_V2C": community}))


def _poll(collector: SnmpCollector, rounds: int = 2, settle: float = 0.0) -> dict:
    async def run() -> dict:
        await collector.poller.open()
        try:
            samples = {}
            for _ in range(rounds):
                for dev in collector.devices():
                    samples[dev.name] = await collector.poll_device(dev)
            await asyncio.sleep(settle)  # late answers arrive (and are counted) while the socket is open
            return samples
        finally:
            collector.poller.close()

    return asyncio.run(run())


def _lines_of(text: str, name: str) -> list[str]:
    return sorted(line for line in text.splitlines()
                  if f'device="{name}"' in line and not line.startswith(VOLATILE))


def _value(text: str, prefix: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.rsplit(" ", 1)[1])
    return None


def _good_baseline(tmp_path: Path, community: str) -> list[str]:
    responder = Responder({GOOD: device_table("good-sw"), BAD: device_table("bad-sw")}, {}, community.encode())
    try:
        collector = _collector(tmp_path / "baseline", responder, community)
        samples = _poll(collector)
    finally:
        responder.shutdown()
    assert all(s.ok for s in samples.values()), {n: s.message for n, s in samples.items()}
    return _lines_of(generate_text(collector.metrics).decode(), "good-sw")


@pytest.mark.parametrize("behaviour,outcome", [
    ("short", "short_reply"),
    ("loop", "loop"),
    ("out_of_order", "out_of_order"),
    ("ignore_max_repetitions", "ignored_max_repetitions"),
    ("too_big", "too_big"),
    ("duplicate", "unmatched"),
    ("late", "timeout"),
    ("wrong_request_id", "timeout"),
    ("truncated", "timeout"),
])
def test_a_broken_agent_costs_only_its_own_series(tmp_path, behaviour, outcome):
    community = pysecrets.token_hex(6)
    baseline = _good_baseline(tmp_path, community)
    responder = Responder({GOOD: device_table("good-sw"), BAD: device_table("bad-sw")}, {BAD: behaviour},
                          community.encode(), delay=0.8)
    try:
        collector = _collector(tmp_path / "broken", responder, community)
        samples = _poll(collector, settle=1.0 if behaviour == "late" else 0.1)
    finally:
        responder.shutdown()
    text = generate_text(collector.metrics).decode()
    assert samples["good-sw"].ok
    assert _lines_of(text, "good-sw") == baseline, "the good device's series changed"
    bad = samples["bad-sw"]
    if outcome == "timeout":
        assert not bad.ok and bad.error == "timeout"
        assert 'nms_device_up{device="bad-sw"' in text and _value(text, 'nms_device_up{device="bad-sw"') == 0
        assert _value(text, 'nms_snmp_poll_errors_total{device="bad-sw",role="access",reason="timeout"}') == 2
        if behaviour == "truncated":
            assert _value(text, 'nms_snmp_decode_errors_total{reason="no_request_id"}') >= 2
        else:
            assert _value(text, "nms_snmp_unmatched_responses_total") >= 2
        return
    assert bad.ok, bad.message
    if outcome == "unmatched":
        assert _value(text, "nms_snmp_unmatched_responses_total") >= 2
    else:
        assert _value(text, f'nms_snmp_walk_anomalies_total{{device="bad-sw",kind="{outcome}"}}') >= 1
    if behaviour != "loop":  # everything else still reads every row
        column = bad.columns["ifHCInOctets"]
        assert {i: v for i, (_t, v) in column.items()} == {(1,): 2**64 - 1, (2,): 2**64 - 2, (3,): 2**64 - 3}
        assert len(bad.columns["ifDescr"]) == 3
    else:  # a looping agent: the rows before the loop are kept, the device stays up
        assert (1,) in bad.columns["ifHCInOctets"]


def test_too_big_halves_once_and_is_remembered(tmp_path):
    community = pysecrets.token_hex(6)
    responder = Responder({GOOD: device_table("good-sw"), BAD: device_table("bad-sw")}, {BAD: "too_big"},
                          community.encode())
    try:
        collector = _collector(tmp_path, responder, community)
        _poll(collector, rounds=1)
        first = collector.states["bad-sw"].anomalies["too_big"]
        requests = responder.requests[BAD]
        _poll(collector, rounds=1)
    finally:
        responder.shutdown()
    assert first >= 1
    assert collector.states["bad-sw"].anomalies["too_big"] == first, "the smaller size is kept for the device"
    assert responder.requests[BAD] - requests < requests


def test_absurd_values_are_dropped_and_counted_not_fatal(tmp_path, caplog):
    """Scale 200 (10**573), precision 99, a Counter64 of 2**70 (not a real reading), undecodable bytes."""
    community = pysecrets.token_hex(6)
    bad = device_table("bad-sw", aliases=[b"\xff\xfe\x80", "금천구청 1층".encode("cp949"), b"uplink"], sensors=[
        (1, 8, 9, 1, 455, 1, b"CPU"),          # 45.5 celsius
        (2, 8, 200, 0, 30, 1, b"absurd scale"),
        (3, 8, 9, 99, 30, 1, b"absurd precision"),
        (4, 4, 8, 2, 12345, 1, b"12V rail"),   # 12345 milli / 10**2 = 0.12345 V
        (5, 8, 9, 0, 99, 3, b"broken"),        # nonoperational: status only
    ], extra={(*IF_X_TABLE["ifHCOutOctets"], 3): (ber.COUNTER64, 2**70)})
    responder = Responder({GOOD: device_table("good-sw"), BAD: bad}, {}, community.encode())
    try:
        collector = _collector(tmp_path, responder, community)
        with caplog.at_level(logging.WARNING, logger="collectors.snmp"):
            samples = _poll(collector, rounds=3)
            text = generate_text(collector.metrics).decode()
        notes = [r.getMessage() for r in caplog.records if "bad-sw" in r.getMessage()]
        good_notes = [r.getMessage() for r in caplog.records if "good-sw" in r.getMessage()]
        config = tmp_path / "cfg" / "nms.yaml"
        with RunningService(config, SecretResolver(Path("/nonexistent"),
                                                   environ={"NMS_SECRET_DISTRICT_V2C": community})) as svc:
            scraped = svc.wait_scrape(lambda t: 'nms_device_up{device="bad-sw"' in t
                                      and 'nms_device_up{device="good-sw"' in t, 10)
    finally:
        responder.shutdown()
    assert scraped, "the service answered /metrics (HTTP 200) for both devices"
    assert samples["bad-sw"].ok and samples["good-sw"].ok
    sensor = 'nms_entity_sensor_value{device="bad-sw",site="government-001",category="government",role="access",'
    assert _value(text, sensor + 'entPhysicalIndex="1",entPhysicalName="CPU",sensor_type="celsius"}') == 45.5
    assert _value(text, sensor + 'entPhysicalIndex="4",entPhysicalName="12V rail",sensor_type="voltsDC"}') == 0.12345
    assert 'entPhysicalIndex="2"' not in text and 'entPhysicalIndex="3"' not in text
    assert 'entPhysicalIndex="5",entPhysicalName="broken",sensor_type="celsius"} 3' in text
    assert 'nms_entity_sensor_value{device="bad-sw",site="government-001",category="government",role="access",' \
           'entPhysicalIndex="5"' not in text
    assert _value(text, 'nms_device_temperature_celsius{device="bad-sw",site="government-001",category="government",'
                  'role="access",sensor="1"}') == 45.5
    assert 'ifAlias="0xfffe80"' in text and 'ifAlias="금천구청 1층"' in text and "\ufffd" not in text
    assert 'ifHCOutOctets{device="bad-sw",site="government-001",category="government",role="access",ifIndex="3"' \
           not in text
    for reason in ("bad_sensor_scale", "bad_sensor_precision", "value_out_of_range", "undecodable_string"):
        assert _value(text, f'nms_snmp_decode_errors_total{{reason="{reason}"}}') == 3, reason
    for reason in ("bad_sensor_scale", "bad_sensor_precision", "value_out_of_range", "undecodable_string"):
        assert sum(reason in m for m in notes) == 1, (reason, notes)
    assert not good_notes


def test_down_and_recovery_are_logged_once_each(tmp_path, caplog):
    community = pysecrets.token_hex(6)
    behaviours: dict[str, str] = {BAD: "wrong_request_id"}
    responder = Responder({GOOD: device_table("good-sw"), BAD: device_table("bad-sw")}, behaviours,
                          community.encode())
    try:
        collector = _collector(tmp_path, responder, community, timeout=0.3)
        with caplog.at_level(logging.INFO, logger="collectors.snmp"):
            _poll(collector, rounds=3)
            behaviours[BAD] = "normal"
            _poll(collector, rounds=3)
    finally:
        responder.shutdown()
    messages = [r.getMessage() for r in caplog.records if "bad-sw" in r.getMessage()]
    assert sum("is down" in m for m in messages) == 1, messages
    assert sum("answers again after" in m for m in messages) == 1, messages
    assert any("is down" in m and "no response" in m for m in messages), "the reason is in the down message"


@pytest.fixture
def capped_snmpd(tmp_path):
    """net-snmp that returns at most 10 varbinds per GETBULK reply (RFC 3416 allows it) and serves
    sensors with precision and absurd scales, and a CP949 ifAlias, through ``override``."""
    sensors = "".join(
        f"override {'.'.join(map(str, (*ENT_SENSOR[col], idx)))} integer {val}\n"
        for idx, values in ((1, (8, 9, 1, 455, 1)), (2, (8, 200, 0, 30, 1)))
        for col, val in zip(("entPhySensorType", "entPhySensorScale", "entPhySensorPrecision", "entPhySensorValue",
                             "entPhySensorOperStatus"), values, strict=True))
    alias = ".".join(map(str, (*IF_X_TABLE["ifAlias"], 1)))
    conf = ("maxGetbulkResponses 10\n" + sensors).encode() + \
        f'override {alias} octet_str "'.encode() + "금천구청 1층".encode("cp949") + b'"\n'
    agent = start_snmpd(tmp_path / "snmpd-capped", "127.0.0.83", "capped", extra_conf=conf)
    yield agent
    agent.stop()


def test_net_snmp_with_capped_replies_sensors_and_cp949(tmp_path, capped_snmpd):
    agent = capped_snmpd
    config = write_district(tmp_path / "cfg", [device("capped", "access", agent.host, agent.port)], timeout=1.0)
    collector = SnmpCollector(load_district(config), SecretResolver(
        Path("/nonexistent"), environ={"NMS_SECRET_DISTRICT_V2C": agent.community}))
    samples = _poll(collector, rounds=2)
    sample = samples["capped"]
    assert sample.ok, sample.message
    text = generate_text(collector.metrics).decode()
    assert _value(text, 'nms_snmp_walk_anomalies_total{device="capped",kind="short_reply"}') >= 1
    for table, names in ((IF_TABLE, ("ifDescr", "ifType", "ifAdminStatus", "ifOperStatus")),
                         (IF_X_TABLE, ("ifName", "ifHighSpeed"))):
        for name in names:
            root = ".".join(map(str, table[name]))
            expected = {k.removeprefix(root + "."): v for k, v in bulkwalk(agent.v2c_args(), agent.target,
                                                                             root).items()}
            got = {".".join(map(str, i)): (v.decode() if isinstance(v, bytes) else str(v))
                   for i, (_t, v) in sample.columns[name].items()}
            assert got == expected, name
    base = 'device="capped",site="government-001",category="government",role="access"'
    assert _value(text, f'nms_device_temperature_celsius{{{base},sensor="1"}}') == 45.5
    assert f'{base},sensor="2"' not in text
    assert _value(text, 'nms_snmp_decode_errors_total{reason="bad_sensor_scale"}') == 2
    assert 'ifAlias="금천구청 1층"' in text
    assert 'sysLocation="금천구청 전산실"' in text and 'sysName="capped"' in text


def test_scrape_between_polls_reuses_the_rendered_blocks(tmp_path):
    community = pysecrets.token_hex(6)
    responder = Responder({GOOD: device_table("good-sw"), BAD: device_table("bad-sw")}, {}, community.encode())
    try:
        collector = _collector(tmp_path, responder, community)
        _poll(collector, rounds=1)
    finally:
        responder.shutdown()
    blocks = {name: st.rendered for name, st in collector.states.items()}
    first = generate_text(collector.metrics)
    second = generate_text(collector.metrics)
    assert first == second
    assert all(collector.states[n].rendered is b for n, b in blocks.items()), "no block was rendered again"


def test_agent_without_if_x_table_uses_32_bit_counters_with_wraps(tmp_path):
    """No ifXTable: ports are named by ifDescr, 32-bit ifInOctets is exported and the site's sums
    count across its wrap."""
    community = pysecrets.token_hex(6)
    old = device_table("bad-sw", if_x=False)
    old[(*IF_TABLE["ifInOctets"], 1)] = (ber.COUNTER32, 2**32 - 10)
    responder = Responder({GOOD: device_table("good-sw"), BAD: old}, {}, community.encode())
    try:
        collector = _collector(tmp_path, responder, community)
        _poll(collector, rounds=1)
        wrapped = dict(old)
        wrapped[(*IF_TABLE["ifInOctets"], 1)] = (ber.COUNTER32, 5)
        responder.endpoints[BAD].table = type(responder.endpoints[BAD].table).from_values(wrapped)
        _poll(collector, rounds=1)
    finally:
        responder.shutdown()
    state = collector.states["bad-sw"]
    assert state.up and state.wraps == 1
    assert state.octets["ifHCInOctets"] == 15
    text = generate_text(collector.metrics).decode()
    assert 'ifInOctets{device="bad-sw",site="government-001",category="government",role="access",ifIndex="1",' \
           'ifName="GigabitEthernet0/1",ifAlias=""} 5' in text
    assert 'ifHCInOctets{device="bad-sw"' not in text
