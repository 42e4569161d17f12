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

#: column name -> information elements that can supply it, preferred first.
COLUMNS: dict[str, tuple[int, ...]] = {
    "bytes": (IE_BYTES, IE_TOTAL_BYTES),
    "packets": (IE_PACKETS, IE_TOTAL_PACKETS),
    "proto": (IE_PROTO,),
    "sport": (IE_SPORT,),
    "dport": (IE_DPORT,),
    "inif": (IE_INIF,),
    "outif": (IE_OUTIF,),
    "src4": (IE_SRC4,),
    "dst4": (IE_DST4,),
    "src6": (IE_SRC6,),
    "dst6": (IE_DST6,),
    "rate": (IE_SAMPLING_INTERVAL, IE_SAMPLER_RANDOM),
    "sampler": (IE_SAMPLER_ID, IE_SELECTOR_ID),
}
_ADDRESS_LEN = {"src4": 4, "dst4": 4, "src6": 16, "dst6": 16}


@dataclass(eq=False)
class Template:
    """One (options) template. Identity matters: a redefinition is a new object."""

    key: TemplateKey
    fields: tuple[tuple[int, int, int], ...]  # (information element, length, enterprise)
    scope_count: int = 0  # > 0: options template
    refreshed: float = 0.0
    record_length: int | None = None  # None: has variable-length fields
    offsets: dict[str, tuple[int, int]] = field(default_factory=dict)  # column -> (offset, length)
    slots: dict[str, int] = field(default_factory=dict)  # column -> index in fields
    dtype: np.dtype | None = None

    def __post_init__(self) -> None:
        starts = self._starts()
        for column, ies in COLUMNS.items():
            found = [(ies.index(ie), i) for i, (ie, length, enterprise) in enumerate(self.fields)
                     if enterprise == 0 and ie in ies and self._usable(column, length)]
            if found:
                index = min(found)[1]
                self.slots[column] = index
                start = starts[index]
                if start is not None:
                    self.offsets[column] = (start, self.fields[index][1])
        if all(length != VARIABLE for _, length, _ in self.fields):
            self.record_length = sum(length for _, length, _ in self.fields)
            self.dtype = self._dtype()

    def _starts(self) -> list[int | None]:
        out: list[int | None] = []
        offset: int | None = 0
        for _, length, _ in self.fields:
            out.append(offset)
            if length == VARIABLE or offset is None:
                offset = None
            else:
                offset += length
        return out

    @staticmethod
    def _usable(column: str, length: int) -> bool:
        if column in _ADDRESS_LEN:
            return length == _ADDRESS_LEN[column]
        return 1 <= length <= 8

    @property
    def is_options(self) -> bool:
        return self.scope_count > 0

    def _dtype(self) -> np.dtype:
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
    """Templates by key, with limits, withdrawal and expiry."""

    def __init__(self, limit: int, timeout: float):
        self.limit = limit
        self.timeout = timeout
        self.templates: dict[TemplateKey, Template] = {}

    def get(self, key: TemplateKey) -> Template | None:
        return self.templates.get(key)

    def add(self, template: Template) -> bool:
        """Store (or replace) a template. False when the store is full."""
        old = self.templates.get(template.key)
        if old is not None and old.fields == template.fields and old.scope_count == template.scope_count:
            old.refreshed = template.refreshed  # a refresh, not a redefinition
            return True
        if old is None and len(self.templates) >= self.limit:
            return False
        self.templates[template.key] = template
        return True

    def withdraw(self, key: TemplateKey) -> None:
        self.templates.pop(key, None)

    def withdraw_all(self, domain: DomainKey, options: bool) -> None:
        for key in [k for k, t in self.templates.items() if k[:3] == domain and t.is_options == options]:
            del self.templates[key]

    def expire(self, now: float) -> int:
        dead = [k for k, t in self.templates.items() if now - t.refreshed > self.timeout]
        for key in dead:
            del self.templates[key]
        return len(dead)

    def count_by_exporter(self) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for (exporter, _, _, _), t in self.templates.items():
            kind = "options" if t.is_options else "data"
            out[exporter, kind] = out.get((exporter, kind), 0) + 1
        return out


class PendingData:
    """Data sets whose template has not arrived yet: bounded in count and in time."""

    def __init__(self, limit: int, hold: float):
        self.limit = limit
        self.hold = hold
        self.sets: OrderedDict[TemplateKey, deque[tuple[float, bytes]]] = OrderedDict()
        self.count = 0
        self.nbytes = 0

    def add(self, key: TemplateKey, data: bytes, now: float) -> bool:
        """Hold one data set. False (nothing held) when the queue is full."""
        if self.count >= self.limit or self.hold <= 0:
            return False
        self.sets.setdefault(key, deque()).append((now, data))
        self.count += 1
        self.nbytes += len(data)
        return True

    def take(self, key: TemplateKey) -> list[bytes]:
        held = self.sets.pop(key, None)
        if not held:
            return []
        self.count -= len(held)
        self.nbytes -= sum(len(d) for _, d in held)
        return [d for _, d in held]

    def expire(self, now: float) -> int:
        """Drop what has waited longer than the hold time. Returns the number of sets dropped."""
        dropped = 0
        for key in list(self.sets):
            held = self.sets[key]
            while held and now - held[0][0] > self.hold:
                _, data = held.popleft()
                self.count -= 1
                self.nbytes -= len(data)
                dropped += 1
            if not held:
                del self.sets[key]
        return dropped
