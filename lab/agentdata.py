"""snmpsim data (``.snmprec``) for each simulated device, generated from the inventory.

A device serves the OIDs its profile kind polls (collectors/snmp/oids.py): the system group,
IF-MIB ifTable and ifXTable, HOST-RESOURCES CPU and storage, ENTITY-SENSOR temperatures,
AP client counts and the IPS values. Static facts are written as they are; values that change
are written as ``OID|TAG:nmslab|SPEC`` and computed at request time by :mod:`lab.dynamics`.
Everything derives from the device name (hashes, never ``random``), so the same inventory
always gives the same district.

Some devices behave as real ones do and the collector must cope: Dasan (Korean) switches send
their port descriptions in CP949, not UTF-8; sensors report with precision 1 (tenths) and in
millivolts; two storage rows share one description; a few APs run old firmware without
ifXTable (32-bit counters only).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from collectors.snmp import oids
from collectors.snmp.config import Profile, ProfileKind
from lab import dynamics
from lab.faults import Faults
from nms.inventory.models import Category, Device, DeviceRole, Inventory, Site

VARIATION = "nmslab"  # name of the variation module (the file dynamics.py, copied as nmslab.py)

# ASN.1 tags in snmprec files
INTEGER, OCTETS, OID, COUNTER32, GAUGE32, TIMETICKS, COUNTER64 = "2", "4", "6", "65", "66", "67", "70"
ETHERNET, LOOPBACK, IEEE80211 = 6, 24, 71

_SYS_SERVICES = {DeviceRole.BACKBONE: 6, DeviceRole.ACCESS: 2, DeviceRole.AP: 2, DeviceRole.IPS: 76,
                 DeviceRole.HOST: 72}
_ROLE_TEXT = {DeviceRole.BACKBONE: "Backbone Switch", DeviceRole.ACCESS: "Ethernet Switch",
              DeviceRole.AP: "Wireless Access Point", DeviceRole.IPS: "Intrusion Prevention System",
              DeviceRole.HOST: "Server"}
_LINUX_OBJECT_ID = "1.3.6.1.4.1.8072.3.2.10"  # NET-SNMP-TC linux: what a Linux net-snmp agent reports
_ENTERPRISES = {"cisco": 9, "dasan networks": 6296}
HR_STORAGE_TYPES = {"ram": "1.3.6.1.2.1.25.2.1.2", "virtual": "1.3.6.1.2.1.25.2.1.3",
                    "disk": "1.3.6.1.2.1.25.2.1.4", "flash": "1.3.6.1.2.1.25.2.1.9"}
SNMP_ENGINE_ID = "1.3.6.1.6.3.10.2.1.1.0"
SNMP_ENGINE_MAX_MESSAGE_SIZE = "1.3.6.1.6.3.10.2.1.4.0"


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()


def _unit(*parts: object) -> float:
    """Deterministic number in [0, 1) for the given parts."""
    return int.from_bytes(_digest(*parts)[:8], "big") / 2**64


def engine_id(device: Device) -> str:
    """RFC 3411 snmpEngineID, hex: net-snmp's enterprise (8072), format 5 (octets), 12 bytes of hash."""
    return "80001f8805" + _digest("engine", device.name)[:12].hex()


@dataclass(frozen=True)
class Port:
    """One interface and its average traffic (bits/s over a week) and error rates (per second)."""

    index: int
    descr: str
    if_type: int
    speed: int  # Mbit/s
    name: str = ""
    alias: str = ""
    admin_up: bool = True
    oper_up: bool = True
    in_bps: float = 0.0
    out_bps: float = 0.0
    in_packet: int = 900
    out_packet: int = 900
    in_errors: float = 0.0
    out_errors: float = 0.0
    in_discards: float = 0.0
    out_discards: float = 0.0
    wraps: bool = False  # the port whose counters wrap, on a wrapping device

    @property
    def passing(self) -> bool:
        return self.admin_up and self.oper_up


@dataclass
class Records:
    """The records of one data file; written sorted by OID, as snmpsim's binary search needs."""

    items: dict[tuple[int, ...], tuple[str, str]] = field(default_factory=dict)

    def add(self, oid: str, tag: str, value: object) -> None:
        key = tuple(int(x) for x in oid.split("."))
        if key in self.items:
            raise ValueError(f"duplicate OID {oid}")
        if tag == OCTETS:
            text = str(value)
            if not text.isascii() or not text.isprintable() or "|" in text or text != text.strip():
                tag, value = OCTETS + "x", text.encode("utf-8").hex()
        self.items[key] = (tag, str(value))

    def add_octets(self, oid: str, raw: bytes) -> None:
        """An OCTET STRING given as bytes, in whatever encoding the device uses."""
        self.add(oid, OCTETS + "x", raw.hex())

    def dynamic(self, oid: str, tag: str, spec: Mapping[str, object]) -> None:
        self.add(oid, f"{tag}:{VARIATION}", dynamics.format_spec(spec))

    def lines(self) -> Iterable[str]:
        for key in sorted(self.items):
            tag, value = self.items[key]
            yield f"{'.'.join(map(str, key))}|{tag}|{value}\n"

    def text(self) -> str:
        return "".join(self.lines())


@dataclass(frozen=True)
class DeviceContext:
    device: Device
    site: Site
    kind: ProfileKind
    profile: Profile
    inventory: Inventory
    boot: dict[str, float]  # {"b": epoch} or {"rp": period, "ph": phase}
    wrap_at: float | None = None

    @property
    def category(self) -> int:
        return dynamics.category_code(self.site.category.value)

    def seed(self, *parts: object) -> int:
        return dynamics.seed_of(self.device.name, *parts)

    def unit(self, *parts: object) -> float:
        return _unit(self.device.name, *parts)


# --- descriptions ------------------------------------------------------------------------------

def _vendor(device: Device) -> str:
    return (device.vendor or "").strip()


def sys_descr(device: Device) -> str:
    vendor, model = _vendor(device), (device.model or "").strip()
    v = vendor.lower()
    hardware = " ".join(x for x in (vendor, model) if x)
    if device.role is DeviceRole.HOST:
        linux = f"Linux {device.name} 6.1.0-25-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.106-3 x86_64"
        return f"{linux} ({hardware})" if hardware else linux
    if v == "cisco" and device.role is DeviceRole.AP:
        return f"Cisco AP Software, {model} Software (AP3G2-K9W8-M), Version 15.3(3)JPK3"
    if v == "cisco":
        return f"Cisco IOS Software [Cupertino], {model} Software (CAT9K_IOSXE), Version 17.9.4a, RELEASE SOFTWARE"
    if v == "ubiquiti":
        return f"Linux {device.name} 4.4.153 #1 SMP PREEMPT UniFi {model} 6.6.65"
    if v == "dasan networks":
        return f"Dasan Networks {model} NOS 6.12.8 L2/L3 Ethernet Switch"
    return " ".join(x for x in (hardware, _ROLE_TEXT[device.role]) if x)


def sys_object_id(device: Device) -> str:
    enterprise = _ENTERPRISES.get(_vendor(device).lower())
    if enterprise is None:
        return _LINUX_OBJECT_ID
    # Simulated product number under the vendor's enterprise arc, stable per model.
    product = 1000 + int.from_bytes(_digest("model", device.model or "")[:2], "big") % 3000
    return f"1.3.6.1.4.1.{enterprise}.1.{product}"


# Who sits behind an access switch port, in the district's buildings.
_DESKS = ["정보통신팀", "홍보디지털과", "민원여권과", "기획예산과", "총무과", "세무1과", "복지정책과",
          "도시계획과", "건축과", "교통행정과", "환경과", "보건행정과", "감사담당관", "일자리경제과"]
_OTHER_PORTS = ["프린터 {f}F", "회의실 {f}F", "CCTV {f}F 로비", "무인민원발급기 1F", "영상회의 {f}F"]


def _access_alias(ctx: DeviceContext, i: int) -> str:
    floor = 1 + int(ctx.unit("floor", i) * 7)
    r = ctx.unit("who", i)
    if r < 0.70:
        return f"{floor}F {_DESKS[int(ctx.unit('desk', i) * len(_DESKS))]}"
    if r < 0.82:
        return f"AP {ctx.site.name} {floor}F"
    other = _OTHER_PORTS[int(ctx.unit("other", i) * len(_OTHER_PORTS))]
    return other.format(f=floor)


# --- interfaces per kind of device -----------------------------------------------------------

def _port_count(device: Device) -> int:
    model = (device.model or "").upper()
    if "48" in model:
        return 48
    if "24" in model:
        return 24
    return 24 if _unit(device.name, "ports") < 0.5 else 48


def _backbone_ports(ctx: DeviceContext) -> list[Port]:
    inv = ctx.inventory
    others = sorted(d.name for d in inv.devices if d.role is DeviceRole.BACKBONE and d.name != ctx.device.name)
    access = sorted((d for d in inv.devices if d.role is DeviceRole.ACCESS), key=lambda d: d.name)
    servers = sorted((d for d in inv.devices if d.role in (DeviceRole.IPS, DeviceRole.HOST)), key=lambda d: d.name)
    sites = inv.site_by_id()
    n = _port_count(ctx.device)
    ports: list[Port] = []
    for i in range(1, n + 1):
        uplink = i > n - 4
        speed = 100_000 if uplink else 25_000
        descr = f"{'HundredGigE' if uplink else 'TwentyFiveGigE'}1/0/{i}"
        u = ctx.unit("port", i)
        port = Port(i, descr, ETHERNET, speed, name=f"{'Hu' if uplink else 'Twe'}1/0/{i}")
        if i == n - 3:
            port = replace(port, alias="uplink 서울시 행정망 (WAN)", in_bps=1.2e9 * (0.8 + u), out_bps=6e8 * (0.8 + u),
                           in_packet=1100, out_packet=700, in_discards=0.05, out_discards=0.02)
        elif i == n - 2 and others:
            port = replace(port, alias=f"interlink {others[0]}", in_bps=4e8 * (0.8 + u), out_bps=4e8 * (0.8 + u))
        elif uplink:
            port = replace(port, alias="", oper_up=False, admin_up=i != n)
        elif i <= len(access):
            sw = access[i - 1]
            site = sites.get(sw.site)
            port = replace(port, alias=f"downlink {sw.name} {site.name if site else ''}".strip(),
                           in_bps=8e7 * (0.5 + u), out_bps=2.5e8 * (0.5 + u), in_packet=600, out_packet=1100)
        elif i - len(access) <= len(servers):
            host = servers[i - len(access) - 1]
            port = replace(port, alias=f"server {host.name}", in_bps=5e7 * (0.5 + u), out_bps=1.5e8 * (0.5 + u))
        elif u < 0.45:
            port = replace(port, alias=f"서버팜 rack A-{i:02d}", in_bps=2e7 * (0.3 + u), out_bps=3e7 * (0.3 + u))
        else:
            port = replace(port, alias="", oper_up=False, admin_up=u < 0.9)
        ports.append(port)
    return ports


def _access_ports(ctx: DeviceContext) -> list[Port]:
    backbones = sorted(d.name for d in ctx.inventory.devices if d.role is DeviceRole.BACKBONE)
    n = _port_count(ctx.device)
    ports: list[Port] = []
    for i in range(1, n + 1):
        u = ctx.unit("port", i)
        uplink_no = i - (n - 4)
        if uplink_no > 0:
            port = Port(i, f"xe{uplink_no}", ETHERNET, 10_000, name=f"xe{uplink_no}")
            if uplink_no <= min(2, max(1, len(backbones))):
                peer = backbones[uplink_no - 1] if backbones else "core"
                share = 0.6 if uplink_no == 1 else 0.4
                port = replace(port, alias=f"uplink to {peer}", in_bps=1.6e8 * share * (0.7 + u),
                               out_bps=5e7 * share * (0.7 + u), in_packet=1100, out_packet=600,
                               in_discards=0.01 * u)
            else:
                port = replace(port, alias="unused - shutdown", admin_up=False, oper_up=False)
        else:
            port = Port(i, f"ge{i}", ETHERNET, 1000, name=f"ge{i}")
            if u < 0.04:
                port = replace(port, alias="unused - shutdown", admin_up=False, oper_up=False)
            elif u < 0.22:
                port = replace(port, alias="", oper_up=False)
            else:
                bad = ctx.unit("errors", i) < 0.06
                port = replace(port, alias=_access_alias(ctx, i), in_bps=6e5 + 2.5e6 * u, out_bps=2e6 + 8e6 * u,
                               in_packet=450, out_packet=1150,
                               in_errors=0.02 * (1 + u) if bad else 0.0, out_discards=0.004 if bad else 0.0)
        ports.append(port)
    return ports


_AP_CAPACITY = {Category.GOVERNMENT: 45, Category.MARKET: 40, Category.PARK: 25,
                Category.STREET: 30, Category.WELFARE: 30}


def ap_capacity(ctx: DeviceContext) -> int:
    """Clients an AP sees at its site's busiest hour."""
    return max(5, int(_AP_CAPACITY[ctx.site.category] * (0.6 + 0.6 * ctx.unit("capacity"))))


def _ap_ports(ctx: DeviceContext) -> list[Port]:
    clients = ap_capacity(ctx) * 0.5
    down, up = 4e5 * clients, 1.2e5 * clients  # bits/s toward / from the clients, weekly average
    cisco = _vendor(ctx.device).lower() == "cisco"
    names = ("GigabitEthernet0", "Dot11Radio0", "Dot11Radio1") if cisco else ("eth0", "wifi0", "wifi1")
    site = ctx.site.name
    return [
        Port(1, names[0], ETHERNET, 1000, name="Gi0" if cisco else "eth0", alias=f"PoE uplink {site}",
             in_bps=down, out_bps=up, in_packet=1150, out_packet=500),
        Port(2, names[1], IEEE80211, 144, name="Do0" if cisco else "wifi0", alias=f"2.4GHz {site}",
             in_bps=up * 0.35, out_bps=down * 0.35, in_packet=500, out_packet=1150,
             in_errors=0.01, in_discards=0.003),
        Port(3, names[2], IEEE80211, 867, name="Do1" if cisco else "wifi1", alias=f"5GHz {site}",
             in_bps=up * 0.65, out_bps=down * 0.65, in_packet=500, out_packet=1150, in_errors=0.004),
    ]


def _host_ports(ctx: DeviceContext) -> list[Port]:
    u = ctx.unit("traffic")
    busy = 4e7 if "removable-media" in ctx.device.tags else 8e6
    return [
        Port(1, "lo", LOOPBACK, 10, name="lo", in_bps=2e5, out_bps=2e5, in_packet=300, out_packet=300),
        Port(2, "eno1", ETHERNET, 1000, name="eno1", alias="server farm", in_bps=busy * (0.5 + u),
             out_bps=busy * 1.5 * (0.5 + u), in_packet=700, out_packet=1200),
    ]


def _ips_ports(ctx: DeviceContext) -> list[Port]:
    return [
        Port(1, "mgmt0", ETHERNET, 1000, name="mgmt0", alias="management", in_bps=2e5, out_bps=4e5),
        Port(2, "eth1", ETHERNET, 10_000, name="eth1", alias="inside 서비스망", in_bps=4e8, out_bps=1.2e9,
             in_packet=650, out_packet=1150, in_discards=0.2),
        Port(3, "eth2", ETHERNET, 10_000, name="eth2", alias="outside 인터넷", in_bps=1.25e9, out_bps=4.1e8,
             in_packet=1150, out_packet=650, in_discards=0.5, in_errors=0.001),
        Port(4, "eth3", ETHERNET, 1000, name="eth3", alias="HA (unused)", admin_up=False, oper_up=False),
    ]


def ports_of(ctx: DeviceContext) -> list[Port]:
    role = ctx.device.role
    if role is DeviceRole.BACKBONE:
        ports = _backbone_ports(ctx)
    elif ctx.kind is ProfileKind.SWITCH:
        ports = _access_ports(ctx)
    elif ctx.kind is ProfileKind.AP:
        ports = _ap_ports(ctx)
    elif ctx.kind is ProfileKind.IPS:
        ports = _ips_ports(ctx)
    else:
        ports = _host_ports(ctx)
    if ctx.wrap_at is not None:
        busiest = max((p for p in ports if p.passing), key=lambda p: p.in_bps, default=None)
        if busiest is not None:
            ports = [replace(p, wraps=True, in_errors=max(p.in_errors, 2.0)) if p is busiest else p for p in ports]
    return ports


# --- records ------------------------------------------------------------------------------------

def _counter(ctx: DeviceContext, rate: float, bits: int, base: float, wrap: bool) -> dict[str, object]:
    # A counter starts from 0 at boot; on a wrapping port it is set to reach 2^bits at ``wrap_at``.
    spec: dict[str, object] = {"k": "c", "r": rate, "cat": ctx.category, "base": base, "m": bits, "o": 0}
    spec |= ctx.boot
    if wrap and ctx.wrap_at is not None and "b" in ctx.boot:
        grown = dynamics.counter_increase(spec, ctx.boot["b"], ctx.wrap_at)
        spec["o"] = (1 << bits) - grown % (1 << bits)
    return spec


def _add_counter(ctx: DeviceContext, recs: Records, oid: str, tag: str, rate: float,
                 base: float = 0.2, wrap: bool = False) -> None:
    bits = 64 if tag == COUNTER64 else 32
    if rate <= 0:
        recs.add(oid, tag, 0)
    else:
        recs.dynamic(oid, tag, _counter(ctx, rate, bits, base, wrap))


def has_if_x_table(ctx: DeviceContext) -> bool:
    """About 2 % of the APs run old firmware: IF-MIB's ifTable only, 32-bit octet counters."""
    return not (ctx.kind is ProfileKind.AP and ctx.unit("old-firmware") < 0.02)


def alias_codec(ctx: DeviceContext) -> str:
    """Korean switches (Dasan) send their port descriptions in CP949, as such gear often does."""
    return "cp949" if _vendor(ctx.device).lower() == "dasan networks" else "utf-8"


def _interfaces(ctx: DeviceContext, recs: Records, ports: list[Port]) -> None:
    recs.add("1.3.6.1.2.1.2.1.0", INTEGER, len(ports))
    entry, xentry = oids.IF_ENTRY, oids.IF_X_ENTRY
    cols, xcols = oids.IF_TABLE_COLUMNS, oids.IF_X_TABLE_COLUMNS
    base = 0.1 if ctx.kind is ProfileKind.AP else 0.25
    for p in ports:
        i = p.index
        recs.add(f"{entry}.1.{i}", INTEGER, i)
        recs.add(f"{entry}.{cols['ifDescr']}.{i}", OCTETS, p.descr)
        recs.add(f"{entry}.{cols['ifType']}.{i}", INTEGER, p.if_type)
        recs.add(f"{entry}.5.{i}", GAUGE32, min(p.speed * 1_000_000, 4_294_967_295))  # ifSpeed
        recs.add(f"{entry}.{cols['ifAdminStatus']}.{i}", INTEGER, 1 if p.admin_up else 2)
        recs.add(f"{entry}.{cols['ifOperStatus']}.{i}", INTEGER, 1 if p.passing else 2)
        # the port last changed state when the device booted, or a little after
        recs.add(f"{entry}.{cols['ifLastChange']}.{i}", TIMETICKS, int(ctx.unit("lastchange", i) * 30_000))
        live = p.passing
        in_octets, out_octets = p.in_bps / 8 * live, p.out_bps / 8 * live
        _add_counter(ctx, recs, f"{entry}.{cols['ifInOctets']}.{i}", COUNTER32, in_octets, base)
        _add_counter(ctx, recs, f"{entry}.{cols['ifOutOctets']}.{i}", COUNTER32, out_octets, base)
        _add_counter(ctx, recs, f"{entry}.{cols['ifInDiscards']}.{i}", COUNTER32, p.in_discards * live, base)
        _add_counter(ctx, recs, f"{entry}.{cols['ifInErrors']}.{i}", COUNTER32, p.in_errors * live, base,
                     wrap=p.wraps)
        _add_counter(ctx, recs, f"{entry}.{cols['ifOutDiscards']}.{i}", COUNTER32, p.out_discards * live, base)
        _add_counter(ctx, recs, f"{entry}.{cols['ifOutErrors']}.{i}", COUNTER32, p.out_errors * live, base)

        if not has_if_x_table(ctx):
            continue
        recs.add(f"{xentry}.{xcols['ifName']}.{i}", OCTETS, p.name or p.descr)
        _add_counter(ctx, recs, f"{xentry}.{xcols['ifHCInOctets']}.{i}", COUNTER64, in_octets, base, wrap=p.wraps)
        _add_counter(ctx, recs, f"{xentry}.{xcols['ifHCInUcastPkts']}.{i}", COUNTER64,
                     in_octets / p.in_packet, base)
        _add_counter(ctx, recs, f"{xentry}.{xcols['ifHCOutOctets']}.{i}", COUNTER64, out_octets, base)
        _add_counter(ctx, recs, f"{xentry}.{xcols['ifHCOutUcastPkts']}.{i}", COUNTER64,
                     out_octets / p.out_packet, base)
        recs.add(f"{xentry}.{xcols['ifHighSpeed']}.{i}", GAUGE32, p.speed)
        if alias_codec(ctx) == "utf-8":
            recs.add(f"{xentry}.{xcols['ifAlias']}.{i}", OCTETS, p.alias)
        else:
            recs.add_octets(f"{xentry}.{xcols['ifAlias']}.{i}", p.alias.encode(alias_codec(ctx)))


def _gauge(ctx: DeviceContext, recs: Records, oid: str, tag: str, lo: float, hi: float, noise: float,
           *parts: object) -> None:
    recs.dynamic(oid, tag, {"k": "g", "lo": lo, "hi": hi, "n": noise, "cat": ctx.category,
                            "s": ctx.seed(oid, *parts), "min": 0})


def _host_resources(ctx: DeviceContext, recs: Records) -> None:
    host = ctx.kind is ProfileKind.HOST
    cpus = [196608 + k for k in range(4)] if host else [1]
    u = ctx.unit("load")
    for index in cpus:
        _gauge(ctx, recs, f"{oids.HR_PROCESSOR_LOAD}.{index}", INTEGER, 3 + 5 * u, 25 + 30 * u, 4)
    if host:
        storage = [(1, "ram", "Physical memory", 1024, 33_554_432, 0.35, 0.7),
                   (3, "virtual", "Virtual memory", 1024, 37_748_736, 0.3, 0.6),
                   (31, "disk", "/", 4096, 122_011_136, 0.41, 0.43)]
    else:
        # a stack: both members' flash is called "bootflash:" (same description, two rows)
        storage = [(1, "ram", "DRAM", 1024, 16_777_216, 0.38, 0.52),
                   (2, "flash", "bootflash:", 1024, 11_161_600, 0.31, 0.31),
                   (3, "flash", "bootflash:", 1024, 11_161_600, 0.27, 0.27)]
    entry, cols = oids.HR_STORAGE_ENTRY, oids.HR_STORAGE_COLUMNS
    for index, typ, descr, unit, size, lo, hi in storage:
        recs.add(f"{entry}.1.{index}", INTEGER, index)
        recs.add(f"{entry}.2.{index}", OID, HR_STORAGE_TYPES[typ])
        recs.add(f"{entry}.{cols['hrStorageDescr']}.{index}", OCTETS, descr)
        recs.add(f"{entry}.{cols['hrStorageAllocationUnits']}.{index}", INTEGER, unit)
        recs.add(f"{entry}.{cols['hrStorageSize']}.{index}", INTEGER, size)
        if lo == hi:
            recs.add(f"{entry}.{cols['hrStorageUsed']}.{index}", INTEGER, int(size * lo))
        else:
            _gauge(ctx, recs, f"{entry}.{cols['hrStorageUsed']}.{index}", INTEGER, size * lo, size * hi,
                   size * 0.01)


SENSOR_NAMES = ("CPU", "Inlet", "Outlet")


def _sensors(ctx: DeviceContext, recs: Records) -> None:
    """Celsius sensors (the second with precision 1: tenths of a degree) and a 12 V rail in mV."""
    entry, cols = oids.ENT_SENSOR_ENTRY, oids.ENT_SENSOR_COLUMNS
    count = 3 if ctx.device.role is DeviceRole.BACKBONE else 2
    for k in range(count):
        index = 1001 + k
        low = 30 + 8 * k + 4 * ctx.unit("temp", k)
        precision = 1 if k == 1 else 0
        factor = 10**precision
        recs.add(f"{entry}.{cols['entPhySensorType']}.{index}", INTEGER, oids.ENT_SENSOR_TYPE_CELSIUS)
        recs.add(f"{entry}.{cols['entPhySensorScale']}.{index}", INTEGER, 9)  # units
        recs.add(f"{entry}.{cols['entPhySensorPrecision']}.{index}", INTEGER, precision)
        _gauge(ctx, recs, f"{entry}.{cols['entPhySensorValue']}.{index}", INTEGER, low * factor, (low + 7) * factor,
               factor)
        recs.add(f"{entry}.{cols['entPhySensorOperStatus']}.{index}", INTEGER, 1)  # ok
        recs.add(f"{oids.ENT_PHYSICAL_NAME}.{index}", OCTETS, f"{SENSOR_NAMES[k]} temperature")
    index = 1100
    recs.add(f"{entry}.{cols['entPhySensorType']}.{index}", INTEGER, 4)  # voltsDC
    recs.add(f"{entry}.{cols['entPhySensorScale']}.{index}", INTEGER, 8)  # milli
    recs.add(f"{entry}.{cols['entPhySensorPrecision']}.{index}", INTEGER, 0)
    _gauge(ctx, recs, f"{entry}.{cols['entPhySensorValue']}.{index}", INTEGER, 11_900, 12_100, 20)
    recs.add(f"{entry}.{cols['entPhySensorOperStatus']}.{index}", INTEGER, 1)
    recs.add(f"{oids.ENT_PHYSICAL_NAME}.{index}", OCTETS, "PSU 12V")


def _vendor_resources(ctx: DeviceContext, recs: Records) -> None:
    """CPU and memory where HOST-RESOURCES-MIB is not what the device offers (configs/snmp.yaml)."""
    mib = ctx.profile.resource_mib.value
    u = ctx.unit("load")
    if mib == "cisco-process":
        _gauge(ctx, recs, f"{oids.CPM_CPU_TOTAL_5MIN_REV}.1", GAUGE32, 2 + 5 * u, 15 + 20 * u, 3)
        _gauge(ctx, recs, f"{oids.CPM_CPU_MEMORY_USED}.1", GAUGE32, 90_000, 140_000, 2_000)
        recs.add(f"{oids.CPM_CPU_MEMORY_FREE}.1", GAUGE32, 110_000)
    elif mib == "ucd":
        total = 8_388_608 if ctx.kind is ProfileKind.IPS else 262_144
        _gauge(ctx, recs, oids.UCD_CPU_IDLE, INTEGER, 55 - 20 * u, 95 - 10 * u, 3)
        recs.add(oids.UCD_MEM_TOTAL_REAL, INTEGER, total)
        _gauge(ctx, recs, oids.UCD_MEM_AVAIL_REAL, INTEGER, total * 0.3, total * 0.6, total * 0.01)


def _ap_clients(ctx: DeviceContext, recs: Records) -> None:
    column = ctx.profile.clients_oid
    if column is None:
        return
    cap = ap_capacity(ctx)
    vendor = ctx.profile.ap_vendor
    # Cisco indexes its radios by ifIndex (2, 3); UniFi by VAP (1, 2). 2.4 GHz takes fewer clients.
    rows = [(2, 0.35), (3, 0.65)] if vendor == "cisco" else [(1, 0.35), (2, 0.65)]
    tag = GAUGE32 if vendor == "cisco" else INTEGER
    for index, share in rows:
        recs.dynamic(f"{column}.{index}", tag, {"k": "cl", "cap": cap, "share": share, "cat": ctx.category,
                                                "s": ctx.seed("clients", index)})


def _ips(ctx: DeviceContext, recs: Records) -> None:
    ips = ctx.profile.ips_oids
    _gauge(ctx, recs, ips.sessions, GAUGE32, 900, 26_000, 400, "sessions")
    detected = 0.35 + 0.3 * ctx.unit("attacks")
    _add_counter(ctx, recs, ips.events_detected, COUNTER32, detected, base=0.6)
    _add_counter(ctx, recs, ips.events_blocked, COUNTER32, detected * 0.8, base=0.6)


def device_records(ctx: DeviceContext) -> Records:
    d = ctx.device
    recs = Records()
    recs.add(oids.SYS_DESCR, OCTETS, sys_descr(d))
    recs.add(oids.SYS_OBJECT_ID, OID, sys_object_id(d))
    recs.dynamic(oids.SYS_UPTIME, TIMETICKS, {"k": "u"} | ctx.boot)
    recs.add("1.3.6.1.2.1.1.4.0", OCTETS, "금천구 홍보디지털과 정보통신팀")  # sysContact
    recs.add(oids.SYS_NAME, OCTETS, d.name)
    recs.add("1.3.6.1.2.1.1.6.0", OCTETS, ctx.site.name)  # sysLocation
    recs.add("1.3.6.1.2.1.1.7.0", INTEGER, _SYS_SERVICES[d.role])
    _interfaces(ctx, recs, ports_of(ctx))
    if ctx.kind is ProfileKind.HOST:
        recs.dynamic(oids.HR_SYSTEM_UPTIME, TIMETICKS, {"k": "u"} | ctx.boot)
    if ctx.kind in (ProfileKind.SWITCH, ProfileKind.HOST):
        _host_resources(ctx, recs)
    if ctx.kind is ProfileKind.SWITCH:
        _sensors(ctx, recs)
    if ctx.kind is ProfileKind.AP:
        _ap_clients(ctx, recs)
    if ctx.kind is ProfileKind.IPS:
        _ips(ctx, recs)
    _vendor_resources(ctx, recs)
    # Past everything above, so that no walk of a polled table meets the end of the MIB view.
    recs.add(SNMP_ENGINE_ID, OCTETS + "x", engine_id(d))
    recs.add(SNMP_ENGINE_MAX_MESSAGE_SIZE, INTEGER, 1500)
    return recs


def boot_spec(device: Device, faults: Faults, epoch: float) -> dict[str, float]:
    """When the device booted: 3 to 200 days before the district's ``epoch``, or its reboot schedule."""
    reboot = faults.reboot.get(device.name)
    if reboot is not None:
        return {"rp": reboot.period, "ph": reboot.phase}
    days = 3 + _unit(device.name, "boot") * 200
    return {"b": float(int(epoch - days * 86400))}


def context_for(device: Device, inventory: Inventory, profiles: Mapping[str, Profile], faults: Faults,
                epoch: float) -> DeviceContext:
    profile = profiles[device.profile]
    site = inventory.site_by_id()[device.site]
    return DeviceContext(device=device, site=site, kind=profile.kind, profile=profile, inventory=inventory,
                         boot=boot_spec(device, faults, epoch), wrap_at=faults.wrap.get(device.name))


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` unless the file already holds it: an unchanged file keeps snmpsim's index valid."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return True


def read_snmprec(path: Path) -> dict[str, tuple[str, str]]:
    """``{oid: (tag, value)}`` of a data file, e.g. to recompute what an agent answers."""
    out: dict[str, tuple[str, str]] = {}
    for line in path.read_text(encoding="iso-8859-1").splitlines():
        if line:
            oid, tag, value = line.split("|", 2)
            out[oid] = (tag, value)
    return out


def expected_value(record: tuple[str, str], t: float) -> int | str:
    """What the agent serves for a record at wall time ``t``: dynamic values via the model."""
    tag, value = record
    if tag.endswith(f":{VARIATION}"):
        return dynamics.value_at(dynamics.parse_spec(value), t)
    if tag == OCTETS + "x":
        return bytes.fromhex(value).decode("utf-8", "replace")
    if tag in (INTEGER, COUNTER32, GAUGE32, TIMETICKS, COUNTER64):
        return int(value)
    return value
