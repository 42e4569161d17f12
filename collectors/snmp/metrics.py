"""Prometheus exposition of polled state, as a custom collector (``collect()`` at scrape time).

Series are built from the devices currently known, so a device removed from the inventory loses
its series at the next scrape, and nothing is looked up per sample on the polling path.
IF-MIB series carry snmp_exporter's names and labels (``ifHCInOctets{ifIndex,ifName,ifAlias}``)
plus ``device``, ``site``, ``category`` and ``role``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.metrics_core import Metric

from collectors.snmp import oids
from collectors.snmp.poller import DeviceSample
from collectors.snmp.state import DeviceState
from collectors.snmp.transport import UdpTransport

IF_COUNTERS = ("ifHCInOctets", "ifHCOutOctets", "ifHCInUcastPkts", "ifHCOutUcastPkts",
               "ifInErrors", "ifOutErrors", "ifInDiscards", "ifOutDiscards")
IF_GAUGES = ("ifOperStatus", "ifAdminStatus", "ifHighSpeed", "ifType")
DEVICE_LABELS = ("device", "site", "category", "role")


@dataclass
class CollectorHealth:
    """Counters about the collector itself, by device class (role)."""

    cycles: Counter[str] = field(default_factory=Counter)
    cycle_seconds: dict[str, float] = field(default_factory=dict)
    last_cycle_end: dict[str, float] = field(default_factory=dict)
    misfires: Counter[str] = field(default_factory=Counter)
    decode_errors: Counter[str] = field(default_factory=Counter)
    varbinds: int = 0


def _family(name: str, doc: str, typ: str) -> Metric:
    return Metric(name, doc, typ)


def _ap_clients(sample: DeviceSample) -> int | None:
    """Associated clients of an AP: the vendor's per-radio column, summed. None for other devices."""
    column = sample.columns.get("apClients")
    if column is None:
        return None
    return sum(v for _t, v in column.values() if isinstance(v, int))


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


class SnmpMetrics:
    """Yields every SNMP metric family from the collector's device states."""

    def __init__(self, states: dict[str, DeviceState], health: CollectorHealth,
                 transport: UdpTransport | None = None):
        self.states = states
        self.health = health
        self.transport = transport

    def collect(self) -> Iterator[Metric]:
        states = list(self.states.values())
        yield from self._device_families(states)
        yield from self._interface_families(states)
        yield from self._resource_families(states)
        yield from self._rollup_families(states)
        yield from self._health_families(states)

    @staticmethod
    def _labels(state: DeviceState) -> dict[str, str]:
        return {"device": state.device.name, "site": state.site, "category": state.category,
                "role": state.device.role.value}

    def _answered(self, states: list[DeviceState]) -> Iterator[tuple[DeviceSample, dict[str, str]]]:
        """The last sample and labels of every device whose last poll succeeded."""
        for st in states:
            if st.last is not None and st.last.ok:
                yield st.last, self._labels(st)

    def _device_families(self, states: list[DeviceState]) -> Iterator[Metric]:
        up = _family("nms_device_up", "1 if the last SNMP poll of the device succeeded, else 0", "gauge")
        duration = _family("nms_snmp_poll_duration_seconds", "Duration of the device's last poll", "gauge")
        stamp = _family("nms_snmp_last_poll_timestamp_seconds", "When the device's last poll started", "gauge")
        down = _family("nms_device_down_since_timestamp_seconds", "Start of the first failed poll since the "
                       "device last answered (or since the service started); absent while it answers", "gauge")
        uptime = _family("sysUpTime", "The time since the network management portion of the system was "
                         "last re-initialized (SNMPv2-MIB), in hundredths of a second", "gauge")
        clients = _family("nms_ap_clients", "Wi-Fi clients associated with the AP", "gauge")
        for st in states:
            if st.last is None:
                continue
            labels = self._labels(st)
            up.add_sample("nms_device_up", labels, 1.0 if st.last.ok else 0.0)
            duration.add_sample("nms_snmp_poll_duration_seconds", labels, st.last.duration)
            stamp.add_sample("nms_snmp_last_poll_timestamp_seconds", labels, st.last.started)
            if st.down_since is not None:
                down.add_sample("nms_device_down_since_timestamp_seconds", labels, st.down_since)
            if not st.last.ok:
                continue
            value = st.last.scalars.get("sysUpTime")
            if isinstance(value, int):
                uptime.add_sample("sysUpTime", labels, value)
            count = _ap_clients(st.last)
            if count is not None:
                clients.add_sample("nms_ap_clients", labels, count)
        yield from (up, duration, stamp, down, uptime, clients)

    def _interface_families(self, states: list[DeviceState]) -> Iterator[Metric]:
        families = {name: _family(name, f"IF-MIB {name}", "counter") for name in IF_COUNTERS}
        families |= {name: _family(name, f"IF-MIB {name}", "gauge") for name in IF_GAUGES}
        for sample, base in self._answered(states):
            cols = sample.columns
            names = cols.get("ifName", {})
            aliases = cols.get("ifAlias", {})
            indexes = set(names) | set(cols.get("ifHCInOctets", {})) | set(cols.get("ifOperStatus", {}))
            row_labels = {}
            for index in indexes:
                labels = dict(base)
                labels["ifIndex"] = ".".join(map(str, index))
                labels["ifName"] = _text(names.get(index, (0, b""))[1])
                labels["ifAlias"] = _text(aliases.get(index, (0, b""))[1])
                row_labels[index] = labels
            for name, family in families.items():
                column = cols.get(name)
                if not column:
                    continue
                for index, (_tag, value) in column.items():
                    labels = row_labels.get(index)
                    if labels is not None and isinstance(value, int):
                        family.add_sample(name, labels, value)
        yield from families.values()

    def _resource_families(self, states: list[DeviceState]) -> Iterator[Metric]:
        cpu = _family("nms_device_cpu_load_percent", "Average hrProcessorLoad over the device's CPUs", "gauge")
        size = _family("nms_storage_size_bytes", "hrStorageSize times hrStorageAllocationUnits", "gauge")
        used = _family("nms_storage_used_bytes", "hrStorageUsed times hrStorageAllocationUnits", "gauge")
        temp = _family("nms_device_temperature_celsius", "ENTITY-SENSOR-MIB temperature sensors", "gauge")
        sessions = _family("nms_ips_sessions", "Sessions the IPS tracks now", "gauge")
        detected = _family("nms_ips_events_detected", "Attack events the IPS detected", "counter")
        blocked = _family("nms_ips_events_blocked", "Attack events the IPS blocked", "counter")
        for sample, labels in self._answered(states):
            cols = sample.columns
            loads = [v for _t, v in cols.get("hrProcessorLoad", {}).values() if isinstance(v, int)]
            if loads:
                cpu.add_sample(cpu.name, labels, sum(loads) / len(loads))
            descr = cols.get("hrStorageDescr", {})
            units = cols.get("hrStorageAllocationUnits", {})
            for index, (_t, total) in cols.get("hrStorageSize", {}).items():
                unit = units.get(index, (0, 1))[1]
                if not isinstance(unit, int) or not isinstance(total, int):
                    continue
                row = labels | {"storage": _text(descr.get(index, (0, b""))[1]) or ".".join(map(str, index))}
                size.add_sample(size.name, row, total * unit)
                used_value = cols.get("hrStorageUsed", {}).get(index, (0, None))[1]
                if isinstance(used_value, int):
                    used.add_sample(used.name, row, used_value * unit)
            types = cols.get("entPhySensorType", {})
            scales = cols.get("entPhySensorScale", {})
            for index, (_t, value) in cols.get("entPhySensorValue", {}).items():
                if types.get(index, (0, 0))[1] != oids.ENT_SENSOR_TYPE_CELSIUS or not isinstance(value, int):
                    continue
                scale = scales.get(index, (0, 9))[1]
                factor = 10.0 ** (3 * ((scale if isinstance(scale, int) else 9) - 9))
                temp.add_sample(temp.name, labels | {"sensor": ".".join(map(str, index))}, value * factor)
            scalars = sample.scalars
            if isinstance(scalars.get("ipsSessions"), int):
                sessions.add_sample(sessions.name, labels, scalars["ipsSessions"])
            if isinstance(scalars.get("ipsEventsDetected"), int):
                detected.add_sample("nms_ips_events_detected_total", labels, scalars["ipsEventsDetected"])
            if isinstance(scalars.get("ipsEventsBlocked"), int):
                blocked.add_sample("nms_ips_events_blocked_total", labels, scalars["ipsEventsBlocked"])
        yield from (cpu, size, used, temp, sessions, detected, blocked)

    def _rollup_families(self, states: list[DeviceState]) -> Iterator[Metric]:
        site_devices: Counter[tuple[str, str, str]] = Counter()
        site_up: Counter[tuple[str, str, str]] = Counter()
        site_clients: Counter[tuple[str, str]] = Counter()
        site_octets: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        for st in states:
            key = (st.site, st.category, st.device.role.value)
            site_devices[key] += 1
            site_up[key] += 1 if st.up else 0
            for column, value in st.octets.items():
                site_octets[(st.site, st.category)][column] += value
            count = _ap_clients(st.last) if st.up else None
            if count is not None:
                site_clients[(st.site, st.category)] += count
        devices = _family("nms_site_devices", "Polled devices at the site, by role", "gauge")
        up = _family("nms_site_devices_up", "Devices at the site whose last poll succeeded", "gauge")
        for (site, category, role), count in site_devices.items():
            labels = {"site": site, "category": category, "role": role}
            devices.add_sample(devices.name, labels, count)
            up.add_sample(up.name, labels, site_up[(site, category, role)])
        clients = _family("nms_site_ap_clients", "Wi-Fi clients at the site (sum over its APs)", "gauge")
        cat_clients = _family("nms_category_ap_clients", "Wi-Fi clients by site category", "gauge")
        by_category: Counter[str] = Counter()
        for (site, category), count in site_clients.items():
            clients.add_sample(clients.name, {"site": site, "category": category}, count)
            by_category[category] += count
        for category, count in sorted(by_category.items()):
            cat_clients.add_sample(cat_clients.name, {"category": category}, count)
        octets_in = _family("nms_site_in_octets", "Octets received on the site's device interfaces, "
                            "summed over polls; reboots and counter wraps accounted", "counter")
        octets_out = _family("nms_site_out_octets", "Octets sent on the site's device interfaces, "
                             "summed over polls; reboots and counter wraps accounted", "counter")
        for (site, category), values in site_octets.items():
            labels = {"site": site, "category": category}
            octets_in.add_sample("nms_site_in_octets_total", labels, values["ifHCInOctets"])
            octets_out.add_sample("nms_site_out_octets_total", labels, values["ifHCOutOctets"])
        yield from (devices, up, clients, cat_clients, octets_in, octets_out)

    def _health_families(self, states: list[DeviceState]) -> Iterator[Metric]:
        h = self.health
        polls = _family("nms_snmp_polls", "Polls made, by device", "counter")
        errors = _family("nms_snmp_poll_errors", "Failed polls, by device and reason "
                         "(timeout, decode_*, agent errors, missing_secret)", "counter")
        reboots = _family("nms_snmp_device_reboots", "Reboots seen (sysUpTime went back)", "counter")
        wraps = _family("nms_snmp_counter_wraps", "Interface counters that wrapped without a reboot", "counter")
        for st in states:
            labels = {"device": st.device.name, "role": st.device.role.value}
            polls.add_sample("nms_snmp_polls_total", labels, st.polls)
            for reason, count in st.errors.items():
                errors.add_sample("nms_snmp_poll_errors_total", labels | {"reason": reason}, count)
            reboots.add_sample("nms_snmp_device_reboots_total", labels, st.reboots)
            wraps.add_sample("nms_snmp_counter_wraps_total", labels, st.wraps)
        cycles = _family("nms_snmp_cycles", "Completed polling cycles, by device class", "counter")
        seconds = _family("nms_snmp_cycle_duration_seconds", "Duration of the last cycle, by class", "gauge")
        last = _family("nms_snmp_last_cycle_timestamp_seconds", "End of the last completed cycle", "gauge")
        misfires = _family("nms_snmp_misfires", "Cycles skipped because the previous one still ran or "
                           "started too late", "counter")
        for role in sorted(set(h.cycles) | set(h.misfires)):
            labels = {"class": role}
            cycles.add_sample("nms_snmp_cycles_total", labels, h.cycles[role])
            misfires.add_sample("nms_snmp_misfires_total", labels, h.misfires[role])
            if role in h.cycle_seconds:
                seconds.add_sample(seconds.name, labels, h.cycle_seconds[role])
                last.add_sample(last.name, labels, h.last_cycle_end[role])
        decode = _family("nms_snmp_decode_errors", "Malformed SNMP responses, by reason", "counter")
        reasons = Counter(h.decode_errors)
        unmatched = _family("nms_snmp_unmatched_responses", "Responses that matched no pending request "
                            "(late after a timeout, duplicated, or from an unexpected address)", "counter")
        if self.transport is not None:
            # datagrams too broken to route to their request never reach a poll's decoder
            reasons["no_request_id"] += self.transport.malformed
            unmatched.add_sample("nms_snmp_unmatched_responses_total", {}, self.transport.late_or_unknown)
        for reason, count in sorted(reasons.items()):
            decode.add_sample("nms_snmp_decode_errors_total", {"reason": reason}, count)
        varbinds = _family("nms_snmp_varbinds", "Varbinds received", "counter")
        varbinds.add_sample("nms_snmp_varbinds_total", {}, h.varbinds)
        yield from (polls, errors, reboots, wraps, cycles, seconds, last, misfires, decode, unmatched, varbinds)
