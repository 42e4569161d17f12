"""Prometheus exposition of polled state: each device's block rendered once per poll, then reused.

Every device's series are rendered into one block per metric family and kept until its next
poll (or until its labels change on a reload), so a scrape between polls only joins bytes. A
block is built in isolation: a value the collector cannot show (an absurd sensor scale, a
non-finite or out-of-range number, an undecodable string, any exception) costs only that
device's series, is counted in ``nms_snmp_decode_errors_total{reason}`` and is logged once per
device and reason; the scrape still answers for everyone else.

IF-MIB series carry snmp_exporter's names and labels (``ifHCInOctets{ifIndex,ifName,ifAlias}``)
plus ``device``, ``site``, ``category`` and ``role``.
"""

from __future__ import annotations

import logging
import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from collectors.snmp import oids
from collectors.snmp.poller import DeviceSample
from collectors.snmp.state import DeviceState
from collectors.snmp.text import label_text
from collectors.snmp.transport import UdpTransport
from collectors.snmp.walk import ANOMALY_KINDS
from nms.exposition import escape_help, escape_label, format_value

log = logging.getLogger(__name__)

IF_COUNTERS = ("ifHCInOctets", "ifHCOutOctets", "ifHCInUcastPkts", "ifHCOutUcastPkts", "ifInOctets",
               "ifOutOctets", "ifInErrors", "ifOutErrors", "ifInDiscards", "ifOutDiscards")
IF_GAUGES = ("ifOperStatus", "ifAdminStatus", "ifHighSpeed", "ifType", "ifLastChange")
DEVICE_LABELS = ("device", "site", "category", "role")
# The widest value any SNMP type can carry (Counter64); anything outside is not a real reading.
_VALUE_MIN, _VALUE_MAX = -(2**63), 2**64 - 1
# ENTITY-SENSOR-MIB: SensorDataScale yocto(1)..yotta(17), SensorPrecision -8..9
_SCALES = range(1, 18)
_PRECISIONS = range(-8, 10)
_SENSOR_OK = 1


class Block:
    """One device's rendered exposition: every family's lines in one bytes, with their ends."""

    __slots__ = ("data", "ends")

    def __init__(self, parts: list[bytes]):
        self.data = b"".join(parts)
        self.ends = array("I")
        end = 0
        for part in parts:
            end += len(part)
            self.ends.append(end)



class Family(NamedTuple):
    name: str  # the samples' name, also written on the HELP and TYPE lines
    type: str
    help: str


DEVICE_FAMILIES: tuple[Family, ...] = (
    Family("nms_device_up", "gauge", "1 if the last SNMP poll of the device succeeded, else 0"),
    Family("nms_snmp_poll_duration_seconds", "gauge", "Duration of the device's last poll"),
    Family("nms_snmp_last_poll_timestamp_seconds", "gauge", "When the device's last poll started"),
    Family("nms_device_down_since_timestamp_seconds", "gauge", "Start of the first failed poll since the device "
           "last answered (or since the service started); absent while it answers"),
    Family("sysUpTime", "gauge", "The time since the network management portion of the system was last "
           "re-initialized (SNMPv2-MIB), in hundredths of a second"),
    Family("nms_device_system_info", "gauge", "SNMPv2-MIB system group of the device, as labels (value 1)"),
    Family("nms_ap_clients", "gauge", "Wi-Fi clients associated with the AP"),
    *(Family(n, "counter", f"IF-MIB {n}") for n in IF_COUNTERS),
    *(Family(n, "gauge", f"IF-MIB {n}") for n in IF_GAUGES),
    Family("nms_device_cpu_load_percent", "gauge", "CPU load: average hrProcessorLoad, cpmCPUTotal5minRev "
           "or 100 - ssCpuIdle (see configs/snmp.yaml)"),
    Family("nms_device_memory_size_bytes", "gauge", "Memory of the device (UCD-SNMP-MIB memTotalReal or "
           "CISCO-PROCESS-MIB used + free)"),
    Family("nms_device_memory_used_bytes", "gauge", "Memory in use (UCD-SNMP-MIB memTotalReal - memAvailReal "
           "or CISCO-PROCESS-MIB cpmCPUMemoryUsed)"),
    Family("nms_storage_size_bytes", "gauge", "hrStorageSize times hrStorageAllocationUnits"),
    Family("nms_storage_used_bytes", "gauge", "hrStorageUsed times hrStorageAllocationUnits"),
    Family("nms_device_temperature_celsius", "gauge", "ENTITY-SENSOR-MIB celsius sensors, scale and "
           "precision applied"),
    Family("nms_entity_sensor_value", "gauge", "ENTITY-SENSOR-MIB entPhySensorValue with scale and precision "
           "applied, in the unit of sensor_type; only for sensors whose status is ok"),
    Family("nms_entity_sensor_status", "gauge", "ENTITY-SENSOR-MIB entPhySensorOperStatus "
           "(1 ok, 2 unavailable, 3 nonoperational)"),
    Family("nms_ips_sessions", "gauge", "Sessions the IPS tracks now"),
    Family("nms_ips_events_detected_total", "counter", "Attack events the IPS detected"),
    Family("nms_ips_events_blocked_total", "counter", "Attack events the IPS blocked"),
    Family("nms_snmp_polls_total", "counter", "Polls made, by device"),
    Family("nms_snmp_poll_errors_total", "counter", "Failed polls, by device and reason "
           "(timeout, decode_*, agent errors, missing_secret)"),
    Family("nms_snmp_device_reboots_total", "counter", "Reboots seen (sysUpTime went back)"),
    Family("nms_snmp_counter_wraps_total", "counter", "Interface counters that wrapped without a reboot"),
    Family("nms_snmp_walk_anomalies_total", "counter", "GETBULK replies that broke RFC 3416 expectations, by "
           "kind: " + ", ".join(ANOMALY_KINDS) + " (short replies are legal and handled)"),
)
_INDEX = {f.name: i for i, f in enumerate(DEVICE_FAMILIES)}
_HEADERS = tuple(f"# HELP {f.name} {escape_help(f.help)}\n# TYPE {f.name} {f.type}\n".encode()
                 for f in DEVICE_FAMILIES)
_RISKY_FROM = _INDEX["sysUpTime"]  # families from here to the health block come from agent data
_RISKY_TO = _INDEX["nms_snmp_polls_total"]
_CHUNK = 1 << 16


@dataclass
class CollectorHealth:
    """Counters about the collector itself, by device class (role)."""

    cycles: Counter[str] = field(default_factory=Counter)
    cycle_seconds: dict[str, float] = field(default_factory=dict)
    last_cycle_end: dict[str, float] = field(default_factory=dict)
    misfires: Counter[str] = field(default_factory=Counter)
    decode_errors: Counter[str] = field(default_factory=Counter)
    varbinds: int = 0


def _ap_clients(sample: DeviceSample) -> int | None:
    """Associated clients of an AP: the vendor's per-radio column, summed. None for other devices."""
    column = sample.columns.get("apClients")
    if column is None:
        return None
    return sum(v for _t, v in column.values() if type(v) is int)


def _index_text(index: tuple[int, ...]) -> str:
    return ".".join(map(str, index))


class _Block:
    """One device's lines per family while they are being rendered, plus what went wrong."""

    __slots__ = ("lines", "problems")

    def __init__(self) -> None:
        self.lines: list[list[str]] = [[] for _ in DEVICE_FAMILIES]
        self.problems: Counter[str] = Counter()

    def text(self, value: object, counted: str) -> str:
        text, ok = label_text(value)
        if not ok:
            self.problems[counted] += 1
        return escape_label(text)

    def add(self, family: str, labels: str, value: int | float) -> None:
        """One sample; a value no SNMP type can carry is counted and dropped, never written."""
        if type(value) is int:
            if not _VALUE_MIN <= value <= _VALUE_MAX:
                self.problems["value_out_of_range"] += 1
                return
            text = str(value)
        else:
            if not math.isfinite(value):
                self.problems["non_finite_value"] += 1
                return
            text = format_value(value)
        self.lines[_INDEX[family]].append(f"{family}{{{labels}}} {text}\n")


def _ints(column: dict | None) -> Iterator[tuple[tuple[int, ...], int]]:
    if column:
        for index, (_tag, value) in column.items():
            if type(value) is int:
                yield index, value


def _value(column: dict | None, index: tuple[int, ...]) -> object:
    if not column:
        return None
    entry = column.get(index)
    return None if entry is None else entry[1]


def _render_interfaces(block: _Block, base: str, cols: dict) -> None:
    names, descrs, aliases = cols.get("ifName") or {}, cols.get("ifDescr") or {}, cols.get("ifAlias") or {}
    rows: dict[tuple[int, ...], str] = {}

    def row(index: tuple[int, ...]) -> str:
        name = _value(names, index)
        if name is None or name == b"":  # no ifXTable: ifDescr names the port, as in IF-MIB
            name = _value(descrs, index)
        labels = rows[index] = (f'{base},ifIndex="{_index_text(index)}",'
                                f'ifName="{block.text(name, "undecodable_string")}",'
                                f'ifAlias="{block.text(_value(aliases, index), "undecodable_string")}"')
        return labels

    lines = block.lines
    for name in (*IF_COUNTERS, *IF_GAUGES):
        column = cols.get(name)
        if not column:
            continue
        out = lines[_INDEX[name]]
        append = out.append
        for index, (_tag, value) in column.items():
            if type(value) is not int:
                continue
            if not 0 <= value <= _VALUE_MAX:  # IF-MIB values are unsigned
                block.add(name, rows.get(index) or row(index), value)
                continue
            append(f"{name}{{{rows.get(index) or row(index)}}} {value}\n")


def _render_resources(block: _Block, base: str, scalars: dict, cols: dict) -> None:
    loads = [v for _i, v in _ints(cols.get("hrProcessorLoad"))] or \
            [v for _i, v in _ints(cols.get("cpmCPUTotal5minRev"))]
    if loads:
        block.add("nms_device_cpu_load_percent", base, sum(loads) / len(loads))
    idle = scalars.get("ucdCpuIdle")
    if type(idle) is int:
        block.add("nms_device_cpu_load_percent", base, 100 - idle)
    total, avail = scalars.get("ucdMemTotalReal"), scalars.get("ucdMemAvailReal")
    if type(total) is int and type(avail) is int:
        block.add("nms_device_memory_size_bytes", base, total * 1024)
        block.add("nms_device_memory_used_bytes", base, (total - avail) * 1024)
    used_kb = dict(_ints(cols.get("cpmCPUMemoryUsed")))
    if used_kb:
        free_kb = dict(_ints(cols.get("cpmCPUMemoryFree")))
        block.add("nms_device_memory_used_bytes", base, sum(used_kb.values()) * 1024)
        if free_kb:
            block.add("nms_device_memory_size_bytes", base, (sum(used_kb.values()) + sum(free_kb.values())) * 1024)


def _render_storage(block: _Block, state: DeviceState, base: str, cols: dict) -> None:
    descr, units, used = cols.get("hrStorageDescr"), cols.get("hrStorageAllocationUnits"), cols.get("hrStorageUsed")
    for index, total in _ints(cols.get("hrStorageSize")):
        unit = _value(units, index)
        if type(unit) is not int:
            continue
        labels = (f'{base},hrStorageIndex="{_index_text(index)}",'
                  f'hrStorageDescr="{block.text(_value(descr, index), "undecodable_string")}"')
        block.add("nms_storage_size_bytes", labels, total * unit)
        used_value = _value(used, index)
        if type(used_value) is int:
            block.add("nms_storage_used_bytes", labels, used_value * unit)


def _render_sensors(block: _Block, state: DeviceState, base: str, cols: dict) -> None:
    types, scales, precisions = cols.get("entPhySensorType"), cols.get("entPhySensorScale"), \
        cols.get("entPhySensorPrecision")
    statuses, names = cols.get("entPhySensorOperStatus"), cols.get("entPhysicalName")
    for index, raw in _ints(cols.get("entPhySensorValue")):
        kind = _value(types, index)
        scale = _value(scales, index)
        precision = _value(precisions, index)
        status = _value(statuses, index)
        scale = 9 if scale is None else scale  # units(9): no multiplier
        precision = 0 if precision is None else precision
        if type(scale) is not int or scale not in _SCALES:
            block.problems["bad_sensor_scale"] += 1
            continue
        if type(precision) is not int or precision not in _PRECISIONS:
            block.problems["bad_sensor_precision"] += 1
            continue
        type_name = oids.ENT_SENSOR_TYPES.get(kind, "other") if type(kind) is int else "other"
        labels = (f'{base},entPhysicalIndex="{_index_text(index)}",'
                  f'entPhysicalName="{block.text(_value(names, index), "undecodable_string")}",'
                  f'sensor_type="{type_name}"')
        if type(status) is int:
            block.add("nms_entity_sensor_status", labels, status)
        if status is not None and status != _SENSOR_OK:
            continue
        exponent = 3 * (scale - 9) - precision
        value = raw * 10**exponent if exponent >= 0 else raw / 10**-exponent
        value = float(value)
        block.add("nms_entity_sensor_value", labels, value)
        if kind == oids.ENT_SENSOR_TYPE_CELSIUS:
            block.add("nms_device_temperature_celsius", f'{base},sensor="{_index_text(index)}"', value)


def _render_agent_data(block: _Block, state: DeviceState, base: str, sample: DeviceSample) -> None:
    scalars, cols = sample.scalars, sample.columns
    uptime = scalars.get("sysUpTime")
    if type(uptime) is int:
        block.add("sysUpTime", base, uptime)
    info = ",".join(f'{key}="{block.text(scalars.get(key), "undecodable_string")}"'
                    for key in ("sysName", "sysDescr", "sysLocation", "sysObjectID"))
    block.add("nms_device_system_info", f"{base},{info}", 1)
    clients = _ap_clients(sample)
    if clients is not None:
        block.add("nms_ap_clients", base, clients)
    _render_interfaces(block, base, cols)
    _render_resources(block, base, scalars, cols)
    _render_storage(block, state, base, cols)
    _render_sensors(block, state, base, cols)
    for name, key in (("nms_ips_sessions", "ipsSessions"), ("nms_ips_events_detected_total", "ipsEventsDetected"),
                      ("nms_ips_events_blocked_total", "ipsEventsBlocked")):
        value = scalars.get(key)
        if type(value) is int:
            block.add(name, base, value)


# A block is stored with these placeholders for the device's label sets, filled in at scrape time:
# the labels are most of every line, and a reload that moves a device needs no re-rendering.
# Label values never contain control characters (device strings with them are shown as hex).
_BASE, _SHORT, _NAME = "\x00", "\x01", "\x02"


def device_labels(state: DeviceState) -> str:
    return (f'device="{escape_label(state.device.name)}",site="{escape_label(state.site)}",'
            f'category="{escape_label(state.category)}",role="{state.device.role.value}"')


def _substitutions(state: DeviceState) -> tuple[tuple[bytes, bytes], ...]:
    name = f'device="{escape_label(state.device.name)}"'
    return ((_BASE.encode(), device_labels(state).encode()),
            (_SHORT.encode(), f'{name},role="{state.device.role.value}"'.encode()),
            (_NAME.encode(), name.encode()))


def render_device(state: DeviceState) -> Block:
    """The device's exposition lines, one bytes per family of :data:`DEVICE_FAMILIES`."""
    block = _Block()
    base = _BASE
    last = state.last
    if last is not None:
        block.add("nms_device_up", base, 1 if last.ok else 0)
        block.add("nms_snmp_poll_duration_seconds", base, last.duration)
        block.add("nms_snmp_last_poll_timestamp_seconds", base, last.started)
        if state.down_since is not None:
            block.add("nms_device_down_since_timestamp_seconds", base, state.down_since)
        if last.ok:
            try:
                _render_agent_data(block, state, base, last)
            except Exception as exc:  # any failure costs this device's series only
                for i in range(_RISKY_FROM, _RISKY_TO):
                    block.lines[i].clear()
                block.problems["render_failed"] += 1
                state.note_problem("render_failed", f"{type(exc).__name__}: {exc}")
    short = _SHORT
    block.add("nms_snmp_polls_total", short, state.polls)
    for reason, count in state.errors.items():
        block.add("nms_snmp_poll_errors_total", f'{short},reason="{escape_label(reason)}"', count)
    block.add("nms_snmp_device_reboots_total", short, state.reboots)
    block.add("nms_snmp_counter_wraps_total", short, state.wraps)
    for kind in ANOMALY_KINDS:
        if state.anomalies[kind]:
            block.add("nms_snmp_walk_anomalies_total", f'{_NAME},kind="{kind}"', state.anomalies[kind])
    for reason, count in block.problems.items():
        if reason != "render_failed":
            state.note_problem(reason, f"{count} value(s) not shown")
    state.render_problems = block.problems
    return Block(["".join(lines).encode() if lines else b"" for lines in block.lines])


class SnmpMetrics:
    """The SNMP collector's /metrics: cached per-device blocks, then district rollups and health."""

    def __init__(self, states: dict[str, DeviceState], health: CollectorHealth,
                 transport: UdpTransport | None = None):
        self.states = states
        self.health = health
        self.transport = transport

    def refresh(self, state: DeviceState) -> None:
        """Render the device's block now (after each poll); it is served until the next one."""
        block = render_device(state)
        state.rendered = (state.version, block)
        for reason, count in state.render_problems.items():
            self.health.decode_errors[reason] += count

    def _blocks(self, states: list[DeviceState]) -> list[Block]:
        blocks = []
        for st in states:
            cached = st.rendered
            if cached is None or cached[0] != st.version:
                self.refresh(st)
                cached = st.rendered
            blocks.append(cached[1])
        return blocks

    def expose(self) -> Iterator[bytes]:
        states = list(self.states.values())  # a snapshot: a reload may change the dict meanwhile
        blocks = self._blocks(states)
        subs = [_substitutions(st) for st in states]
        pending: list[bytes] = []
        size = 0
        for i, header in enumerate(_HEADERS):
            pending.append(header)
            for block, (base, short, name) in zip(blocks, subs, strict=True):
                ends = block.ends
                start, end = (ends[i - 1] if i else 0), ends[i]
                if end > start:
                    part = block.data[start:end].replace(base[0], base[1])
                    if i >= _RISKY_TO:
                        part = part.replace(short[0], short[1]).replace(name[0], name[1])
                    pending.append(part)
                    size += len(part)
            if size >= _CHUNK:
                yield b"".join(pending)
                pending, size = [], 0
        pending.append(_render_families(self._district_families(states)).encode())
        yield b"".join(pending)

    def _district_families(self, states: list[DeviceState]) -> Iterator[tuple[Family, list[tuple[str, float]]]]:
        yield from self._rollup_families(states)
        yield from self._health_families()

    def _rollup_families(self, states: list[DeviceState]) -> Iterator[tuple[Family, list[tuple[str, float]]]]:
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

        def site_labels(site: str, category: str) -> str:
            return f'site="{escape_label(site)}",category="{escape_label(category)}"'

        yield (Family("nms_site_devices", "gauge", "Polled devices at the site, by role"),
               [(f'{site_labels(s, c)},role="{r}"', n) for (s, c, r), n in site_devices.items()])
        yield (Family("nms_site_devices_up", "gauge", "Devices at the site whose last poll succeeded"),
               [(f'{site_labels(s, c)},role="{r}"', site_up[(s, c, r)]) for (s, c, r) in site_devices])
        by_category: Counter[str] = Counter()
        for (_site, category), count in site_clients.items():
            by_category[category] += count
        yield (Family("nms_site_ap_clients", "gauge", "Wi-Fi clients at the site (sum over its APs)"),
               [(site_labels(s, c), n) for (s, c), n in site_clients.items()])
        yield (Family("nms_category_ap_clients", "gauge", "Wi-Fi clients by site category"),
               [(f'category="{escape_label(c)}"', n) for c, n in sorted(by_category.items())])
        doc = "summed over polls; reboots and counter wraps accounted (64-bit, else 32-bit counters)"
        yield (Family("nms_site_in_octets_total", "counter", f"Octets received on the site's interfaces, {doc}"),
               [(site_labels(s, c), v["ifHCInOctets"]) for (s, c), v in site_octets.items()])
        yield (Family("nms_site_out_octets_total", "counter", f"Octets sent on the site's interfaces, {doc}"),
               [(site_labels(s, c), v["ifHCOutOctets"]) for (s, c), v in site_octets.items()])

    def _health_families(self) -> Iterator[tuple[Family, list[tuple[str, float]]]]:
        h = self.health
        roles = sorted(set(h.cycles) | set(h.misfires))
        yield (Family("nms_snmp_cycles_total", "counter", "Completed polling cycles, by device class"),
               [(f'class="{r}"', h.cycles[r]) for r in roles])
        yield (Family("nms_snmp_cycle_duration_seconds", "gauge", "Duration of the last cycle, by class"),
               [(f'class="{r}"', h.cycle_seconds[r]) for r in roles if r in h.cycle_seconds])
        yield (Family("nms_snmp_last_cycle_timestamp_seconds", "gauge", "End of the last completed cycle"),
               [(f'class="{r}"', h.last_cycle_end[r]) for r in roles if r in h.cycle_seconds])
        yield (Family("nms_snmp_misfires_total", "counter", "Cycles skipped because the previous one still ran "
                      "or started too late"), [(f'class="{r}"', h.misfires[r]) for r in roles])
        reasons = Counter(h.decode_errors)
        unmatched: list[tuple[str, float]] = []
        if self.transport is not None:
            # datagrams too broken to route to their request never reach a poll's decoder
            reasons["no_request_id"] += self.transport.malformed
            unmatched.append(("", self.transport.late_or_unknown))
        yield (Family("nms_snmp_decode_errors_total", "counter", "Malformed SNMP responses and values that "
                      "could not be shown, by reason"),
               [(f'reason="{escape_label(r)}"', n) for r, n in sorted(reasons.items())])
        yield (Family("nms_snmp_unmatched_responses_total", "counter", "Responses that matched no pending "
                      "request (late after a timeout, duplicated, or from an unexpected address)"), unmatched)
        yield (Family("nms_snmp_varbinds_total", "counter", "Varbinds received"), [("", h.varbinds)])


def _render_families(families: Iterator[tuple[Family, list[tuple[str, float]]]]) -> str:
    out: list[str] = []
    for family, samples in families:
        out.append(f"# HELP {family.name} {escape_help(family.help)}\n# TYPE {family.name} {family.type}\n")
        for labels, value in samples:
            out.append(f"{family.name}{{{labels}}} {format_value(value)}\n" if labels
                       else f"{family.name} {format_value(value)}\n")
    return "".join(out)
