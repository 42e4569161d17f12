"""Site rollups across counter drops: a wrap adds the distance to the top, a reset adds nothing.

Real agents reboot between the sysUpTime read and the counter walk of one poll, and operators clear
counters by hand: the counter drops while sysUpTime has not. Counted as a wrap, such a drop would add
almost 2^64 bytes to the site (2.7e19 bit/s on a dashboard), so a drop is a wrap only when the bytes
it implies fit the link between two polls.
"""

from __future__ import annotations

from collectors.snmp import ber
from collectors.snmp.poller import DeviceSample
from collectors.snmp.state import DeviceState, plausible_wrap
from nms.inventory.models import Device

TOP64 = 1 << 64
PORT = (1,)


def _sample(started: float, uptime: int, octets: int, *, speed_mbps: int | None = 1000,
            tag: int = ber.COUNTER64) -> DeviceSample:
    columns: dict = {"ifHCInOctets" if tag == ber.COUNTER64 else "ifInOctets": {PORT: (tag, octets)}}
    if speed_mbps is not None:
        columns["ifHighSpeed"] = {PORT: (ber.GAUGE32, speed_mbps)}
    return DeviceSample(device="acc-sw-01", started=started, ok=True, scalars={"sysUpTime": uptime},
                        columns=columns)


def _state() -> DeviceState:
    device = Device(name="acc-sw-01", role="access", site="government-001", address="127.0.0.1",
                    profile="switch", credentials="district-v2c")
    return DeviceState(device=device, site="government-001", category="government")


def test_a_counter64_passing_the_top_is_a_wrap() -> None:
    state = _state()
    state.record(_sample(0, 1000, TOP64 - 5_000_000))
    state.record(_sample(30, 4000, 7_000_000))
    assert state.wraps == 1 and state.reboots == 0
    assert state.octets["ifHCInOctets"] == 12_000_000


def test_a_reboot_between_uptime_read_and_counter_walk_adds_nothing() -> None:
    state = _state()
    state.record(_sample(0, 900_000, 4_000_000_000_000))
    state.record(_sample(30, 903_000, 2_000_000))  # counters restarted; this poll's sysUpTime was read before
    assert state.wraps == 0, "a reset is not a wrap"
    assert state.octets["ifHCInOctets"] == 0
    state.record(_sample(60, 3_000, 9_000_000))  # the next poll sees the reboot: counted from zero once
    assert state.reboots == 1 and state.octets["ifHCInOctets"] == 9_000_000


def test_counters_cleared_by_hand_continue_from_the_reset_value() -> None:
    state = _state()
    state.record(_sample(0, 1000, 800_000_000_000))
    state.record(_sample(30, 4000, 1_000))
    state.record(_sample(60, 7000, 3_001_000))
    assert state.wraps == 0 and state.octets["ifHCInOctets"] == 3_000_000


def test_a_counter32_wrap_is_judged_by_the_link_speed() -> None:
    state = _state()
    state.record(_sample(0, 1000, (1 << 32) - 100_000_000, speed_mbps=100, tag=ber.COUNTER32))
    state.record(_sample(30, 4000, 200_000_000, speed_mbps=100, tag=ber.COUNTER32))  # 300 MB in 30 s on 100 Mbit/s
    assert state.wraps == 1 and state.octets["ifHCInOctets"] == 300_000_000
    slow = _state()
    slow.record(_sample(0, 1000, 3_000_000_000, speed_mbps=10, tag=ber.COUNTER32))
    slow.record(_sample(30, 4000, 1_000, speed_mbps=10, tag=ber.COUNTER32))  # 1.3 GB in 30 s on 10 Mbit/s: a reset
    assert slow.wraps == 0 and slow.octets["ifHCInOctets"] == 0


def test_without_a_speed_a_wrap_must_come_from_the_top_half() -> None:
    assert plausible_wrap(1 << 40, TOP64, None, 30)
    assert not plausible_wrap(TOP64 - 1_000_000, TOP64, None, 30)
    assert plausible_wrap(125_000_000 * 60, TOP64, 1000, 30)  # twice a 1 Gbit/s link's 30 s
    assert not plausible_wrap(125_000_000 * 61 + (1 << 21), TOP64, 1000, 30)
