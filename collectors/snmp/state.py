"""The collector's memory of each device: last sample, reboot and wrap detection, health counters.

Raw IF-MIB values are exported as the device reports them (as snmp_exporter does). Site rollups
need sums that survive reboots and wraps, so they accumulate per-poll deltas here: a drop in
sysUpTime is a reboot (the new value counts from zero), a drop in a counter without one is a wrap
(the distance to the counter's maximum is added) when that distance fits the link in the time
between the polls. Otherwise the counter was reset (a reboot that fell between the sysUpTime read
and the counter walk, or counters cleared by hand): nothing is added for that poll, and the next
poll counts from the reset value, so a reset never adds 2^64 bytes to a site. Interfaces without 64-bit counters (agents
without ifXTable) are summed from the 32-bit ``ifInOctets``/``ifOutOctets``.

State changes are logged once: a device going down (with the reason), coming back (with the
outage's length), and each kind of value that could not be shown.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from collectors.snmp import ber
from collectors.snmp.poller import DeviceSample
from nms.inventory.models import Device

log = logging.getLogger(__name__)

TICKS_WRAP = 1 << 32
# Columns kept from a poll once its block is rendered: the rollups' and the admin page's.
KEPT_COLUMNS = frozenset(("ifHCInOctets", "ifHCOutOctets", "ifInOctets", "ifOutOctets", "apClients"))
# rollup key -> (64-bit column, 32-bit fallback)
ROLLUP_COLUMNS = {"ifHCInOctets": ("ifHCInOctets", "ifInOctets"), "ifHCOutOctets": ("ifHCOutOctets", "ifOutOctets")}
_WIDTH = {ber.COUNTER64: 1 << 64, ber.COUNTER32: 1 << 32}


def _octets(sample: DeviceSample, wide: str, narrow: str) -> dict[tuple[int, ...], tuple[int, object]]:
    """Per interface, the 64-bit counter where the agent has one, else the 32-bit one."""
    out = dict(sample.columns.get(narrow) or {})
    out.update(sample.columns.get(wide) or {})
    return out


WRAP_SLACK_BYTES = 1 << 20
"""Allowance over the link's capacity for a wrap (polls are timed by the collector, not the agent)."""


def plausible_wrap(distance: int, width: int, speed_mbps: object, elapsed: float) -> bool:
    """Whether a counter drop that implies ``distance`` bytes travelled is a wrap rather than a reset.

    With the interface's ``ifHighSpeed`` known, the distance must fit twice the link's capacity over
    the time between the polls; without it, it must be under half the counter's range (a reset from
    anywhere but the top implies a distance near the whole range)."""
    if type(speed_mbps) is int and speed_mbps > 0:
        return distance <= speed_mbps * 125_000 * 2 * max(elapsed, 1.0) + WRAP_SLACK_BYTES
    return distance < width // 2


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


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
    anomalies: Counter[str] = field(default_factory=Counter)  # GETBULK anomalies (walk.ANOMALY_KINDS)
    down_since: float | None = None  # wall clock of the first failed poll of the current outage
    version: int = 0  # bumped by every poll: the rendered block below is valid for one version
    rendered: tuple[int, object] | None = None  # (version, metrics.Block)
    render_problems: Counter[str] = field(default_factory=Counter)
    _noted: set[str] = field(default_factory=set)

    @property
    def up(self) -> bool:
        return self.last is not None and self.last.ok

    def record(self, sample: DeviceSample) -> None:
        self.polls += 1
        self.anomalies.update(sample.anomalies)
        self._log_transition(sample)
        if not sample.ok:
            self.errors[sample.error or "unknown"] += 1
            self.last = sample
        else:
            previous = self.last_ok
            if previous is not None:
                self._account(previous, sample)
            self.last = self.last_ok = sample
        self.version += 1

    def slim(self) -> None:
        """Forget what the rendered block already shows: only the columns later polls compare
        with stay (10,000 devices' full samples would cost 100 MB)."""
        last = self.last
        if last is not None and last.columns and not last.columns.keys() <= KEPT_COLUMNS:
            last.columns = {k: v for k, v in last.columns.items() if k in KEPT_COLUMNS}
        if last is not None:  # numbers (sysUpTime...) stay; strings are in the rendered labels
            last.scalars = {k: v for k, v in last.scalars.items() if type(v) is int}

    def _log_transition(self, sample: DeviceSample) -> None:
        where = f"{self.device.name} ({self.device.address}:{self.device.port})"
        if not sample.ok and self.down_since is None:
            self.down_since = sample.started
            log.warning("device %s is down: %s", where, sample.message or sample.error)
        elif sample.ok and self.down_since is not None:
            log.warning("device %s answers again after %s down", where,
                        _duration(sample.started - self.down_since))
            self.down_since = None

    def note_problem(self, reason: str, detail: str) -> None:
        """Log a value problem once per device and reason (it is counted every time)."""
        if reason not in self._noted:
            self._noted.add(reason)
            log.warning("device %s: some values not shown (%s): %s", self.device.name, reason, detail)

    def _account(self, old: DeviceSample, new: DeviceSample) -> None:
        old_up, new_up = old.scalars.get("sysUpTime"), new.scalars.get("sysUpTime")
        rebooted = isinstance(old_up, int) and isinstance(new_up, int) and new_up < old_up and not (
            # sysUpTime itself wraps after 497 days: a drop from near the top is that, not a reboot
            old_up > TICKS_WRAP - 100 * 3600 and new_up < 100 * 3600)
        if rebooted:
            self.reboots += 1
        speeds = new.columns.get("ifHighSpeed") or {}
        elapsed = new.started - old.started
        for key, (wide, narrow) in ROLLUP_COLUMNS.items():
            before, after = _octets(old, wide, narrow), _octets(new, wide, narrow)
            total = 0
            for index, (tag, value) in after.items():
                if type(value) is not int or not 0 <= value < _WIDTH.get(tag, 1 << 64):
                    continue
                prior = before.get(index)
                if rebooted:
                    total += value
                elif prior is None or type(prior[1]) is not int or prior[0] != tag:
                    continue  # a new interface, or it changed between 32 and 64 bits: no delta yet
                elif value >= prior[1]:
                    total += value - prior[1]
                else:
                    width = _WIDTH.get(tag, 1 << 64)
                    distance = value + width - prior[1]
                    speed = speeds.get(index, (None, None))[1]
                    if plausible_wrap(distance, width, speed, elapsed):
                        self.wraps += 1
                        total += distance
            self.octets[key] += total
