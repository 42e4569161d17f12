"""Templates of NetFlow v9 and IPFIX exporters, and the data waiting for them.

Templates are keyed by exporter address, protocol version, observation domain (v9: source ID)
and template ID, so two exporters (or two domains of one exporter) may use the same template ID
with different layouts. IPFIX templates can be withdrawn; all templates expire when they are not
refreshed within the template timeout. Data that arrives before its template is held in a bounded
queue for a short time and then dropped (and counted).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field

import numpy as np

VARIABLE = 0xFFFF  # IPFIX variable-length field

TemplateKey = tuple[str, int, int, int]  # exporter, version, domain, template id
DomainKey = tuple[str, int, int]  # exporter, version, domain

# Information elements (enterprise 0) the collector reads; everything else is skipped.
IE_BYTES, IE_PACKETS, IE_PROTO = 1, 2, 4
IE_SPORT, IE_SRC4, IE_INIF, IE_DPORT, IE_DST4, IE_OUTIF = 7, 8, 10, 11, 12, 14
IE_SRC6, IE_DST6 = 27, 28
IE_SAMPLING_INTERVAL, IE_SAMPLER_ID, IE_SAMPLER_RANDOM = 34, 48, 50
IE_TOTAL_BYTES, IE_TOTAL_PACKETS = 85, 86
IE_SELECTOR_ID, IE_SAMPLING_PKT_INTERVAL, IE_SAMPLING_PKT_SPACE = 302, 305, 306

IE_FLOWS = 3  # v9 FLOWS, IPFIX deltaFlowCount: flows aggregated into the record (nfdump's aggr_flows)
IE_FLOW_DIRECTION = 61
REVERSE_PEN = 29305  # RFC 5103: reverse information elements are the forward ones under this enterprise

#: column name -> (enterprise, information element) that can supply it, preferred first.
COLUMNS: dict[str, tuple[tuple[int, int], ...]] = {
    "bytes": ((0, IE_BYTES), (0, IE_TOTAL_BYTES)),
    "packets": ((0, IE_PACKETS), (0, IE_TOTAL_PACKETS)),
    "rbytes": ((REVERSE_PEN, IE_BYTES), (REVERSE_PEN, IE_TOTAL_BYTES)),
    "rpackets": ((REVERSE_PEN, IE_PACKETS), (REVERSE_PEN, IE_TOTAL_PACKETS)),
    "proto": ((0, IE_PROTO),),
    "sport": ((0, IE_SPORT),),
    "dport": ((0, IE_DPORT),),
    "inif": ((0, IE_INIF),),
    "outif": ((0, IE_OUTIF),),
    "src4": ((0, IE_SRC4),),
    "dst4": ((0, IE_DST4),),
    "src6": ((0, IE_SRC6),),
    "dst6": ((0, IE_DST6),),
    "direction": ((0, IE_FLOW_DIRECTION),),
    "flows": ((0, IE_FLOWS),),
    "rate": ((0, IE_SAMPLING_INTERVAL), (0, IE_SAMPLER_RANDOM)),
    "sampler": ((0, IE_SAMPLER_ID), (0, IE_SELECTOR_ID)),
}
_WHERE = {element: (column, rank) for column, elements in COLUMNS.items() for rank, element in enumerate(elements)}
# NetFlow v9 (RFC 3954) OUT_BYTES and OUT_PKTS: the other direction of a bidirectional record, as
# nfdump reads them and as nfreplay sends biflows. (In IPFIX, 23 and 24 are post-middlebox counters.)
IE_OUT_BYTES, IE_OUT_PKTS = 23, 24
_WHERE_V9 = {**_WHERE, (0, IE_OUT_BYTES): ("rbytes", 2), (0, IE_OUT_PKTS): ("rpackets", 2)}
_ADDRESS_LEN = {"src4": 4, "dst4": 4, "src6": 16, "dst6": 16}


@dataclass(eq=False)
class Template:
    """One (options) template. Identity matters: a redefinition is a new object.

    Building one is linear in its fields; the numpy dtype is built only when data arrives.
    """

    key: TemplateKey
    fields: tuple[tuple[int, int, int], ...]  # (information element, length, enterprise)
    scope_count: int = 0  # > 0: options template
    refreshed: float = 0.0
    record_length: int | None = None  # None: has variable-length fields
    offsets: dict[str, tuple[int, int]] = field(default_factory=dict)  # column -> (offset, length)
    slots: dict[str, int] = field(default_factory=dict)  # column -> index in fields
    _dtype: np.dtype | None = None

    def __post_init__(self) -> None:
        best: dict[str, tuple[int, int]] = {}  # column -> (preference, field index)
        where = _WHERE_V9 if self.key[1] == 9 else _WHERE
        offset: int | None = 0
        starts: list[int | None] = []
        for i, (ie, length, enterprise) in enumerate(self.fields):
            starts.append(offset)
            offset = None if length == VARIABLE or offset is None else offset + length
            found = where.get((enterprise, ie))
            if found is not None and self._usable(found[0], length):
                column, rank = found
                if column not in best or rank < best[column][0]:
                    best[column] = (rank, i)
        for column, (_, index) in best.items():
            self.slots[column] = index
            start = starts[index]
            if start is not None:
                self.offsets[column] = (start, self.fields[index][1])
        self.record_length = offset

    @staticmethod
    def _usable(column: str, length: int) -> bool:
        if column in _ADDRESS_LEN:
            return length == _ADDRESS_LEN[column]
        return 1 <= length <= 8

    @property
    def is_options(self) -> bool:
        return self.scope_count > 0

    @property
    def dtype(self) -> np.dtype | None:
        if self._dtype is None and self.record_length:
            self._dtype = self._build_dtype()
        return self._dtype

    def _build_dtype(self) -> np.dtype:
        names, formats, offsets = [], [], []
        for column, (offset, length) in self.offsets.items():
            names.append(column)
            offsets.append(offset)
            if column in ("src6", "dst6"):
                formats.append("V16")
            elif length in (1, 2, 4, 8):
                formats.append(f">u{length}")
            else:
                formats.append(("u1", (length,)))
        assert self.record_length is not None
        return np.dtype({"names": names, "formats": formats, "offsets": offsets,
                         "itemsize": max(self.record_length, 1)})


class TemplateStore:
    """Templates by key, with a limit in all and one per exporter, withdrawal and expiry."""

    def __init__(self, limit: int, timeout: float, per_exporter: int | None = None):
        self.limit = limit
        self.timeout = timeout
        self.per_exporter = per_exporter or limit
        self.templates: dict[TemplateKey, Template] = {}
        self._owned: dict[str, set[TemplateKey]] = {}  # exporter -> its template keys

    def get(self, key: TemplateKey) -> Template | None:
        return self.templates.get(key)

    def add(self, template: Template) -> str | None:
        """Store (or replace) a template. Returns why it was not stored (None: stored)."""
        key = template.key
        old = self.templates.get(key)
        if old is not None and old.fields == template.fields and old.scope_count == template.scope_count:
            old.refreshed = template.refreshed  # a refresh, not a redefinition
            return None
        if old is None:
            owned = self._owned.get(key[0])
            if owned is not None and len(owned) >= self.per_exporter:
                return "exporter_template_limit"
            if len(self.templates) >= self.limit:
                return "template_limit"
            if owned is None:
                self._owned[key[0]] = owned = set()
            owned.add(key)
        self.templates[key] = template
        return None

    def _drop(self, key: TemplateKey) -> None:
        if self.templates.pop(key, None) is not None:
            owned = self._owned.get(key[0])
            if owned is not None:
                owned.discard(key)
                if not owned:
                    del self._owned[key[0]]

    def withdraw(self, key: TemplateKey) -> None:
        self._drop(key)

    def withdraw_all(self, domain: DomainKey, options: bool) -> None:
        for key in [k for k in self._owned.get(domain[0], ()) if k[:3] == domain
                    and self.templates[k].is_options == options]:
            self._drop(key)

    def forget(self, exporter: str) -> None:
        """Every template of an exporter (it was evicted)."""
        for key in self._owned.pop(exporter, ()):
            self.templates.pop(key, None)

    def owned(self, exporter: str) -> int:
        return len(self._owned.get(exporter, ()))

    def expire(self, now: float) -> int:
        dead = [k for k, t in self.templates.items() if now - t.refreshed > self.timeout]
        for key in dead:
            self._drop(key)
        return len(dead)

    def count_by_exporter(self) -> dict[tuple[str, int, str], int]:
        """Templates by (exporter, observation domain, kind)."""
        out: dict[tuple[str, int, str], int] = {}
        for (exporter, _, domain, _), t in self.templates.items():
            key = (exporter, domain, "options" if t.is_options else "data")
            out[key] = out.get(key, 0) + 1
        return out


class PendingData:
    """Data sets whose template has not arrived yet: bounded in count, in bytes (in all and per
    exporter) and in time."""

    def __init__(self, limit: int, hold: float, max_bytes: int = 1 << 62, per_exporter_bytes: int = 1 << 62):
        self.limit = limit
        self.hold = hold
        self.max_bytes = max_bytes
        self.per_exporter_bytes = per_exporter_bytes
        self.sets: OrderedDict[TemplateKey, deque[tuple[float, bytes]]] = OrderedDict()
        self.count = 0
        self.nbytes = 0
        self.by_exporter: dict[str, int] = {}  # bytes held per exporter
        self._keys: dict[str, set[TemplateKey]] = {}  # exporter -> keys with data held

    def add(self, key: TemplateKey, data: bytes, now: float) -> bool:
        """Hold one data set. False (nothing held) when a limit would be passed."""
        size = len(data)
        held = self.by_exporter.get(key[0], 0)
        if (self.count >= self.limit or self.hold <= 0 or self.nbytes + size > self.max_bytes
                or held + size > self.per_exporter_bytes):
            return False
        queue = self.sets.get(key)
        if queue is None:
            self.sets[key] = queue = deque()
            self._keys.setdefault(key[0], set()).add(key)
        queue.append((now, data))
        self.count += 1
        self.nbytes += size
        self.by_exporter[key[0]] = held + size
        return True

    def _release(self, key: TemplateKey, n: int, size: int) -> None:
        self.count -= n
        self.nbytes -= size
        left = self.by_exporter.get(key[0], 0) - size
        if left > 0:
            self.by_exporter[key[0]] = left
        else:
            self.by_exporter.pop(key[0], None)

    def _unkey(self, key: TemplateKey) -> None:
        keys = self._keys.get(key[0])
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._keys[key[0]]

    def take(self, key: TemplateKey) -> list[bytes]:
        held = self.sets.pop(key, None)
        if held is None:
            return []
        self._unkey(key)
        self._release(key, len(held), sum(len(d) for _, d in held))
        return [d for _, d in held]

    def forget(self, exporter: str) -> int:
        """Drop everything an exporter holds (it was evicted). Returns the number of sets dropped."""
        dropped = 0
        for key in list(self._keys.get(exporter, ())):
            dropped += len(self.take(key))
        return dropped

    def expire(self, now: float) -> int:
        """Drop what has waited longer than the hold time. Returns the number of sets dropped."""
        dropped = 0
        for key in list(self.sets):
            held = self.sets[key]
            while held and now - held[0][0] > self.hold:
                _, data = held.popleft()
                self._release(key, 1, len(data))
                dropped += 1
            if not held:
                del self.sets[key]
                self._unkey(key)
        return dropped
