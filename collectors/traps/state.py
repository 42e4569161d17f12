"""What the traps told us, bounded: counts by device and trap, link states, reboots, unknown OIDs."""

from __future__ import annotations

import hmac
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.metrics_core import Metric

from collectors.traps.decode import SNMP_TRAPS, Trap

KNOWN = {f"{SNMP_TRAPS}.1": "coldStart", f"{SNMP_TRAPS}.2": "warmStart", f"{SNMP_TRAPS}.3": "linkDown",
         f"{SNMP_TRAPS}.4": "linkUp", f"{SNMP_TRAPS}.5": "authenticationFailure"}
TRAP_NAMES = (*KNOWN.values(), "other")
IF_INDEX = "1.3.6.1.2.1.2.2.1.1."
IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.8."
DROP_REASONS = ("unknown-source", "community", "malformed", "version", "not-a-trap", "no-trap-oid",
                "v3-unsupported", "v3-refused", "too-large", "no-ifindex", "interfaces-full")


@dataclass
class LinkState:
    up: bool
    at: float  # when the trap arrived (wall clock)
    changes: int = 0


@dataclass
class DeviceTraps:
    counts: Counter[str] = field(default_factory=Counter)
    links: dict[int, LinkState] = field(default_factory=dict)
    last_reboot: float | None = None


class TrapState:
    """Updated by the receiver (event loop), read by /metrics (HTTP threads): one lock."""

    def __init__(self, max_interfaces: int, max_unknown_oids: int, link_state_ttl: float):
        self.lock = threading.Lock()
        self.devices: dict[str, DeviceTraps] = {}
        self.unknown_oids: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()
        self.max_interfaces, self.max_unknown_oids, self.ttl = max_interfaces, max_unknown_oids, link_state_ttl

    def drop(self, reason: str) -> None:
        with self.lock:
            self.dropped[reason] += 1

    def accept(self, device: str, trap: Trap, communities: list[bytes] | None) -> str:
        """Apply one trap from a known device; returns the trap's name or the drop reason.

        ``communities``: those a v1/v2c trap may carry; None for a trap already authenticated (v3)."""
        if communities is not None and not any(hmac.compare_digest(trap.community, c) for c in communities):
            self.drop("community")
            return "community"
        name = KNOWN.get(trap.oid, "other")
        now = time.time()
        with self.lock:
            dev = self.devices.setdefault(device, DeviceTraps())
            dev.counts[name] += 1
            if name == "other":
                key = trap.oid if trap.oid in self.unknown_oids or len(self.unknown_oids) < self.max_unknown_oids \
                    else "other"
                self.unknown_oids[key[:128]] += 1
            elif name in ("coldStart", "warmStart"):
                dev.last_reboot = now
                dev.links.clear()  # every port starts over; the polls tell the new states
            elif name in ("linkDown", "linkUp"):
                index = _if_index(trap)
                if index is None:
                    self.dropped["no-ifindex"] += 1
                    return name
                link = dev.links.get(index)
                if link is None:
                    if len(dev.links) >= self.max_interfaces:
                        self.dropped["interfaces-full"] += 1
                        return name
                    link = dev.links[index] = LinkState(up=name == "linkUp", at=now)
                link.up, link.at, link.changes = name == "linkUp", now, link.changes + 1
        return name

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        now = time.time()
        traps = Metric("nms_snmp_traps", "Traps received from inventory devices, by device and trap "
                       "(coldStart, warmStart, linkDown, linkUp, authenticationFailure, other)", "counter")
        state = Metric("nms_snmp_trap_link_state", "Port state from the last linkDown (0) or linkUp (1) trap, "
                       "published for traps.link_state_ttl seconds (newer than the last poll's ifOperStatus "
                       "when nms_snmp_trap_link_timestamp_seconds is)", "gauge")
        stamp = Metric("nms_snmp_trap_link_timestamp_seconds", "When that link trap arrived", "gauge")
        changes = Metric("nms_snmp_trap_link_changes", "linkDown and linkUp traps by device and port", "counter")
        reboot = Metric("nms_snmp_trap_reboot_timestamp_seconds", "When the last coldStart/warmStart arrived",
                        "gauge")
        unknown = Metric("nms_snmp_traps_unknown", "Traps of an OID the receiver does not know, by OID "
                         "(bounded by traps.max_unknown_oids; the rest as 'other')", "counter")
        dropped = Metric("nms_snmp_traps_dropped", "Datagrams not taken as traps, by reason", "counter")
        unknown_source = Metric("nms_snmp_traps_unknown_source", "Datagrams from addresses that are no "
                                "inventory device (counted, never trusted)", "counter")
        with self.lock:
            for device, dev in sorted(self.devices.items()):
                for name in TRAP_NAMES:
                    traps.add_sample("nms_snmp_traps_total", {"device": device, "trap": name}, dev.counts[name])
                for index, link in sorted(dev.links.items()):
                    labels = {"device": device, "ifIndex": str(index)}
                    changes.add_sample("nms_snmp_trap_link_changes_total", labels, link.changes)
                    if now - link.at <= self.ttl:
                        state.add_sample(state.name, labels, 1.0 if link.up else 0.0)
                        stamp.add_sample(stamp.name, labels, link.at)
                if dev.last_reboot is not None:
                    reboot.add_sample(reboot.name, {"device": device}, dev.last_reboot)
            for oid, n in sorted(self.unknown_oids.items()):
                unknown.add_sample("nms_snmp_traps_unknown_total", {"oid": oid}, n)
            for reason in DROP_REASONS:
                if reason != "unknown-source":
                    dropped.add_sample("nms_snmp_traps_dropped_total", {"reason": reason}, self.dropped[reason])
            unknown_source.add_sample("nms_snmp_traps_unknown_source_total", {}, self.dropped["unknown-source"])
        yield from (traps, state, stamp, changes, reboot, unknown, dropped, unknown_source)


def _if_index(trap: Trap) -> int | None:
    for oid, value in trap.varbinds.items():
        if oid.startswith(IF_INDEX) and isinstance(value, int):
            return value
    for oid in trap.varbinds:  # no ifIndex varbind: take the index from ifOperStatus.<index>
        if oid.startswith(IF_OPER_STATUS) and oid[len(IF_OPER_STATUS):].isdigit():
            return int(oid[len(IF_OPER_STATUS):])
    return None
