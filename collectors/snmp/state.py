"""The collector's memory of each device: last sample, reboot and wrap detection, health counters.

Raw IF-MIB values are exported as the device reports them (as snmp_exporter does). Site rollups
need sums that survive reboots and wraps, so they accumulate per-poll deltas here: a drop in
sysUpTime is a reboot (the new value counts from zero), a drop in a counter without one is a wrap
(the distance to the counter's maximum is added).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from collectors.snmp import ber
from collectors.snmp.poller import DeviceSample
from nms.inventory.models import Device

TICKS_WRAP = 1 << 32
ROLLUP_COLUMNS = ("ifHCInOctets", "ifHCOutOctets")
_WIDTH = {ber.COUNTER64: 1 << 64, ber.COUNTER32: 1 << 32}


@dataclass
class DeviceState:
    device: Device
    site: str
    category: str
    last: DeviceSample | None = None
    last_ok: DeviceSample | None = None
    polls: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    reboots: int = 0
    wraps: int = 0
    octets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ROLLUP_COLUMNS, 0))
    down_since: float | None = None
    """Start of the first failed poll after the last success (or of the first poll): None while up."""

    @property
    def up(self) -> bool:
        return self.last is not None and self.last.ok

    def record(self, sample: DeviceSample) -> None:
        self.polls += 1
        if not sample.ok:
            self.errors[sample.error or "unknown"] += 1
            self.last = sample
            if self.down_since is None:
                self.down_since = sample.started
            return
        self.down_since = None
        previous = self.last_ok
        if previous is not None:
            self._account(previous, sample)
        self.last = self.last_ok = sample

    def _account(self, old: DeviceSample, new: DeviceSample) -> None:
        old_up, new_up = old.scalars.get("sysUpTime"), new.scalars.get("sysUpTime")
        rebooted = isinstance(old_up, int) and isinstance(new_up, int) and new_up < old_up and not (
            # sysUpTime itself wraps after 497 days: a drop from near the top is that, not a reboot
            old_up > TICKS_WRAP - 100 * 3600 and new_up < 100 * 3600)
        if rebooted:
            self.reboots += 1
        for column in ROLLUP_COLUMNS:
            before, after = old.columns.get(column, {}), new.columns.get(column, {})
            total = 0
            for index, (tag, value) in after.items():
                if not isinstance(value, int):
                    continue
                prior = before.get(index)
                if rebooted or prior is None or not isinstance(prior[1], int):
                    total += value if rebooted else 0
                elif value >= prior[1]:
                    total += value - prior[1]
                else:
                    self.wraps += 1
                    total += value + _WIDTH.get(tag, 1 << 64) - prior[1]
            self.octets[column] += total
