"""Which simulated devices misbehave: some are down, some reboot in turn, some counters wrap.

Choices are deterministic (a hash of the device name, not ``random``), so the same district
always has the same faulty devices. Backbone switches and the IPS are never down.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from lab.options import LabOptions
from nms.inventory.models import Device, DeviceRole

MAX_DOWN = 5


@dataclass(frozen=True)
class Reboot:
    period: float  # seconds between two reboots of this device
    phase: float  # a reboot happens at every phase + k * period (epoch seconds)


@dataclass(frozen=True)
class Faults:
    down: tuple[str, ...] = ()
    reboot: dict[str, Reboot] = field(default_factory=dict)
    wrap: dict[str, float] = field(default_factory=dict)  # device -> epoch when its counters wrap


def _rank(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def _by_rank(devices: Sequence[Device], role: DeviceRole) -> list[Device]:
    return sorted((d for d in devices if d.role is role), key=lambda d: _rank(d.name))


def _auto_down(devices: Sequence[Device]) -> list[str]:
    """3 APs of the district's 476 and 1 access switch; never a backbone switch or the IPS."""
    aps = _by_rank(devices, DeviceRole.AP)
    access = _by_rank(devices, DeviceRole.ACCESS)
    down = [d.name for d in aps[: min(3, len(aps) // 150)]]
    if len(access) >= 5:
        down.append(access[0].name)
    return down


def _auto_reboot(devices: Sequence[Device], down: set[str]) -> list[str]:
    def pick(role: DeviceRole, count: int, minimum: int) -> list[str]:
        found = [d.name for d in _by_rank(devices, role) if d.name not in down]
        return found[:count] if len(found) >= minimum else []

    return pick(DeviceRole.ACCESS, 1, 2) + pick(DeviceRole.AP, 2, 50) + pick(DeviceRole.HOST, 1, 2)


def _auto_wrap(devices: Sequence[Device]) -> list[str]:
    backbone = sorted(d.name for d in devices if d.role is DeviceRole.BACKBONE)
    return backbone[:1]


def choose_faults(devices: Sequence[Device], options: LabOptions, now: float) -> Faults:
    """Faults for the active ``devices``. Explicit lists in ``options`` are used as given."""
    by_name = {d.name: d for d in devices}
    for listed in (options.down, options.reboot, options.wrap):
        unknown = sorted(set(listed or ()) - set(by_name))
        if unknown:
            raise ValueError(f"unknown device(s) in lab options: {', '.join(unknown)}")

    down = list(options.down) if options.down is not None else _auto_down(devices)[:MAX_DOWN]

    wrap_names = list(options.wrap) if options.wrap is not None else _auto_wrap(devices)
    wrap_names = [n for n in wrap_names if n not in down]
    reboot_names = (list(options.reboot) if options.reboot is not None
                    else _auto_reboot(devices, set(down) | set(wrap_names)))
    clash = sorted(set(reboot_names) & set(wrap_names))
    if clash:
        raise ValueError(f"a device cannot both reboot and wrap: {', '.join(clash)}")
    reboot_names = [n for n in reboot_names if n not in down]

    interval = options.reboot_interval
    period = interval * max(1, len(reboot_names))
    # Phases are anchored on a whole period so that restarting the lab keeps the same schedule.
    anchor = (now // period) * period if reboot_names else 0.0
    reboot = {name: Reboot(period=period, phase=anchor + i * interval) for i, name in enumerate(reboot_names)}
    wrap_at = float(int(now + options.wrap_after))
    return Faults(down=tuple(down), reboot=reboot, wrap=dict.fromkeys(wrap_names, wrap_at))
