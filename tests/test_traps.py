"""The SNMP trap receiver (collectors/traps) against net-snmp's real ``snmptrap`` on loopback.

Traps are sent from the devices' own loopback addresses (``--clientaddr``), so the receiver
identifies them by source as it would on the network.
"""

from __future__ import annotations

import asyncio
import random
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from collectors.snmp.service import SnmpCollector
from collectors.traps.service import TrapReceiverService
from lab import LabOptions, start_agents
from nms.app.district import load_district
from nms.secrets import SecretResolver
from tests.district_builder import device, write_district
from tests.lab_fixtures import free_tcp_port, free_udp_port
from tests.service_runner import RunningService

COMMUNITY = "trap-community-test"
LINK_DOWN, LINK_UP = "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.6.3.1.1.5.4"
COLD_START, AUTH_FAILURE = "1.3.6.1.6.3.1.1.5.1", "1.3.6.1.6.3.1.1.5.5"
IF_INDEX, IF_OPER = "1.3.6.1.2.1.2.2.1.1", "1.3.6.1.2.1.2.2.1.8"


def snmptrap(port: int, source: str, oid: str, *binds: str, community: str = COMMUNITY,
             version: str = "2c") -> None:
    tool = shutil.which("snmptrap")
    assert tool, "snmptrap is missing: install the Debian package 'snmp' (run `make setup`)"
    cmd = [tool, f"-v{version}", "-c", community, f"--clientaddr={source}", f"127.0.0.1:{port}"]
    cmd += ["1.3.6.1.4.1.8072", source, "6", "1", ""] if version == "1" else ["", oid]
    subprocess.run([*cmd, *binds], check=True, capture_output=True, timeout=10)


def samples(text: str, name: str) -> dict[str, float]:
    return {m.group(1): float(m.group(2)) for m in re.finditer(rf"^{name}(\{{.*?\}}) (\S+)$", text, re.M)}


class Receiver:
    """A TrapReceiverService on its own event loop thread, as `nms run` runs it."""

    def __init__(self, tmp: Path, hosts: list[str], **traps) -> None:
        (tmp / "secrets").mkdir(parents=True, exist_ok=True)
        (tmp / "secrets" / "district-v2c").write_text(COMMUNITY + "\n")
        (tmp / "secrets" / "trap-auth").write_text("trap-auth-passphrase\n")
        (tmp / "secrets" / "trap-priv").write_text("trap-priv-passphrase\n")
        devices = [device(f"acc-sw-{i + 1:02d}", "access", h, 161) for i, h in enumerate(hosts)]
        config = write_district(tmp / "district", devices)
        settings = yaml.safe_load(config.read_text())
        settings["traps"] = {"enabled": True, "listen": "127.0.0.1:0", **traps}
        config.write_text(yaml.safe_dump(settings))
        self.service = TrapReceiverService(load_district(config), SecretResolver(tmp / "secrets", environ={}))
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self.service.start(), self.loop).result(10)
        self.port = self.service.port

    def text(self) -> str:
        return "".join(f"{s.name}{{{','.join(f'{k}={v!r}' for k, v in sorted(s.labels.items()))}}} {s.value}\n"
                       .replace("'", '"') for m in self.service.collectors() for f in m.collect() for s in f.samples)

    def wait(self, name: str, labels: str, value: float, timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            if samples(text, name).get(labels) == value:
                return text
            time.sleep(0.05)
        raise AssertionError(f"{name}{labels} never became {value}:\n{self.text()}")

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.service.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture
def hosts() -> list[str]:
    net = f"127.{random.randint(100, 250)}.{random.randint(0, 250)}"
    return [f"{net}.{i}" for i in (1, 2)]


@pytest.fixture
def receiver(tmp_path: Path, hosts: list[str]) -> Iterator[Receiver]:
    r = Receiver(tmp_path, hosts, max_unknown_oids=3, max_interfaces=4)
    yield r
    r.close()


def test_link_reboot_and_auth_traps_by_device_and_port(receiver: Receiver, hosts: list[str]) -> None:
    snmptrap(receiver.port, hosts[0], LINK_DOWN, f"{IF_INDEX}.5", "i", "5", f"{IF_OPER}.5", "i", "2")
    text = receiver.wait("nms_snmp_trap_link_state", '{device="acc-sw-01",ifIndex="5"}', 0.0)
    assert samples(text, "nms_snmp_traps_total")['{device="acc-sw-01",trap="linkDown"}'] == 1
    snmptrap(receiver.port, hosts[0], LINK_UP, f"{IF_INDEX}.5", "i", "5", f"{IF_OPER}.5", "i", "1")
    text = receiver.wait("nms_snmp_trap_link_state", '{device="acc-sw-01",ifIndex="5"}', 1.0)
    assert samples(text, "nms_snmp_trap_link_changes_total")['{device="acc-sw-01",ifIndex="5"}'] == 2
    # SNMPv1 linkDown (generic-trap 2) from the second switch: ifIndex from the varbind
    subprocess.run([shutil.which("snmptrap"), "-v1", "-c", COMMUNITY, f"--clientaddr={hosts[1]}",
                    f"127.0.0.1:{receiver.port}", "1.3.6.1.4.1.6296", hosts[1], "2", "0", "",
                    f"{IF_INDEX}.7", "i", "7"], check=True, capture_output=True, timeout=10)
    receiver.wait("nms_snmp_trap_link_state", '{device="acc-sw-02",ifIndex="7"}', 0.0)
    snmptrap(receiver.port, hosts[0], AUTH_FAILURE)
    snmptrap(receiver.port, hosts[0], AUTH_FAILURE)
    receiver.wait("nms_snmp_traps_total", '{device="acc-sw-01",trap="authenticationFailure"}', 2.0)
    snmptrap(receiver.port, hosts[0], COLD_START)
    text = receiver.wait("nms_snmp_traps_total", '{device="acc-sw-01",trap="coldStart"}', 1.0)
    assert '{device="acc-sw-01"}' in samples(text, "nms_snmp_trap_reboot_timestamp_seconds")
    # a reboot forgets the trap link states: every port starts over and the polls tell
    assert '{device="acc-sw-01",ifIndex="5"}' not in samples(text, "nms_snmp_trap_link_state")


def test_untrusted_and_broken_input_is_counted_not_believed(receiver: Receiver, hosts: list[str]) -> None:
    stranger = hosts[0].rsplit(".", 1)[0] + ".99"
    snmptrap(receiver.port, stranger, LINK_DOWN, f"{IF_INDEX}.1", "i", "1")
    receiver.wait("nms_snmp_traps_unknown_source_total", "{}", 1.0)
    snmptrap(receiver.port, hosts[0], LINK_DOWN, f"{IF_INDEX}.1", "i", "1", community="guessed")
    text = receiver.wait("nms_snmp_traps_dropped_total", '{reason="community"}', 1.0)
    assert "acc-sw-01" not in "".join(samples(text, "nms_snmp_trap_link_state"))
    subprocess.run([shutil.which("snmptrap"), "-v3", "-u", "someone", "-l", "noAuthNoPriv", "-e",
                    "0x80001f8880aabbccdd", f"--clientaddr={hosts[0]}", f"127.0.0.1:{receiver.port}", "",
                    COLD_START], check=True, capture_output=True, timeout=10)
    receiver.wait("nms_snmp_traps_dropped_total", '{reason="v3-unsupported"}', 1.0)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((hosts[0], 0))
        s.sendto(b"\x30\x03\x02\x01", ("127.0.0.1", receiver.port))  # truncated BER
        s.sendto(b"\x30" + b"\xff" * 9000, ("127.0.0.1", receiver.port))
    receiver.wait("nms_snmp_traps_dropped_total", '{reason="malformed"}', 1.0)
    receiver.wait("nms_snmp_traps_dropped_total", '{reason="too-large"}', 1.0)
    # unknown trap OIDs: counted by OID up to max_unknown_oids (3), the rest as "other"
    for i in range(6):
        snmptrap(receiver.port, hosts[0], f"1.3.6.1.4.1.99999.0.{i}")
    text = receiver.wait("nms_snmp_traps_total", '{device="acc-sw-01",trap="other"}', 6.0)
    unknown = samples(text, "nms_snmp_traps_unknown_total")
    assert len(unknown) == 4 and unknown['{oid="other"}'] == 3, unknown
    # link states per device are bounded too (max_interfaces 4)
    for index in range(10, 16):
        snmptrap(receiver.port, hosts[1], LINK_DOWN, f"{IF_INDEX}.{index}", "i", str(index))
    text = receiver.wait("nms_snmp_traps_dropped_total", '{reason="interfaces-full"}', 2.0)
    assert sum(1 for k in samples(text, "nms_snmp_trap_link_state") if "acc-sw-02" in k) == 4


def test_link_down_shows_the_port_down_before_the_next_poll(lab_run_dir: Path) -> None:
    """A real snmpsim switch polled once (the next poll is 10 minutes away), then a linkDown trap."""
    host = f"127.{random.randint(100, 250)}.{random.randint(0, 250)}.1"
    port = free_udp_port([host])
    config = write_district(lab_run_dir / "district", [device("acc-sw-01", "access", host, port)],
                            interval=600, timeout=1.0, retries=1, listen=f"127.0.0.1:{free_tcp_port()}")
    settings = yaml.safe_load(config.read_text())
    settings["traps"] = {"enabled": True, "listen": "127.0.0.1:0"}
    config.write_text(yaml.safe_dump(settings))
    district = load_district(config)
    agents = start_agents(district, lab_run_dir, process_per_device=True,
                          options=LabOptions(down=[], reboot=[], wrap=[]))
    try:
        resolver = SecretResolver(agents.secrets_dir, environ={})
        traps = TrapReceiverService(district, resolver)
        with RunningService(config, services=[SnmpCollector(district, resolver), traps]) as service:
            text = service.wait_scrape(lambda t: "ifOperStatus{" in t, 30)
            assert text, "the first poll never completed"
            oper = {k: v for k, v in samples(text, "ifOperStatus").items() if 'device="acc-sw-01"' in k}
            up_index = next(re.search(r'ifIndex="(\d+)"', k).group(1) for k, v in oper.items() if v == 1)
            polled_at = samples(text, "nms_snmp_last_poll_timestamp_seconds")
            community = resolver.get("district-v2c")
            snmptrap(traps.port, host, LINK_DOWN, f"{IF_INDEX}.{up_index}", "i", up_index,
                     f"{IF_OPER}.{up_index}", "i", "2", community=community)
            labels = f'{{device="acc-sw-01",ifIndex="{up_index}"}}'
            after = service.wait_scrape(lambda t: samples(t, "nms_snmp_trap_link_state").get(labels) == 0.0, 10)
    finally:
        agents.stop()
    assert after, "the linkDown trap never showed"
    # still the old poll: the poll says up, the trap (newer than the poll) says down
    assert samples(after, "nms_snmp_last_poll_timestamp_seconds") == polled_at
    poll_oper = {k: v for k, v in samples(after, "ifOperStatus").items() if f'ifIndex="{up_index}"' in k}
    assert list(poll_oper.values()) == [1.0]
    trap_at = samples(after, "nms_snmp_trap_link_timestamp_seconds")[labels]
    assert trap_at > max(polled_at.values())


ENGINE_ID = "80001f8880c0ffee0001"


def v3trap(port: int, source: str, *binds: str, auth: str = "trap-auth-passphrase",
           engine_id: str = ENGINE_ID) -> None:
    subprocess.run([shutil.which("snmptrap"), "-v3", "-u", "nms-trap", "-l", "authPriv", "-a", "SHA", "-A", auth,
                    "-x", "AES", "-X", "trap-priv-passphrase", "-e", f"0x{engine_id}", f"--clientaddr={source}",
                    f"127.0.0.1:{port}", "", LINK_DOWN, *binds], check=True, capture_output=True, timeout=10)


def test_v3_traps_with_the_configured_user_and_engine(tmp_path: Path, hosts: list[str]) -> None:
    user = {"user": "nms-trap", "auth_protocol": "sha", "auth_secret": "trap-auth", "priv_protocol": "aes",
            "priv_secret": "trap-priv", "engine_ids": [ENGINE_ID]}
    r = Receiver(tmp_path, hosts, v3_users=[user])
    try:
        v3trap(r.port, hosts[0], f"{IF_INDEX}.9", "i", "9")
        text = r.wait("nms_snmp_trap_link_state", '{device="acc-sw-01",ifIndex="9"}', 0.0)
        assert samples(text, "nms_snmp_traps_total")['{device="acc-sw-01",trap="linkDown"}'] == 1
        v3trap(r.port, hosts[0], f"{IF_INDEX}.8", "i", "8", auth="guessed-passphrase")  # wrong key
        r.wait("nms_snmp_traps_dropped_total", '{reason="v3-refused"}', 1.0)
        v3trap(r.port, hosts[1], f"{IF_INDEX}.8", "i", "8", engine_id="80001f8880c0ffee0002")  # unknown engine
        text = r.wait("nms_snmp_traps_dropped_total", '{reason="v3-refused"}', 2.0)
        assert '{device="acc-sw-01",ifIndex="8"}' not in samples(text, "nms_snmp_trap_link_state")
        assert not any("acc-sw-02" in k for k in samples(text, "nms_snmp_traps_total"))
    finally:
        r.close()
