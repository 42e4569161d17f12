"""Top talkers: bytes sent per source address over a window, the top N published at its end.

Per batch, (address, bytes) columns are only appended; they are reduced with one sort when
enough has piled up, and at the end of the window. Memory is bounded: beyond ``tracked``
distinct addresses the smallest are dropped, which makes the ranking approximate only when a
window sees more hosts than that.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

_COMPACT_AT = 2_000_000


@dataclass
class TalkerTable:
    """Bytes per source address in one complete window (``index``: window start / window length)."""

    index: int
    keys4: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint32))
    sums4: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    v6: dict[bytes, float] = field(default_factory=dict)


def top_of(tables: Iterable[TalkerTable], n: int) -> list[tuple[str, int]]:
    """The top ``n`` of the union of tables (e.g. one per receive process, all of one window)."""
    tables = list(tables)
    top: list[tuple[float, str]] = []
    keys = [t.keys4 for t in tables if len(t.keys4)]
    if keys and n:
        unique, inverse = np.unique(np.concatenate(keys), return_inverse=True)
        sums = np.bincount(inverse, weights=np.concatenate([t.sums4 for t in tables if len(t.keys4)]),
                           minlength=len(unique))
        k = min(n, len(unique))
        idx = np.argpartition(sums, -k)[-k:]
        top = [(float(sums[i]), str(ipaddress.IPv4Address(int(unique[i])))) for i in idx]
    v6: dict[bytes, float] = {}
    for t in tables:
        for key, value in t.v6.items():
            v6[key] = v6.get(key, 0.0) + value
    top += [(v, str(ipaddress.IPv6Address(k6))) for k6, v in sorted(v6.items(), key=lambda kv: kv[1], reverse=True)[:n]]
    top.sort(key=lambda t: (-t[0], t[1]))
    return [(addr, round(v)) for v, addr in top[:n]]


class TopTalkers:
    def __init__(self, n: int, window: float, tracked: int, now: float):
        self.n = n
        self.window = window
        self.tracked = tracked
        self.window_start = now - now % window  # aligned, so that receive processes share windows
        self.tables: deque[TalkerTable] = deque(maxlen=2)  # the last complete windows, newest last
        self._keys: list[np.ndarray] = []
        self._vals: list[np.ndarray] = []
        self._pending = 0
        self._v6: dict[bytes, float] = {}
        self.published: list[tuple[str, int]] = []  # (address, bytes) of the last complete window

    def add4(self, src: np.ndarray, nbytes: np.ndarray) -> None:
        if not self.n:
            return
        self._keys.append(src.astype(np.uint32, copy=False))
        self._vals.append(nbytes.astype(np.float64, copy=False))
        self._pending += len(src)
        if self._pending > _COMPACT_AT:
            self._compact()

    def add6(self, src: np.ndarray, nbytes: np.ndarray) -> None:
        if not self.n:
            return
        unique, inverse = np.unique(src, return_inverse=True)
        sums = np.bincount(inverse, weights=nbytes.astype(np.float64), minlength=len(unique))
        table = self._v6
        for key, value in zip(unique, sums, strict=True):
            packed = key.tobytes()
            table[packed] = table.get(packed, 0.0) + value
        if len(table) > self.tracked:
            keep = sorted(table.items(), key=lambda kv: kv[1], reverse=True)[: self.tracked // 2]
            self._v6 = dict(keep)

    def _compact(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._keys:
            return np.zeros(0, np.uint32), np.zeros(0, np.float64)
        keys = np.concatenate(self._keys) if len(self._keys) > 1 else self._keys[0]
        vals = np.concatenate(self._vals) if len(self._vals) > 1 else self._vals[0]
        unique, inverse = np.unique(keys, return_inverse=True)
        sums = np.bincount(inverse, weights=vals, minlength=len(unique))
        if len(unique) > self.tracked:
            keep = np.argpartition(sums, -self.tracked)[-self.tracked:]
            unique, sums = unique[keep], sums[keep]
        self._keys, self._vals, self._pending = [unique], [sums], len(unique)
        return unique, sums

    def roll(self, now: float) -> bool:
        """Close the window if its time is up. True when a new top N was published."""
        if now - self.window_start < self.window:
            return False
        keys, sums = self._compact()
        table = TalkerTable(round(self.window_start / self.window), keys, sums, self._v6)
        self.tables.append(table)
        self.published = top_of([table], self.n)
        self._keys, self._vals, self._pending, self._v6 = [], [], 0, {}
        elapsed = now - self.window_start
        self.window_start += self.window * (elapsed // self.window)
        return True

    def current(self) -> list[tuple[str, int]]:
        """Top N of the window so far."""
        keys, sums = self._compact()
        return top_of([TalkerTable(0, keys, sums, self._v6)], self.n)
