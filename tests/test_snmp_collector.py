"""The SNMP collector against real agents (net-snmp snmpd): values, v3, failures, reloads."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path

import pytest
import yaml

from collectors.snmp.plan import IF_TABLE, IF_X_TABLE
from collectors.snmp.service import SnmpCollector
from nms.app.district import load_district
from nms.exposition import generate_text
from nms.secrets import SecretResolver
from tests.district_builder import device, write_district
from tests.service_runner import RunningService, wait_for  # noqa: F401
from tests.snmp_agents import bulkwalk, free_udp_port, start_snmpd


@pytest.fixture
def agent(tmp_path):
    a = start_snmpd(tmp_path / "snmpd-a", "127.0.0.61", "agent-a")
    yield a
    a.stop()


@pytest.fixture
def agent_b(tmp_path):
    b = start_snmpd(tmp_path / "snmpd-b", "127.0.0.62", "agent-b")
    yield b
    b.stop()


def _secrets(agent) -> SecretResolver:
    env = {"NMS_SECRET_DISTRICT_V2C": agent.community, "NMS_SECRET_DISTRICT_V3_AUTH": agent.auth_key,
           "NMS_SECRET_DISTRICT_V3_PRIV": agent.priv_key}
    return SecretResolver(Path("/nonexistent"), environ=env)


async def _poll_once(config: Path, secrets: SecretResolver, name: str):
    collector = SnmpCollector(load_district(config), secrets)
    await collector.poller.open()
    try:
        dev = next(d for d in collector.devices() if d.name == name)
        return await collector.poll_device(dev), collector
    finally:
        collector.poller.close()


def _column_text(column: dict) -> dict[str, str]:
    out = {}
    for index, (_tag, value) in column.items():
        key = ".".join(map(str, index))
        out[key] = value.decode() if isinstance(value, bytes) else str(value)
    return out


def _check_against_snmpbulkwalk(agent, args: list[str], sample) -> None:
    assert sample.ok, sample.message
    for name in ("ifName", "ifAlias", "ifHighSpeed"):
        root = ".".join(map(str, IF_X_TABLE[name]))
        expected = {k.removeprefix(root + "."): v for k, v in bulkwalk(args, agent.target, root).items()}
        assert _column_text(sample.columns[name]) == expected, name
    for name in ("ifDescr", "ifType", "ifAdminStatus", "ifOperStatus"):
        root = ".".join(map(str, IF_TABLE[name]))
        expected = {k.removeprefix(root + "."): v for k, v in bulkwalk(args, agent.target, root).items()}
        assert _column_text(sample.columns[name]) == expected, name
    # Counters move while we look: the collector's reading lies between two walks of the same agent.
    root = ".".join(map(str, IF_X_TABLE["ifHCInOctets"]))
    after = {k.removeprefix(root + "."): int(v) for k, v in bulkwalk(args, agent.target, root).items()}
    got = {k: int(v) for k, v in _column_text(sample.columns["ifHCInOctets"]).items()}
    assert got.keys() == after.keys()
    assert all(got[k] <= after[k] for k in got)
    assert sample.scalars["sysName"] == b"agent-a"


def test_v2c_values_equal_snmpbulkwalk(tmp_path, agent):
    config = write_district(tmp_path / "cfg", [device("sw-a", "access", agent.host, agent.port)])
    sample, _ = asyncio.run(_poll_once(config, _secrets(agent), "sw-a"))
    _check_against_snmpbulkwalk(agent, agent.v2c_args(), sample)


def test_v3_authpriv_values_equal_snmpbulkwalk(tmp_path, agent):
    config = write_district(tmp_path / "cfg", [device("bb-a", "backbone", agent.host, agent.port,
                                                      credentials="district-v3")])
    sample, _ = asyncio.run(_poll_once(config, _secrets(agent), "bb-a"))
    _check_against_snmpbulkwalk(agent, agent.v3_args(), sample)


def test_wrong_community_is_a_counted_timeout_not_a_crash(tmp_path, agent):
    config = write_district(tmp_path / "cfg", [device("sw-a", "access", agent.host, agent.port)])
    wrong = SecretResolver(Path("/nonexistent"), environ={"NMS_SECRET_DISTRICT_V2C": "not-the-community"})
    sample, collector = asyncio.run(_poll_once(config, wrong, "sw-a"))
    assert not sample.ok and sample.error == "timeout"
    text = generate_text(collector.metrics).decode()
    assert 'nms_device_up{device="sw-a",site="government-001",category="government",role="access"} 0' in text
    assert 'nms_snmp_poll_errors_total{device="sw-a",role="access",reason="timeout"} 1' in text


def test_missing_secret_names_where_to_put_it(tmp_path, agent):
    config = write_district(tmp_path / "cfg", [device("sw-a", "access", agent.host, agent.port)])
    sample, _ = asyncio.run(_poll_once(config, SecretResolver(tmp_path / "none", environ={}), "sw-a"))
    assert sample.error == "missing_secret"
    assert "NMS_SECRET_DISTRICT_V2C" in sample.message and str(tmp_path / "none" / "district-v2c") in sample.message


def test_exposition_uses_snmp_exporter_names(tmp_path, agent):
    config = write_district(tmp_path / "cfg", [device("sw-a", "access", agent.host, agent.port)])
    _, collector = asyncio.run(_poll_once(config, _secrets(agent), "sw-a"))
    text = generate_text(collector.metrics).decode()
    assert "# TYPE ifHCInOctets counter\n" in text
    assert "# TYPE ifOperStatus gauge\n" in text
    assert '\nifHCInOctets{device="sw-a",site="government-001",category="government",role="access",' \
           'ifIndex="1",ifName="lo",ifAlias=""} ' in text
    assert 'nms_device_up{device="sw-a",site="government-001",category="government",role="access"} 1' in text


def _metric_value(text: str, prefix: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.rsplit(" ", 1)[1])
    return None


def _up(text: str, name: str) -> float | None:
    return _metric_value(text, f'nms_device_up{{device="{name}",')


def test_device_taken_down_shows_up_0_within_one_interval(tmp_path, agent, agent_b):
    interval = 2.0
    config = write_district(tmp_path / "cfg", [device("sw-a", "access", agent.host, agent.port),
                                               device("sw-b", "access", agent_b.host, agent_b.port)],
                            interval=interval, timeout=0.5, retries=0)
    # each agent has its own community, so the second device gets a credential set of its own
    inv = yaml.safe_load((tmp_path / "cfg" / "inventory.yaml").read_text())
    inv["devices"][1]["credentials"] = "lab-b"
    (tmp_path / "cfg" / "inventory.yaml").write_text(yaml.safe_dump(inv, allow_unicode=True))
    snmp = yaml.safe_load((tmp_path / "cfg" / "snmp.yaml").read_text())
    snmp["credentials"]["lab-b"] = {"version": "2c"}
    (tmp_path / "cfg" / "snmp.yaml").write_text(yaml.safe_dump(snmp))
    secrets = SecretResolver(Path("/nonexistent"), environ={"NMS_SECRET_DISTRICT_V2C": agent.community,
                                                             "NMS_SECRET_LAB_B": agent_b.community})
    with RunningService(config, secrets) as svc:
        text = svc.wait_scrape(lambda t: _up(t, "sw-a") == 1 and _up(t, "sw-b") == 1, interval * 4)
        assert text, "both devices should be up first"
        polls_a = _metric_value(text, 'nms_snmp_polls_total{device="sw-a"')
        agent_b.stop()
        taken_down = time.monotonic()
        text = svc.wait_scrape(lambda t: _up(t, "sw-b") == 0, interval * 3)
        assert text, "sw-b should be reported down"
        # within one interval of the first poll that could notice (plus its own 0.5 s budget)
        assert time.monotonic() - taken_down <= interval * 2 + 1.5
        assert _up(text, "sw-a") == 1
        text = svc.wait_scrape(lambda t: _metric_value(t, 'nms_snmp_polls_total{device="sw-a"') > polls_a + 1,
                               interval * 3)
        assert text, "sw-a keeps being polled while sw-b is down"
        assert _up(text, "sw-a") == 1


def test_reload_drops_removed_device_and_refuses_bad_config(tmp_path, agent):
    config = write_district(tmp_path / "cfg", [device("sw-a", "access", agent.host, agent.port),
                                               device("ap-a", "ap", agent.host, free_udp_port(agent.host),
                                                      site="park-001")], interval=1.0, timeout=0.3)
    with RunningService(config, _secrets(agent)) as svc:
        assert svc.wait_scrape(lambda t: _up(t, "sw-a") == 1 and _up(t, "ap-a") == 0, 8)
        inventory_path = tmp_path / "cfg" / "inventory.yaml"
        good = inventory_path.read_text()
        inventory_path.write_text(good + "  - {name: broken\n")
        status, body = svc.reload()
        assert status == 500 and "inventory.yaml" in body and "malformed YAML" in body
        text = svc.scrape()
        assert "nms_config_last_reload_successful 0" in text
        assert 'device="ap-a"' in text, "a refused reload keeps the last good config"
        inv = yaml.safe_load(good)
        inv["devices"] = [d for d in inv["devices"] if d["name"] != "ap-a"]
        inventory_path.write_text(yaml.safe_dump(inv, allow_unicode=True))
        status, body = svc.reload()
        assert status == 200, body
        text = svc.scrape()
        assert 'device="ap-a"' not in text
        assert "nms_config_last_reload_successful 1" in text
        assert svc.wait_scrape(lambda t: _up(t, "sw-a") == 1 and 'device="ap-a"' not in t, 8)


def _request_id_of(request: bytes) -> int:
    """Read a request's request-id with pysnmp, the reference decoder."""
    from pyasn1.codec.ber import decoder
    from pysnmp.proto import api

    module = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    message, _ = decoder.decode(request, asn1Spec=module.Message())
    return int(module.apiMessage.get_pdu(message).getComponentByPosition(0))


class GarbageAgent:
    """Answers every request with a malformed response that still carries the request-id."""

    def __init__(self, host: str, payloads: list[bytes]):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.payloads = payloads
        self.sent = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                data, addr = self.sock.recvfrom(65535)
            except OSError:
                return
            rid = _request_id_of(data)
            body = self.payloads[self.sent % len(self.payloads)]
            self.sent += 1
            # version 1, community "x", Response PDU with the request-id, then a broken body
            rid_tlv = b"\x02\x04" + rid.to_bytes(4, "big")
            pdu = rid_tlv + body
            pdu_tlv = b"\xa2" + bytes([len(pdu)]) + pdu
            msg = b"\x02\x01\x01\x04\x01x" + pdu_tlv
            self.sock.sendto(b"\x30" + bytes([len(msg)]) + msg, addr)

    def close(self) -> None:
        self.sock.close()


def test_malformed_responses_are_counted_decode_errors(tmp_path):
    payloads = [
        b"\x02\x01\x00\x02\x01\x00\x30\x05\x30\x03\x06\x01",  # varbind list shorter than it claims
        b"\x02\x01\x00",  # error-index and varbinds missing
        b"\x02\x01\x00\x02\x01\x00\x30\x04\x30\x02\x06\x00\xff",  # trailing garbage
    ]
    garbage = GarbageAgent("127.0.0.63", payloads)
    try:
        config = write_district(tmp_path / "cfg", [device("sw-g", "access", "127.0.0.63", garbage.port)])
        secrets = SecretResolver(Path("/nonexistent"), environ={"NMS_SECRET_DISTRICT_V2C": "x"})
        collector = SnmpCollector(load_district(config), secrets)

        async def poll_three():
            await collector.poller.open()
            try:
                dev = collector.devices()[0]
                return [await collector.poll_device(dev) for _ in payloads]
            finally:
                collector.poller.close()

        samples = asyncio.run(poll_three())
    finally:
        garbage.close()
    assert all(not s.ok and s.error.startswith("decode_") for s in samples), [s.error for s in samples]
    text = generate_text(collector.metrics).decode()
    total = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                if line.startswith("nms_snmp_decode_errors_total{"))
    assert total == len(payloads)
    assert _up(text, "sw-g") == 0
