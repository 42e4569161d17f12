"""Aggregation of decoded records into bounded sets of counters.

Every dimension has a bounded set of values by design: exporters (limited by settings) ×
their interfaces (limited per exporter), 256 protocols × (configured ports + ``other``),
inventory sites, and N top talkers. Each batch is reduced with ``np.bincount`` and only the
non-zero cells are merged into Python integers, so the totals stay exact.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from collectors.flows.decoder import Records
from collectors.flows.settings import FlowSettings
from collectors.flows.sites import SiteMap
from collectors.flows.talkers import TopTalkers

PROTOCOLS = {1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 41: "ipv6", 47: "gre", 50: "esp", 51: "ah",
             58: "icmpv6", 89: "ospf", 103: "pim", 112: "vrrp", 132: "sctp"}
_PORTED = (6, 17, 132)  # protocols whose ports name a service

Totals = list[int]  # [bytes, packets, flows]


def protocol_name(number: int) -> str:
    return PROTOCOLS.get(number, str(number))


def _merge(target: dict, key: object, b: float, p: float, f: float) -> None:
    cell = target.get(key)
    if cell is None:
        target[key] = [round(b), round(p), round(f)]
    else:
        cell[0] += round(b)
        cell[1] += round(p)
        cell[2] += round(f)


def _sums(keys: np.ndarray, nbytes: np.ndarray, npackets: np.ndarray, size: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    flows = np.bincount(keys, minlength=size)
    nz = np.flatnonzero(flows)
    b = np.bincount(keys, weights=nbytes, minlength=size)
    p = np.bincount(keys, weights=npackets, minlength=size)
    return nz, b, p, flows


class Aggregator:
    """Counters by interface, protocol/service and site, plus the top talkers."""

    def __init__(self, settings: FlowSettings, sites: SiteMap | None = None, now: float | None = None):
        self.settings = settings
        self.sites = sites or SiteMap()
        self.ports = sorted(set(settings.ports))
        self._lut = np.zeros(65536, dtype=np.int64)
        for i, port in enumerate(self.ports):
            self._lut[port] = i + 1
        self._ported = np.zeros(256, dtype=bool)
        self._ported[list(_PORTED)] = True
        self.width = len(self.ports) + 1
        self.lock = threading.Lock()
        self.interfaces: dict[tuple[str, str, str], Totals] = {}
        self.services: dict[tuple[int, int], Totals] = {}  # (protocol, port index) -> totals
        self.site_totals: dict[tuple[str, str, str], Totals] = {}
        self._known_ifaces: dict[str, set[int]] = {}
        self.talkers = TopTalkers(settings.top_n, settings.top_window, settings.top_tracked,
                                  time.monotonic() if now is None else now)

    def set_sites(self, sites: SiteMap) -> None:
        self.sites = sites  # one reference swap: the decode thread sees the old or the new map

    def port_label(self, index: int) -> str:
        return str(self.ports[index - 1]) if index else "other"

    def add(self, rec: Records) -> None:
        n = len(rec)
        if not n:
            return
        nbytes = rec.bytes.astype(np.float64)
        npackets = rec.packets.astype(np.float64)
        # Protocol × service port. ``other`` unless TCP/UDP/SCTP with a configured port.
        proto = rec.proto.astype(np.int64, copy=False) & 0xFF
        dport = rec.dport.astype(np.int64, copy=False) & 0xFFFF
        sport = rec.sport.astype(np.int64, copy=False) & 0xFFFF
        svc = self._lut[dport]
        svc = np.where(svc > 0, svc, self._lut[sport])
        svc[~self._ported[proto]] = 0
        svc_sums = _sums(proto * self.width + svc, nbytes, npackets, 256 * self.width)
        # Sites: the sender's site (direction "out") and the receiver's ("in").
        sites = self.sites
        if rec.v6:
            src_site, dst_site = sites.lookup6(rec.src), sites.lookup6(rec.dst)
        else:
            src_site, dst_site = sites.lookup4(rec.src), sites.lookup4(rec.dst)
        size = len(sites.labels)
        out_sums = _sums(src_site, nbytes, npackets, size)
        in_sums = _sums(dst_site, nbytes, npackets, size)
        if_in = self._iface_sums(rec.inif, nbytes, npackets)
        if_out = self._iface_sums(rec.outif, nbytes, npackets)
        with self.lock:
            nz, b, p, f = svc_sums
            for k in nz.tolist():
                _merge(self.services, divmod(k, self.width), b[k], p[k], f[k])
            for direction, (nz, b, p, f) in (("out", out_sums), ("in", in_sums)):
                for k in nz.tolist():
                    site, category = sites.labels[k]
                    _merge(self.site_totals, (site, category, direction), b[k], p[k], f[k])
            for direction, items in (("in", if_in), ("out", if_out)):
                for ifindex, b, p, f in items:
                    _merge(self.interfaces, (rec.exporter, self._iface_label(rec.exporter, ifindex), direction),
                           b, p, f)
            if rec.v6:
                self.talkers.add6(rec.src, nbytes)
            else:
                self.talkers.add4(rec.src, nbytes)

    @staticmethod
    def _iface_sums(ifaces: np.ndarray, nbytes: np.ndarray, npackets: np.ndarray
                    ) -> list[tuple[int, float, float, float]]:
        if len(ifaces) and int(ifaces.max()) < 65536:
            keys = ifaces.astype(np.int64, copy=False)
            nz, b, p, f = _sums(keys, nbytes, npackets, 0)
            return [(k, b[k], p[k], f[k]) for k in nz.tolist()]
        unique, inverse = np.unique(ifaces, return_inverse=True)
        nz, b, p, f = _sums(inverse, nbytes, npackets, len(unique))
        return [(int(unique[k]), b[k], p[k], f[k]) for k in nz.tolist()]

    def _iface_label(self, exporter: str, ifindex: int) -> str:
        known = self._known_ifaces.setdefault(exporter, set())
        if ifindex in known:
            return str(ifindex)
        if len(known) < self.settings.max_interfaces:
            known.add(ifindex)
            return str(ifindex)
        return "other"

    def roll(self, now: float) -> None:
        with self.lock:
            self.talkers.roll(now)

    def snapshot(self) -> dict[str, object]:
        """A consistent copy for a scrape."""
        with self.lock:
            return {
                "interfaces": {k: list(v) for k, v in self.interfaces.items()},
                "services": {(protocol_name(pr), self.port_label(i)): list(v)
                             for (pr, i), v in self.services.items()},
                "protocols": self.protocol_totals(),
                "sites": {k: list(v) for k, v in self.site_totals.items()},
                "talkers": list(self.talkers.published),
                "window": self.talkers.window,
            }

    def protocol_totals(self) -> dict[str, Totals]:
        out: dict[str, Totals] = {}
        for (proto, _), (b, p, f) in self.services.items():
            cell = out.setdefault(protocol_name(proto), [0, 0, 0])
            cell[0] += b
            cell[1] += p
            cell[2] += f
        return out
