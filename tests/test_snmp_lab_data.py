"""The lab's agents (snmpsim) serve what real devices send, and the collector shows it right:
sensors with precision and in millivolts, two storage rows with one description, CP949 port
descriptions, CPU and memory from the AP and IPS vendors' MIBs, and IF-MIB status for APs."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from collectors.snmp.service import SnmpCollector
from lab import agentdata
from lab.faults import Faults
from nms.exposition import generate_text
from nms.secrets import SecretResolver


def _samples(text: str, name: str, device: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line.startswith(name + "{") and f'device="{device}"' in line:
            labels, value = line.rsplit(" ", 1)
            out[labels] = float(value)
    return out


def test_lab_devices_as_a_noc_reads_them(lab_district, lab_agents):
    collector = SnmpCollector(lab_district, SecretResolver(Path(lab_agents.secrets_dir), environ={}))

    async def poll() -> dict:
        await collector.poller.open()
        try:
            return {d.name: await collector.poll_device(d) for d in collector.devices()}
        finally:
            collector.poller.close()

    samples = asyncio.run(poll())
    assert all(s.ok for s in samples.values()), {n: s.message for n, s in samples.items()}
    text = generate_text(collector.metrics).decode()

    temps = _samples(text, "nms_entity_sensor_value", "acc-sw-01")
    celsius = [v for k, v in temps.items() if 'sensor_type="celsius"' in k]
    assert len(celsius) == 2 and all(25 <= v <= 55 for v in celsius), temps  # precision 1 applied: not 455
    assert any('entPhysicalName="Inlet temperature"' in k for k in temps)
    volts = [v for k, v in temps.items() if 'sensor_type="voltsDC"' in k]
    assert volts and 11.8 <= volts[0] <= 12.2, temps
    assert sorted(_samples(text, "nms_device_temperature_celsius", "acc-sw-01").values()) == sorted(celsius)

    flash = [k for k in _samples(text, "nms_storage_size_bytes", "acc-sw-01") if 'hrStorageDescr="bootflash:"' in k]
    assert len(flash) == 2 and len({k.split("hrStorageIndex=")[1] for k in flash}) == 2, flash

    ctx = agentdata.context_for(next(d for d in lab_district.inventory.devices if d.name == "acc-sw-01"),
                                lab_district.inventory, lab_district.snmp.profiles, Faults(), time.time())
    assert agentdata.alias_codec(ctx) == "cp949"
    aliases = {p.alias for p in agentdata.ports_of(ctx) if p.alias and not p.alias.isascii()}
    shown = {k.split('ifAlias="')[1].split('"')[0] for k in _samples(text, "ifOperStatus", "acc-sw-01")}
    assert aliases and aliases <= shown, "CP949 port descriptions are shown as the Korean text they are"
    assert "\ufffd" not in text and not any(a.startswith("0x") for a in shown)

    for device in ("ap-market-01", "ap-park-01", "ips-01"):
        assert _samples(text, "nms_device_cpu_load_percent", device), device
        used = _samples(text, "nms_device_memory_used_bytes", device)
        size = _samples(text, "nms_device_memory_size_bytes", device)
        assert used and size and all(0 < u < s for u, s in zip(used.values(), size.values(), strict=True)), device
    for device in ("ap-market-01", "ap-park-01"):
        for family in ("ifOperStatus", "ifAdminStatus", "ifLastChange", "ifInErrors", "ifInDiscards", "ifHighSpeed"):
            assert _samples(text, family, device), (device, family)
    for device in samples:
        info = _samples(text, "nms_device_system_info", device)
        assert len(info) == 1 and f'sysName="{device}"' in next(iter(info)), device
        assert _samples(text, "sysUpTime", device), device
