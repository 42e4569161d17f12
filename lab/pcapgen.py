"""Synthetic packet captures for softflowd: the lab's traffic, the tests' and the benchmark's.

Packets are written with ``struct`` directly (scapy builds about 2,000 packets/s; this writes
hundreds of thousands per second). Only headers are captured: the IP total length carries the
size, so a large capture stays small on disk. The addresses are data for softflowd to read,
never a destination: softflowd sends its export to loopback only.

Timing is that of real traffic: flows arrive over the capture one after another (a Poisson
process) and each flow's packets follow each other a few milliseconds apart, so only a few
hundred flows are active at any moment. (Sending every flow's first packet, then every second
packet, and so on, kept every flow open for the whole capture: past softflowd's 8,192-entry flow
table, its forced expiry then split nearly every multi-packet flow, and 20,000 flows gave 37,183
records. Now they give about 20,050: a few UDP and ICMP flows are still split when finished flows
fill the table, and exactly 20,000 with softflowd ``-m 65536``.) TCP flows open with SYN (SYN-ACK
from the server side) and close with FIN-ACK, like real sessions.
"""

from __future__ import annotations

import ipaddress
import random
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nms.store import atomic_write_bytes

_PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)  # Ethernet
_REC = struct.Struct("<IIII")
_ETH4 = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
_ETH6 = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x86\xdd"
_IP4 = struct.Struct("!BBHHHBBH4s4s")
_IP6 = struct.Struct("!IHBB16s16s")
_TCP = struct.Struct("!HHIIBBHHH")
_UDP = struct.Struct("!HHHH")
_ICMP = struct.Struct("!BBHI")

#: (protocol, destination port) mix of the synthetic district: web, DNS, mail, VPN, VoIP, ...
SERVICES: tuple[tuple[int, int], ...] = (
    (6, 443), (6, 443), (6, 443), (6, 80), (17, 53), (6, 22), (17, 123), (6, 25),
    (17, 161), (17, 5060), (6, 3389), (17, 443), (6, 8080), (17, 1194), (6, 9100), (1, 0),
)
EXTERNAL4 = (ipaddress.ip_network("203.0.113.0/24"), ipaddress.ip_network("198.51.100.0/24"))
EXTERNAL6 = ipaddress.ip_network("2001:db8:ffff::/48")


@dataclass(frozen=True)
class Flow:
    """One unidirectional flow as softflowd will see it."""

    src: str
    dst: str
    proto: int
    sport: int
    dport: int
    packets: int
    size: int  # IP total length of each packet
    start_us: int = 0  # first packet, microseconds after the capture's start
    gap_us: int = 10  # between this flow's packets


_SYN, _FIN_ACK, _PSH_ACK, _SYN_ACK = 0x02, 0x11, 0x18, 0x12


def _tcp_flags(flow: Flow, index: int) -> int:
    if index == 0:
        return _SYN if flow.sport > flow.dport else _SYN_ACK  # the client talks from the higher port
    return _FIN_ACK if index == flow.packets - 1 else _PSH_ACK


def _packet(flow: Flow, index: int = 0) -> bytes:
    src = ipaddress.ip_address(flow.src)
    dst = ipaddress.ip_address(flow.dst)
    if flow.proto == 6:
        l4 = _TCP.pack(flow.sport, flow.dport, 1 + index, 0, 5 << 4, _tcp_flags(flow, index), 65535, 0, 0)
    elif flow.proto == 17:
        l4 = _UDP.pack(flow.sport, flow.dport, max(8, flow.size - 20), 0)
    elif flow.proto in (1, 58):
        l4 = _ICMP.pack(8 if flow.proto == 1 else 128, 0, 0, flow.sport)
    else:
        l4 = b""
    if src.version == 4:
        ip = _IP4.pack(0x45, 0, flow.size, 1, 0, 64, flow.proto, 0, src.packed, dst.packed)
        return _ETH4 + ip + l4
    ip = _IP6.pack(6 << 28, max(len(l4), flow.size - 40), flow.proto, 64, src.packed, dst.packed)
    return _ETH6 + ip + l4


def write_pcap(path: Path, flows: Iterable[Flow], start: float = 1_700_000_000.0) -> int:
    """Write every flow's packets in time order (by ``start_us`` and ``gap_us``). Returns the packet count."""
    flows = list(flows)
    events = sorted((f.start_us + k * f.gap_us, i, k) for i, f in enumerate(flows) for k in range(f.packets))
    base_us = int(start * 1_000_000)
    out = bytearray(_PCAP_HEADER)
    frames: dict[int, bytes] = {}  # open flows' frames (a UDP or ICMP flow repeats its headers)
    for t_us, i, k in events:
        flow = flows[i]
        if flow.proto == 6 or i not in frames:
            frames[i] = _packet(flow, k)
        frame = frames[i]
        t = base_us + t_us
        out += _REC.pack(t // 1_000_000, t % 1_000_000, len(frame), flow.size + 14)
        out += frame
        if k == flow.packets - 1:
            del frames[i]
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, bytes(out), mode=0o644)
    return len(events)


def _hosts(net: ipaddress.IPv4Network | ipaddress.IPv6Network, rng: random.Random) -> str:
    size = min(net.num_addresses - 2, 250) if net.num_addresses > 2 else 1
    return str(net.network_address + 1 + rng.randrange(max(1, size)))


def district_flows(subnets: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network], count: int,
                   seed: int = 1, ipv6_share: float = 0.0, max_packets: int = 20,
                   flows_per_s: float = 2000.0) -> list[Flow]:
    """``count`` distinct unidirectional flows between the sites' subnets and the outside world.

    Flows arrive at ``flows_per_s`` on average; each flow's packets are 0.5 to 30 ms apart.
    """
    rng = random.Random(seed)
    clock_us = 0.0
    nets4 = [n for n in subnets if n.version == 4] or [ipaddress.ip_network("10.0.0.0/24")]
    nets6 = [n for n in subnets if n.version == 6] or [ipaddress.ip_network("2001:db8:1::/64")]
    flows: list[Flow] = []
    seen: set[tuple[str, str, int, int, int]] = set()
    while len(flows) < count:
        v6 = rng.random() < ipv6_share
        inside = _hosts(rng.choice(nets6 if v6 else nets4), rng)
        outside = _hosts(EXTERNAL6 if v6 else rng.choice(EXTERNAL4), rng)
        proto, port = rng.choice(SERVICES)
        if v6 and proto == 1:
            proto = 58
        eph = rng.randrange(1024, 65535)
        if rng.random() < 0.6:  # upload/request: site -> outside
            src, dst, sport, dport = inside, outside, eph, port
        else:  # download/response: outside -> site
            src, dst, sport, dport = outside, inside, port, eph
        if proto in (1, 58):
            sport, dport = rng.randrange(1, 65535), 0
        # softflowd keys ICMP flows on type and code, not on the echo identifier: one echo flow per pair
        key = (src, dst, proto, 0, 0) if proto in (1, 58) else (src, dst, proto, sport, dport)
        if key in seen:
            continue
        seen.add(key)
        packets = 1 + int(rng.paretovariate(1.5)) % max_packets
        size = rng.choice((64, 120, 576, 1500, rng.randrange(60, 1500)))
        clock_us += rng.expovariate(flows_per_s) * 1_000_000
        gap_us = rng.randrange(500, 30_000)
        flows.append(Flow(src, dst, proto, sport, dport, packets, size, int(clock_us), gap_us))
    return flows
