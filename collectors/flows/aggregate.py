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


def _sums(keys: np.ndarray, nbytes: np.ndarray, npackets: np.ndarray, nflows: np.ndarray | None, size: int
          ) -> list[tuple[int, float, float, float]]:
    """(key, bytes, packets, flows) per key present. ``nflows`` None counts one flow per record.

    Dense ``bincount`` over the key space for large batches; over the distinct keys only for small
    ones (many exporters each send a few records per batch).
    """
    if size and len(keys) * 4 >= size:
        present = np.bincount(keys, minlength=size)
        nz = np.flatnonzero(present)
        b = np.bincount(keys, weights=nbytes, minlength=size)[nz]
        p = np.bincount(keys, weights=npackets, minlength=size)[nz]
        f = present[nz] if nflows is None else np.bincount(keys, weights=nflows, minlength=size)[nz]
    else:
        nz, inverse, present = np.unique(keys, return_inverse=True, return_counts=True)
        b = np.bincount(inverse, weights=nbytes, minlength=len(nz))
        p = np.bincount(inverse, weights=npackets, minlength=len(nz))
        f = present if nflows is None else np.bincount(inverse, weights=nflows, minlength=len(nz))
    return list(zip(nz.tolist(), b.tolist(), p.tolist(), f.tolist(), strict=True))


OBSERVED = {0: "ingress", 1: "egress"}


class Aggregator:
    """Counters by interface, protocol/service and site, plus the top talkers.

    A biflow record (RFC 5103) is one flow; its reverse bytes and packets are counted the other
    way round: sent by the destination, into the output interface and out of the input one. Its
    service is the forward record's, so a conversation stays under one service port.
    """

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
        # Per exporter (so that an evicted sender is forgotten at once): (domain, interface, direction)
        # and (domain, flowDirection) -> totals.
        self.interfaces: dict[str, dict[tuple[int, str, str], Totals]] = {}
        self.services: dict[tuple[int, int], Totals] = {}  # (protocol, port index) -> totals
        self.site_totals: dict[tuple[str, str, str], Totals] = {}
        self.observed: dict[str, dict[tuple[int, str], Totals]] = {}
        self._known_ifaces: dict[str, dict[int, set[int]]] = {}
        self.talkers = TopTalkers(settings.top_n, settings.top_window, settings.top_tracked,
                                  time.monotonic() if now is None else now)

    def set_sites(self, sites: SiteMap) -> None:
        self.sites = sites  # one reference swap: the decode thread sees the old or the new map

    def port_label(self, index: int) -> str:
        return str(self.ports[index - 1]) if index else "other"

    def forget(self, exporter: str) -> None:
        """Drop the per-exporter series of an evicted exporter."""
        with self.lock:
            for table in (self.interfaces, self.observed, self._known_ifaces):
                table.pop(exporter, None)

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
        service = proto * self.width + svc
        nflows = None if rec.flows is None else np.maximum(rec.flows, 1).astype(np.float64)
        halves = [(rec.src, rec.dst, rec.inif, rec.outif, nbytes, npackets, nflows, service)]
        if rec.rbytes is not None and rec.rpackets is not None:
            rb, rp = rec.rbytes.astype(np.float64), rec.rpackets.astype(np.float64)
            back = np.flatnonzero((rb > 0) | (rp > 0))
            if len(back):
                halves.append((rec.dst[back], rec.src[back], rec.outif[back], rec.inif[back], rb[back], rp[back],
                               np.zeros(len(back)), service[back]))
        totals = [self._add_half(rec, *half) for half in halves]
        if rec.observed is not None:
            self._add_observed(rec, nbytes, npackets, halves, totals)

    def _add_half(self, rec: Records, src: np.ndarray, dst: np.ndarray, inif: np.ndarray, outif: np.ndarray,
                  nbytes: np.ndarray, npackets: np.ndarray, nflows: np.ndarray | None, service: np.ndarray
                  ) -> tuple[float, float]:
        """Adds one direction of the records; returns its (bytes, packets) in all."""
        svc_sums = _sums(service, nbytes, npackets, nflows, 256 * self.width)
        # Sites: the sender's site (direction "out") and the receiver's ("in").
        sites = self.sites
        if rec.v6:
            src_site, dst_site = sites.lookup6(src), sites.lookup6(dst)
        else:
            src_site, dst_site = sites.lookup4(src), sites.lookup4(dst)
        size = len(sites.labels)
        out_sums = _sums(src_site, nbytes, npackets, nflows, size)
        in_sums = _sums(dst_site, nbytes, npackets, nflows, size)
        if_in = self._iface_sums(inif, nbytes, npackets, nflows)
        if_out = self._iface_sums(outif, nbytes, npackets, nflows)
        with self.lock:
            for k, b, p, f in svc_sums:
                _merge(self.services, divmod(k, self.width), b, p, f)
            for direction, cells in (("out", out_sums), ("in", in_sums)):
                for k, b, p, f in cells:
                    site, category = sites.labels[k]
                    _merge(self.site_totals, (site, category, direction), b, p, f)
            cells = self.interfaces.setdefault(rec.exporter, {})
            for direction, items in (("in", if_in), ("out", if_out)):
                for ifindex, b, p, f in items:
                    label = self._iface_label(rec.exporter, rec.domain, ifindex)
                    _merge(cells, (rec.domain, label, direction), b, p, f)
            if rec.v6:
                self.talkers.add6(src, nbytes)
            else:
                self.talkers.add4(src, nbytes)
        return sum(c[1] for c in svc_sums), sum(c[2] for c in svc_sums)

    def _add_observed(self, rec: Records, nbytes: np.ndarray, npackets: np.ndarray, halves: list,
                      totals: list[tuple[float, float]]) -> None:
        """Traffic by flowDirection (IE 61): whether the exporter saw it entering or leaving."""
        assert rec.observed is not None
        observed = rec.observed
        first = int(observed[0])
        if (observed == first).all():  # the usual case: one direction for the whole batch
            flows = len(observed) if halves[0][6] is None else float(halves[0][6].sum())
            cells = [(min(first, 2), sum(t[0] for t in totals), sum(t[1] for t in totals), flows)]
        else:
            observed = np.minimum(observed.astype(np.int64), 2)
            b = np.bincount(observed, weights=nbytes, minlength=3)
            p = np.bincount(observed, weights=npackets, minlength=3)
            f = np.bincount(observed, weights=halves[0][6], minlength=3)
            if len(halves) > 1:
                back = np.flatnonzero((rec.rbytes > 0) | (rec.rpackets > 0))
                b = b + np.bincount(observed[back], weights=halves[1][4], minlength=3)
                p = p + np.bincount(observed[back], weights=halves[1][5], minlength=3)
            cells = [(k, b[k], p[k], f[k]) for k in np.flatnonzero(f).tolist()]
        with self.lock:
            target = self.observed.setdefault(rec.exporter, {})
            for k, b, p, f in cells:
                _merge(target, (rec.domain, OBSERVED.get(k, "other")), b, p, f)

    @staticmethod
    def _iface_sums(ifaces: np.ndarray, nbytes: np.ndarray, npackets: np.ndarray, nflows: np.ndarray | None
                    ) -> list[tuple[int, float, float, float]]:
        top = int(ifaces.max()) if len(ifaces) else 0
        if top < 65536:
            return _sums(ifaces.astype(np.int64, copy=False), nbytes, npackets, nflows, top + 1)
        return _sums(ifaces, nbytes, npackets, nflows, 0)  # 32- or 64-bit ifIndex values: distinct keys only

    def _iface_label(self, exporter: str, domain: int, ifindex: int) -> str:
        known = self._known_ifaces.setdefault(exporter, {}).setdefault(domain, set())
        if ifindex in known:
            return str(ifindex)
        if len(known) < self.settings.max_interfaces:
            known.add(ifindex)
            return str(ifindex)
        return "other"

    def roll(self, now: float) -> None:
        with self.lock:
            self.talkers.roll(now)

    def snapshot(self, exporters: set[str] | None = None) -> dict[str, object]:
        """A consistent copy for a scrape; per-exporter series only of ``exporters`` when given."""
        with self.lock:
            return {
                "interfaces": {(e, *k): list(v) for e, cells in self.interfaces.items()
                               if exporters is None or e in exporters for k, v in cells.items()},
                "services": {(protocol_name(pr), self.port_label(i)): list(v)
                             for (pr, i), v in self.services.items()},
                "protocols": self.protocol_totals(),
                "sites": {k: list(v) for k, v in self.site_totals.items()},
                "observed": {(e, *k): list(v) for e, cells in self.observed.items()
                             if exporters is None or e in exporters for k, v in cells.items()},
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
