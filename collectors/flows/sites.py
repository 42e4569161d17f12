"""Mapping flow addresses to the inventory's sites (longest prefix wins).

IPv4 prefixes are flattened into sorted, disjoint ranges so that a whole column of addresses
is mapped with one ``np.searchsorted``. IPv6 is rare in the district and mapped per distinct
address.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Iterable

import numpy as np

from nms.inventory.models import Inventory

EXTERNAL = ("external", "external")  # (site, category) of addresses outside every site subnet

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class SiteMap:
    """Index 0 is ``external``; index i > 0 is ``labels[i]`` = (site id, category)."""

    def __init__(self, entries: Iterable[tuple[str, str, Network]] = ()):
        self.labels: list[tuple[str, str]] = [EXTERNAL]
        index: dict[tuple[str, str], int] = {}
        v4: list[tuple[int, int, int, int]] = []  # (prefixlen, start, end, site index)
        v6: list[tuple[int, int, int, int]] = []
        for site, category, net in entries:
            label = (site, category)
            if label not in index:
                index[label] = len(self.labels)
                self.labels.append(label)
            item = (net.prefixlen, int(net.network_address), int(net.broadcast_address), index[label])
            (v4 if net.version == 4 else v6).append(item)
        self.starts, self.ends, self.sites = self._flatten(v4)
        self.v6 = sorted(v6, reverse=True)  # most specific first
        self._v6_cache: dict[bytes, int] = {}

    @classmethod
    def from_inventory(cls, inventory: Inventory) -> SiteMap:
        return cls((s.id, str(s.category), net) for s in inventory.sites for net in s.subnets)

    @staticmethod
    def _flatten(prefixes: list[tuple[int, int, int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Disjoint ranges where the most specific prefix decides. CIDR prefixes nest or are disjoint."""
        bounds = sorted({p[1] for p in prefixes} | {p[2] + 1 for p in prefixes})
        by_specific = sorted(prefixes, reverse=True)
        starts: list[int] = []
        ends: list[int] = []
        sites: list[int] = []
        for lo, hi in itertools.pairwise(bounds):
            site = next((p[3] for p in by_specific if p[1] <= lo <= p[2]), 0)
            if not site:
                continue
            if sites and sites[-1] == site and ends[-1] + 1 == lo:
                ends[-1] = hi - 1
            else:
                starts.append(lo)
                ends.append(hi - 1)
                sites.append(site)
        return (np.array(starts, dtype=np.uint32), np.array(ends, dtype=np.uint32),
                np.array(sites, dtype=np.int32))

    def lookup4(self, addresses: np.ndarray) -> np.ndarray:
        """Site index of each IPv4 address (uint32 column)."""
        if not len(self.starts):
            return np.zeros(len(addresses), dtype=np.int32)
        i = np.searchsorted(self.starts, addresses, side="right") - 1
        i_ok = np.maximum(i, 0)
        hit = (i >= 0) & (addresses <= self.ends[i_ok])
        return np.where(hit, self.sites[i_ok], 0)

    def lookup6(self, addresses: np.ndarray) -> np.ndarray:
        """Site index of each IPv6 address (V16 column)."""
        if not self.v6 or not len(addresses):
            return np.zeros(len(addresses), dtype=np.int32)
        unique, inverse = np.unique(addresses, return_inverse=True)
        return np.array([self.site6(u.tobytes()) for u in unique], dtype=np.int32)[inverse]

    def site6(self, packed: bytes) -> int:
        site = self._v6_cache.get(packed)
        if site is None:
            value = int.from_bytes(packed, "big")
            site = next((p[3] for p in self.v6 if p[1] <= value <= p[2]), 0)
            if len(self._v6_cache) > 100_000:
                self._v6_cache.clear()
            self._v6_cache[packed] = site
        return site

    def site_of(self, address: str) -> tuple[str, str]:
        ip = ipaddress.ip_address(address)
        if ip.version == 4:
            return self.labels[int(self.lookup4(np.array([int(ip)], dtype=np.uint32))[0])]
        return self.labels[self.site6(ip.packed)]
